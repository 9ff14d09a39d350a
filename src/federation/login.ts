// Completing an upstream login: 1 the connector verifies the callback and ID token  2 the upstream's
// mapping rule set turns upstream claims into canonical claims (or refuses the login)  3 step-up requirements (acr, max_age) are
// checked against what the upstream returned  4 the account is linked to one local person
// (atomically)  5 the latest claims are kept and a receipt is written. Nothing is stored before every check has passed.
import { randomUUID } from 'node:crypto';
import type { Receipts } from '../audit/receipts.ts';
import type { CanonicalClaims } from '../claims/canonical.ts';
import { mapClaims, type CompiledRuleSet } from '../claims/engine.ts';
import type { UpstreamConfig } from '../config/schema.ts';
import type { LinkedSubject, Store } from '../store/ports.ts';
import { UpstreamError, type LoginChecks, type UpstreamConnector } from './connector.ts';
import { mappingFromTrace } from '../audit/trail.ts';

export type LoginRequirements = { acrValues?: readonly string[] | undefined; maxAge?: number | undefined };

export type CompletedLogin = { claims: CanonicalClaims & { sub: string }; linkedBy: 'account' | 'verified_email' | 'new_person' };

/** The local person of a mapped upstream identity, found or created atomically; only a verified e-mail may link. */
export function linkUpstreamAccount(store: Store, upstream: UpstreamConfig, canonical: CanonicalClaims, now: number): Promise<LinkedSubject> {
  return store.subjects.linkLogin({
    origIss: canonical.orig_iss,
    origSub: canonical.orig_sub,
    upstreamId: upstream.id,
    verifiedEmail: canonical.email_verified ? canonical.email : undefined,
    linkByEmail: upstream.link_verified_email,
    newSub: randomUUID(),
    now,
  });
}

export async function completeUpstreamLogin(
  store: Store,
  receipts: Receipts,
  connector: UpstreamConnector,
  upstream: UpstreamConfig,
  ruleSet: CompiledRuleSet,
  callbackUrl: URL,
  checks: LoginChecks,
  requirements: LoginRequirements,
  now: number,
): Promise<CompletedLogin> {
  // 1.
  const identity = await connector.completeLogin(callbackUrl, checks);
  // 2.
  const mapped = mapClaims(ruleSet, { upstream: { id: upstream.id, kind: upstream.kind, issuer: identity.issuer }, claims: identity.claims });
  if (!mapped.ok) {
    // A deny or require rule speaks to the person; anything else stays in the log.
    const shown = mapped.reason === 'denied' ? mapped.message : mapped.reason === 'missing' ? `Your organisation did not send what this service needs (${mapped.claims.join(', ')}).` : undefined;
    await receipts.record({ event: 'login.denied',
      details: { upstream: upstream.id, reason: mapped.reason, ...(mapped.reason === 'denied' ? { rule: mapped.rule, message: mapped.message } : {}), ...(mapped.reason === 'missing' ? { missing: mapped.claims } : {}) },
    });
    throw new UpstreamError(shown ? 'denied' : 'invalid_response', `mapping refused the login: ${mapped.reason}`, shown ? { shown } : undefined);
  }
  const canonical = mapped.canonical;
  // 3. The upstream may ignore acr_values / max_age: what it returned decides.
  if (requirements.acrValues?.length && !(canonical.acr && requirements.acrValues.includes(canonical.acr))) {
    throw new UpstreamError('rejected', 'upstream did not satisfy the requested acr');
  }
  if (requirements.maxAge !== undefined && (canonical.auth_time === undefined || now - canonical.auth_time > requirements.maxAge)) {
    throw new UpstreamError('rejected', 'upstream authentication is older than max_age');
  }
  // 4.
  const linked = await linkUpstreamAccount(store, upstream, canonical, now);
  // 5.
  const claims = { ...canonical, sub: linked.sub };
  await store.subjects.saveClaims(linked.sub, claims);
  await receipts.record({ event: 'login.upstream',
    subject: linked.sub,
    // Which rule gave each claim (names and rule ids, no values): what `consulate explain` shows for this login.
    details: { upstream: upstream.id, orig_iss: canonical.orig_iss, orig_sub: canonical.orig_sub, linked_by: linked.linkedBy, acr: canonical.acr ?? null, mapping: mappingFromTrace(upstream.id, ruleSet.id, mapped.trace) },
  });
  return { claims, linkedBy: linked.linkedBy };
}
