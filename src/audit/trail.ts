// The decision trail of one token request (issue 20 §2): what each step decided, collected while
// grants/dispatch.ts and the grant run, and stored compactly in the receipt's details as `trail`,
// so that `consulate explain` and GET /receipts/<id> can say why a token was, or was not, minted.
// One mutable record per request, passed in the grant context; each step writes what it decided
// from values it already holds: no store reads, and no tokens, assertions, secrets or claim
// values — ids, names and short codes only (the person is the receipt's subject column).
import type { ClaimTrace } from '../claims/types.ts';
import type { Config } from '../config/load.ts';
import { ruleSetIdOf } from '../config/mappings.ts';
import type { ClientConfig } from '../config/schema.ts';
import { stepUpOf } from '../obligations/step-up.ts';
import type { PolicyDecision, StepUp } from '../obligations/types.ts';
import type { ApprovalRecord } from '../store/ports.ts';

/** The dispatch's steps after client authentication (grants/dispatch.ts); a refusal names one. */
export type DispatchStep = 'check_client' | 'verify_dpop' | 'grant' | 'receipt';

/** The grants' own steps, by the names their numbered comments use. */
export type GrantStep =
  | 'parameters'
  | 'code'
  | 'refresh_token'
  | 'approval'
  | 'subject_token'
  | 'actor_token'
  | 'subject_source'
  | 'assertion'
  | 'mapping'
  | 'audience'
  | 'resource'
  | 'scopes'
  | 'authorization_details'
  | 'dpop_binding'
  | 'delegation_policy'
  | 'obligations'
  | 'family'
  | 'delegation'
  | 'mint';

/** Where the one resource (audience) came from. */
export type ResourceChoice = 'asked' | 'client_default' | 'only_allowed' | 'subject_token' | 'assertion' | 'grant' | 'approved';

/** A policy of config/policies/ that decided: its file id, its rule (`default`: none matched), and what it required. */
export type TrailObligation = { policy: string; rule: string; outcome: 'allow' | 'deny' | 'obligations'; requires?: string[] };

/** Which canonical claims came from which rule of which rule set (claims/): names and rule ids, no values. */
export type TrailMapping = { upstream: string; rule_set?: string; orig_iss?: string; claims: Record<string, string> };

export type Trail = {
  /** How the client authenticated (client_secret_basic, private_key_jwt, none…). */
  client_auth: string;
  /** The grant's step running now; kept on a refusal only. */
  at?: GrantStep | undefined;
  /**
   * Who is represented, once the grant has checked the client may know (its own code, refresh token
   * or request): a refusal's receipt gets it as its subject column, so that person can read it too.
   * Not stored in the trail.
   */
  subject?: string | undefined;
  resource?: { id: string; by: ResourceChoice };
  /** Scopes asked for (empty: none named); `dropped`: scope → why it was left out. */
  scopes?: { asked: string[]; dropped?: Record<string, string> };
  /** The delegation policy's verdict (`allowed`, or its reason) and the actor chain, current actor first. */
  delegation?: { verdict: string; chain?: string[] };
  obligation?: TrailObligation;
  approval?: { id: string; approvers: string; approved_by?: string[]; denied_by?: string[] };
  /** Thumbprint of the request's valid DPoP proof key (public). */
  dpop_jkt?: string;
  mapping?: TrailMapping;
  /** Set by dispatch on a refusal: the dispatch step and, inside the grant, the grant's step. */
  refused?: { step: DispatchStep; at?: GrantStep };
};

export const newTrail = (clientAuth: string): Trail => ({ client_auth: clientAuth });

/** The resource a grant chose: asked, else the client's default, else its only one. */
export function resourceChoice(asked: readonly string[], client: Pick<ClientConfig, 'default_resource'>): ResourceChoice {
  if (asked.length) return 'asked';
  return client.default_resource !== undefined ? 'client_default' : 'only_allowed';
}

/** "step_up acr=mfa max_age=300", "consent subject": what an obligation asks, in short codes. */
export function requirementsOf(stepUp: StepUp | undefined, consent: { approvers: unknown } | undefined): string[] {
  const out: string[] = [];
  if (consent) out.push(`consent ${approversWord(consent.approvers)}`);
  if (stepUp) out.push(['step_up', stepUp.acr !== undefined ? `acr=${stepUp.acr}` : '', stepUp.maxAge !== undefined ? `max_age=${stepUp.maxAge}` : ''].filter(Boolean).join(' '));
  return out;
}

function approversWord(approvers: unknown): string {
  if (typeof approvers === 'string') return approvers;
  if (approvers && typeof approvers === 'object') {
    const [kind] = Object.keys(approvers);
    const group = (approvers as { dual?: { group?: unknown } }).dual?.group;
    return kind === 'dual' && typeof group === 'string' ? `dual group=${group}` : (kind ?? 'unknown');
  }
  return 'unknown';
}

/** The policies' decision as the trail keeps it; undefined when no policy file decided anything. */
export function obligationOf(decision: PolicyDecision): TrailObligation | undefined {
  if (decision.policy === undefined || decision.rule === undefined) return undefined;
  const requires = decision.decision === 'obligations' ? requirementsOf(decision.stepUp, decision.consent) : [];
  return { policy: decision.policy, rule: decision.rule, outcome: decision.decision, ...(requires.length ? { requires } : {}) };
}

/** A stored trail obligation (an approval's request keeps one), read back defensively. */
export function readObligation(value: unknown): TrailObligation | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const { policy, rule, outcome, requires } = value as Record<string, unknown>;
  if (typeof policy !== 'string' || typeof rule !== 'string' || (outcome !== 'allow' && outcome !== 'deny' && outcome !== 'obligations')) return undefined;
  const list = Array.isArray(requires) ? requires.filter((r): r is string => typeof r === 'string') : [];
  return { policy, rule, outcome, ...(list.length ? { requires: list } : {}) };
}

/** Who decided a request that waited for people, and the policy that made it wait (CIBA, device, paused exchange). */
export function approvalTrail(record: ApprovalRecord): Pick<Trail, 'approval' | 'obligation'> {
  const by = (decision: 'approve' | 'deny') => record.decisions.filter((d) => d.decision === decision).map((d) => d.approverSub);
  const approved = by('approve');
  const denied = by('deny');
  const approval = { id: record.id, approvers: record.approvers.kind, ...(approved.length ? { approved_by: approved } : {}), ...(denied.length ? { denied_by: denied } : {}) };
  const paused = (record.request as { exchange?: { policy?: unknown; rule?: unknown } }).exchange;
  const approvers = record.approvers.kind === 'dual' ? { dual: { group: record.approvers.group } } : record.approvers.kind;
  const obligation =
    typeof paused?.policy === 'string' && typeof paused.rule === 'string'
      ? { policy: paused.policy, rule: paused.rule, outcome: 'obligations' as const, requires: requirementsOf(stepUpOf(record.request), { approvers }) }
      : readObligation(record.request.obligation);
  return { approval, ...(obligation ? { obligation } : {}) };
}

/** A delegated Passport's subject: an upstream token's mapping as it ran, else the person's stored claims' provenance. */
export function subjectMapping(config: Pick<Config, 'upstreams' | 'mappings'>, subject: { mapping?: TrailMapping | undefined; represented: { kind: string; claims?: Readonly<Record<string, unknown>> } }): TrailMapping | undefined {
  if (subject.mapping) return subject.mapping;
  return subject.represented.kind === 'person' && subject.represented.claims ? mappingOfClaims(config, subject.represented.claims) : undefined;
}

/** The provenance of a mapping just made (JWT bearer, upstream token exchange): each claim with a value, and its rule. */
export function mappingFromTrace(upstream: string, ruleSet: string, trace: readonly ClaimTrace[]): TrailMapping {
  const claims: Record<string, string> = {};
  let origIss: string | undefined;
  for (const t of trace) {
    if (t.value === undefined || t.claim === 'deny') continue;
    if (t.claim === 'orig_iss' && typeof t.value === 'string') origIss = t.value;
    // The upstream and its issuer are the mapping's own fields.
    if (t.claim === 'orig_iss' || t.claim === 'upstream') continue;
    claims[t.claim] = t.source === 'default' ? `${t.rule} (default)` : t.rule;
  }
  return { upstream, rule_set: ruleSet, ...(origIss !== undefined ? { orig_iss: origIss } : {}), claims };
}

const factRules: Readonly<Record<string, string>> = { orig_sub: 'subject', acr: 'acr', amr: 'amr', auth_time: 'auth_time' };

/**
 * The provenance of a person's stored canonical claims (a login's, kept with the person): the
 * upstream and orig_iss they carry, the rule set that upstream uses, and for each claim the rule of
 * that rule set that produces it (a claim no rule of it names: `?`). Whether a value was a rule's
 * default is in the login's own receipt (login.upstream, which keeps the mapping as it ran).
 */
export function mappingOfClaims(config: Pick<Config, 'upstreams' | 'mappings'>, claims: Readonly<Record<string, unknown>>): TrailMapping | undefined {
  const upstreamId = claims.upstream;
  if (typeof upstreamId !== 'string') return undefined;
  const upstream = config.upstreams.get(upstreamId);
  const ruleSet = upstream ? ruleSetIdOf(upstream) : undefined;
  const rules = ruleSet !== undefined ? config.mappings.get(ruleSet)?.claims : undefined;
  const out: Record<string, string> = {};
  for (const name of Object.keys(claims)) {
    if (name === 'sub' || name === 'orig_iss' || name === 'upstream' || claims[name] === undefined) continue;
    out[name] = factRules[name] ?? (rules && Object.hasOwn(rules, name) ? `claims.${name}` : '?');
  }
  return { upstream: upstreamId, ...(ruleSet !== undefined ? { rule_set: ruleSet } : {}), ...(typeof claims.orig_iss === 'string' ? { orig_iss: claims.orig_iss } : {}), claims: out };
}
