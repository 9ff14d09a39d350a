// A receipt in words (pure): why a token was minted or refused, from the receipt's details and the
// decision trail dispatch stored with it (trail.ts). `consulate explain` prints it, GET
// /receipts/<id> returns it as JSON. Reads what the receipt holds and nothing else; a receipt of
// another kind (a login, a revocation…) gets a plain summary of its details.
import type { AuditRecord } from '../store/ports.ts';
import type { Trail } from './trail.ts';

export type Explanation = {
  receipt: string;
  event: string;
  /** ISO time the receipt was written. */
  at: string;
  outcome: 'issued' | 'refused' | 'pending' | 'recorded';
  summary: string;
  /** The step that decided: for a refusal the one that failed and its rule; for an issuance the last gate passed. */
  decided?: { step: string; rule?: string };
  lines: string[];
};

/** What the renderer may add that the receipt does not hold (the CLI knows the person's e-mail). */
export type Names = { person?: string | undefined };

const grantWords: Readonly<Record<string, string>> = {
  client_credentials: 'client credentials',
  authorization_code: 'authorization code',
  refresh_token: 'refresh token',
  'urn:ietf:params:oauth:grant-type:token-exchange': 'token exchange',
  'urn:ietf:params:oauth:grant-type:jwt-bearer': 'JWT bearer',
  'urn:openid:params:grant-type:ciba': 'CIBA',
  'urn:ietf:params:oauth:grant-type:device_code': 'device code',
  ciba: 'CIBA',
  device_code: 'device code',
};

const resourceWords: Readonly<Record<string, string>> = {
  asked: 'asked for',
  client_default: "the client's default resource",
  only_allowed: 'the only resource the client may use',
  subject_token: "the subject token's own audience",
  assertion: 'the one the assertion names',
  grant: 'the one the person granted',
  approved: 'the one the approved request named',
};

const dropWords: Readonly<Record<string, string>> = {
  no_longer_allowed_for_client: 'no longer allowed for the client',
  not_allowed_by_client_policy: "not allowed by the client's policy",
};

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
const isoSeconds = (seconds: number): string => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function explainReceipt(record: AuditRecord, names: Names = {}): Explanation {
  const { details } = record;
  const trail = (details.trail && typeof details.trail === 'object' ? details.trail : {}) as Partial<Trail>;
  const at = new Date(record.atMs).toISOString();
  const base = { receipt: record.id, event: record.event, at };
  const grant = str(details.grant_type);
  const grantName = grant !== undefined ? (grantWords[grant] ?? grant) : undefined;
  const client = record.clientId ?? 'an unknown client';
  const person = record.subject === undefined ? undefined : names.person ? `${names.person} (sub ${record.subject})` : `sub ${record.subject}`;

  if (record.event === 'passport.issued' || record.event === 'passport.exchanged' || record.event === 'id_jag.issued') {
    const forWhom = record.subject === record.clientId && details.act === undefined ? 'itself' : (person ?? 'nobody named');
    const what = record.event === 'id_jag.issued' ? 'ID-JAG' : 'Passport';
    const summary = `${what} issued to ${client} for ${forWhom} at ${str(details.aud) ?? '?'}${grantName ? ` (${grantName})` : ''}`;
    return { ...base, outcome: 'issued', summary, decided: issuedBy(trail, grant), lines: trailLines(trail, details, true) };
  }
  if (record.event === 'passport.paused') {
    const reason = str(details.reason);
    const summary = `Not yet: ${client}'s ${grantName ?? 'token'} request is waiting for approval${str(details.approval) ? ` ${str(details.approval)}` : ''}`;
    const lines = trailLines(trail, details, false);
    lines.push(`paused at step grant.obligations${reason ? `, rule/reason ${reason}` : ''} (the client was told "authorization_pending" and the auth_req_id to poll with)`);
    return { ...base, outcome: 'pending', summary, decided: { step: 'grant.obligations', ...(reason ? { rule: reason } : {}) }, lines };
  }
  if (record.event === 'passport.denied') {
    const error = str(details.error) ?? 'refused';
    const reason = str(details.reason);
    const step = trail.refused ? `${trail.refused.step}${trail.refused.at ? `.${trail.refused.at}` : ''}` : 'unknown';
    const pending = error === 'authorization_pending' || error === 'slow_down';
    const summary = pending
      ? `Not yet: ${client}'s ${grantName ?? 'token'} request is waiting for approval (${error})`
      : `Refused: ${client}'s ${grantName ?? 'token'} request, ${error} at step ${step}${reason ? ` (${reason})` : ''}`;
    const lines = trailLines(trail, details, false);
    lines.push(`${pending ? 'stopped' : 'refused'} at step ${step}: ${error}${reason ? `, rule/reason ${reason}` : ''} (the client was told only "${error}")`);
    return { ...base, outcome: pending ? 'pending' : 'refused', summary, decided: { step, ...(reason ? { rule: reason } : {}) }, lines };
  }
  const summary = `${record.event}${record.clientId ? ` by ${record.clientId}` : ''}${person ? ` for ${person}` : ''}`;
  const lines = Object.entries(details).map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return { ...base, outcome: 'recorded', summary, lines };
}

/** A receipt as the JSON outputs show it (GET /receipts/<id> too): the chained fields, snake_case. */
export function receiptJson(record: AuditRecord) {
  return {
    id: record.id,
    seq: record.seq,
    at: new Date(record.atMs).toISOString(),
    event: record.event,
    ...(record.clientId !== undefined ? { client_id: record.clientId } : {}),
    ...(record.subject !== undefined ? { subject: record.subject } : {}),
    ...(record.tokenJti !== undefined ? { token_jti: record.tokenJti } : {}),
    details: record.details,
    hash: record.hash,
  };
}

/** The last gate an issuance passed: an approval, a policy rule, the delegation policy, or the person's own grant. */
function issuedBy(trail: Partial<Trail>, grant: string | undefined): Explanation['decided'] {
  if (trail.approval?.approved_by?.length) return { step: 'grant.approval', rule: trail.approval.id };
  if (trail.obligation) return { step: 'grant.obligations', rule: `${trail.obligation.policy}/${trail.obligation.rule}` };
  if (trail.delegation) return { step: 'grant.delegation_policy', rule: trail.delegation.verdict };
  if (grant === 'authorization_code') return { step: 'grant.code', rule: 'granted at /authorize' };
  if (grant === 'refresh_token') return { step: 'grant.refresh_token', rule: 'granted at /authorize' };
  return undefined;
}

function trailLines(trail: Partial<Trail>, details: Record<string, unknown>, issued: boolean): string[] {
  const lines: string[] = [];
  if (trail.client_auth) lines.push(`client authentication: ${trail.client_auth}`);
  if (str(details.assertion_issuer)) lines.push(`assertion: ${str(details.assertion_kind) ?? 'JWT'} from trusted issuer ${str(details.assertion_issuer)}`);
  if (str(details.assertion_iss)) lines.push(`assertion issued by ${str(details.assertion_iss)}${str(details.assertion_receipt) ? `, its receipt there ${str(details.assertion_receipt)}` : ''}`);
  if (str(details.subject_origin)) {
    const of = [str(details.subject_jti) ? `token jti ${str(details.subject_jti)}` : '', str(details.subject_receipt) ? `its receipt ${str(details.subject_receipt)}` : ''].filter(Boolean).join(', ');
    lines.push(`subject from: ${str(details.subject_origin)}${of ? ` (${of})` : ''}`);
  }
  if (trail.resource) lines.push(`resource ${trail.resource.id}: ${resourceWords[trail.resource.by] ?? trail.resource.by}`);
  if (str(details.client_id_at_aud)) lines.push(`client there: ${str(details.client_id_at_aud)}`);
  if (trail.scopes) {
    const asked = trail.scopes.asked.length ? trail.scopes.asked.join(' ') : 'none named (all the client may have)';
    const dropped = Object.entries(trail.scopes.dropped ?? {}).map(([scope, why]) => `${scope} dropped: ${dropWords[why] ?? why}`);
    lines.push(issued ? `scopes: ${str(details.scope) || '(none)'} (asked: ${asked}${dropped.length ? `; ${dropped.join('; ')}` : ''})` : `scopes asked: ${asked}`);
  }
  const types = strings(details.authorization_details_types);
  if (types.length) lines.push(`authorization details accepted: ${types.join(', ')}`);
  if (trail.delegation) {
    const chain = trail.delegation.chain?.length ? `; actor chain ${trail.delegation.chain.join(' → ')} (current actor first)` : '; the client acting for itself';
    lines.push(`delegation policy: ${trail.delegation.verdict}${chain}`);
  }
  if (str(details.did)) lines.push(`delegation ${str(details.did)}${details.new_delegation === true ? ' (started here)' : ' (joined)'}`);
  if (trail.obligation) {
    const o = trail.obligation;
    const outcome = o.outcome === 'allow' ? 'allowed' : o.outcome === 'deny' ? 'denied' : `required ${(o.requires ?? []).join(' and ') || 'obligations'}`;
    lines.push(`obligation: policy ${o.policy}, rule ${o.rule}: ${outcome}`);
  }
  if (trail.approval) {
    const a = trail.approval;
    const decided = [a.approved_by?.length ? `approved by ${a.approved_by.join(', ')}` : '', a.denied_by?.length ? `denied by ${a.denied_by.join(', ')}` : ''].filter(Boolean).join('; ');
    lines.push(`approval ${a.id} (approvers: ${a.approvers}): ${decided || 'no decision yet'}`);
  }
  const jkt = str(details.dpop_jkt) ?? trail.dpop_jkt;
  if (jkt) lines.push(`DPoP: ${issued ? 'bound to' : 'proof made with'} key jkt ${jkt}`);
  else if (issued && details.dpop_jkt === null) lines.push('DPoP: not bound (Bearer)');
  if (trail.mapping) {
    const m = trail.mapping;
    const claims = Object.entries(m.claims).map(([claim, rule]) => `${claim} ← ${rule}`);
    lines.push(`identity: rule set ${m.rule_set ?? '?'} of upstream ${m.upstream}${m.orig_iss ? ` (orig_iss ${m.orig_iss})` : ''}: ${claims.join(', ')}`);
  }
  if (issued && typeof details.exp === 'number') lines.push(`expires ${isoSeconds(details.exp)}`);
  return lines;
}
