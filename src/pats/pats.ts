// Personal access tokens: a person's long-lived token for one resource and some of its scopes, for
// developer tools and scripts. Created on /account/tokens and shown once; stored only as a keyed
// hash (HMAC-SHA-256 under a server secret shared by every node, so a stolen database alone cannot
// be checked against guesses); listed with their last use; revoked by the person. Presented at
// introspection (introspection.ts) and as a token exchange subject_token (subject-token.ts), where
// presentPat decides: 1 the format and checksum, offline (no lookup for a typo or a forgery)
// 2 the keyed hash's row 3 not revoked, not expired 4 last used, written at most once a minute.
// Creation and revocation leave receipts (pat.created, pat.revoked) naming the token's id, never it.
import { createHmac, randomBytes } from 'node:crypto';
import type { Deps } from '../deps.ts';
import type { PatRecord, Store } from '../store/ports.ts';
import { checkPatFormat, newPatToken } from './format.ts';
import { adminResourceOf } from '../config/admin-schema.ts';

const keys = new WeakMap<Store, Promise<Buffer>>();

/** The hashing key, shared by every node of the database (the first node's wins). */
function hashKey(deps: Pick<Deps, 'store' | 'now'>): Promise<Buffer> {
  let key = keys.get(deps.store);
  if (!key) {
    key = deps.store.secrets.getOrCreate('pat-hash', randomBytes(32).toString('base64url'), deps.now()).then((secret) => Buffer.from(secret, 'base64url'));
    key.catch(() => keys.delete(deps.store));
    keys.set(deps.store, key);
  }
  return key;
}

export async function patHash(deps: Pick<Deps, 'store' | 'now'>, token: string): Promise<string> {
  return createHmac('sha256', await hashKey(deps)).update(`pat\n${token}`).digest('base64url');
}

export type NewPat = { name: string; resource: string; scopes: string[]; ttlDays: number };

export type CreateResult =
  | { ok: true; token: string; record: PatRecord }
  | { ok: false; reason: 'disabled' | 'name' | 'resource' | 'scope' | 'ttl' | 'limit'; message: string };

const refuse = (reason: Extract<CreateResult, { ok: false }>['reason'], message: string): CreateResult => ({ ok: false, reason, message });

/**
 * The scopes a person may put in a PAT for this resource: the scopes the resource declares. What a
 * Passport exchanged from it finally carries is decided again at the exchange, by the exchanging
 * client's policy and the obligation policies (delegated-passport.ts), as for any subject token.
 * Consulate's own resources (the admin API, SSF) are for clients, never for people's tokens: none.
 */
export function patScopesOf(deps: Pick<Deps, 'config' | 'issuer'>, resource: string): string[] {
  const own = [adminResourceOf(deps.config.main.admin, deps.issuer), deps.config.main.ssf.resource ?? `${deps.issuer.replace(/\/$/, '')}/ssf`];
  if (own.includes(resource)) return [];
  return Object.keys(deps.config.resources.get(resource)?.scopes ?? {});
}

/** Checks the request, counts it against pat_creations, stores the hash and writes the receipt; the token is returned once. */
export async function createPat(deps: Deps, sub: string, input: NewPat): Promise<CreateResult> {
  const settings = deps.config.main.pats;
  if (!settings.enabled) return refuse('disabled', 'Personal access tokens are turned off here.');
  const name = input.name.trim();
  if (!name || name.length > 100 || /[\x00-\x1f\x7f]/.test(name)) return refuse('name', 'Give the token a name of 1 to 100 characters.');
  const allowed = patScopesOf(deps, input.resource);
  if (!allowed.length) return refuse('resource', 'Choose one of the listed resources.');
  const scopes = [...new Set(input.scopes)];
  if (!scopes.length || scopes.some((s) => !allowed.includes(s))) return refuse('scope', 'Choose at least one scope, among those the resource offers.');
  if (!Number.isInteger(input.ttlDays) || input.ttlDays < 1 || input.ttlDays > settings.max_ttl_days) return refuse('ttl', `Choose an expiry of 1 to ${settings.max_ttl_days} days.`);
  await deps.rateLimits.patCreation(sub);
  const now = deps.now();
  const token = newPatToken();
  const record = { id: `pat_${randomBytes(9).toString('base64url')}`, tokenHash: await patHash(deps, token), sub, name, resource: input.resource, scopes, createdAt: now, expiresAt: now + input.ttlDays * 86400 };
  if (!(await deps.store.pats.create(record, settings.max_per_person, now))) return refuse('limit', `You already have ${settings.max_per_person} tokens: revoke one first.`);
  await deps.receipts.record({ event: 'pat.created', subject: sub, details: { pat: record.id, aud: record.resource, scope: scopes.join(' '), exp: record.expiresAt } });
  return { ok: true, token, record };
}

/** Revokes one of the person's tokens (`sub` undefined: anyone's, for an operator); false when not theirs or already revoked. */
export async function revokePat(deps: Deps, id: string, by: { sub: string } | { operator: string }): Promise<boolean> {
  const now = deps.now();
  const record = await deps.store.pats.revoke(id, 'sub' in by ? by.sub : undefined, now);
  if (!record) return false;
  // Passports exchanged from it go with it (they were linked to it as their parent, pat:<id>), and
  // so do the delegations those exchanges started: they were the PAT's, they end with it.
  const root = [patLineageId(id)];
  const delegations = await deps.store.lineage.delegationsUnder({ jtis: root });
  for (const delegation of delegations) await deps.store.delegations.revoke(delegation.did, 'sub' in by ? 'subject' : 'operator', now);
  const descendants = await deps.store.lineage.revokeDescendants(root, now);
  await deps.receipts.record({
    event: 'pat.revoked',
    subject: record.sub,
    details: { pat: id, by: 'sub' in by ? 'person' : by.operator, descendants_revoked: descendants, delegations_revoked: delegations.map((d) => d.did) },
  });
  return true;
}

/** The lineage id of a PAT: Passports exchanged from it name it as their parent. */
export const patLineageId = (id: string): string => `pat:${id}`;

export type Presented = { ok: true; record: PatRecord } | { ok: false; reason: 'disabled' | 'malformed' | 'checksum' | 'unknown' | 'revoked' | 'expired' };

/** Steps 1 to 4 of the header. `visibleTo`: a caller that may not see this token gets `unknown`, and its use is not recorded. */
export async function presentPat(deps: Pick<Deps, 'config' | 'store' | 'now' | 'log'>, token: string, visibleTo: (record: PatRecord) => boolean = () => true): Promise<Presented> {
  if (!deps.config.main.pats.enabled) return { ok: false, reason: 'disabled' };
  // 1.
  const format = checkPatFormat(token);
  if (format !== 'ok') return { ok: false, reason: format };
  // 2.
  const record = await deps.store.pats.findByHash(await patHash(deps, token));
  if (!record || !visibleTo(record)) return { ok: false, reason: 'unknown' };
  // 3.
  const now = deps.now();
  if (record.revokedAt !== undefined) return { ok: false, reason: 'revoked' };
  if (record.expiresAt <= now) return { ok: false, reason: 'expired' };
  // 4. Last used is a hint for the list page: a failed write must not fail the request.
  if (record.lastUsedAt === undefined || record.lastUsedAt <= now - deps.config.main.pats.last_used_every_seconds) {
    await deps.store.pats.touch(record.id, now, deps.config.main.pats.last_used_every_seconds).catch((error: unknown) => deps.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'pat last-used not written'));
  }
  return { ok: true, record };
}
