// An upstream token accepted as a token exchange subject token becomes a local person exactly as a
// login does (login.ts): 1 the upstream's rule set maps its claims to canonical claims, or refuses
// (deny, missing: recorded like a refused login)  2 the upstream account is linked to one local
// person, with the login's options  3 claims are kept for a person seen first here, and an audit record is written.
// Must not record the token, and no more about the person than a login records.
import type { Receipts } from '../audit/receipts.ts';
import type { CanonicalClaims } from '../claims/canonical.ts';
import { mapClaims, type CompiledRuleSet } from '../claims/engine.ts';
import type { LinkedSubject, Store } from '../store/ports.ts';
import { linkUpstreamAccount } from './login.ts';
import { mappingFromTrace, type TrailMapping } from '../audit/trail.ts';
import type { VerifiedUpstreamToken } from './upstream-token-verifier.ts';

/** `mapping`: which rule gave each claim (audit/trail.ts), for the receipts. */
export type ExchangedPerson = { claims: CanonicalClaims & { sub: string }; linkedBy: LinkedSubject['linkedBy']; mapping: TrailMapping };

export type ExchangedSubject = { ok: true; person: ExchangedPerson } | { ok: false; reason: 'mapping_denied' | 'mapping_missing' | 'mapping_failed' };

export async function linkExchangedSubject(store: Store, receipts: Receipts, ruleSet: CompiledRuleSet, token: VerifiedUpstreamToken, now: number): Promise<ExchangedSubject> {
  const { upstream } = token;
  // 1.
  const mapped = mapClaims(ruleSet, { upstream: { id: upstream.id, kind: upstream.kind, issuer: token.issuer }, claims: token.claims });
  if (!mapped.ok) {
    await receipts.record({ event: 'exchange.upstream_denied',
      details: {
        upstream: upstream.id,
        token_form: token.form,
        reason: mapped.reason,
        ...(mapped.reason === 'denied' ? { rule: mapped.rule, message: mapped.message } : {}),
        ...(mapped.reason === 'missing' ? { missing: mapped.claims } : {}),
      },
    });
    return { ok: false, reason: mapped.reason === 'denied' ? 'mapping_denied' : mapped.reason === 'missing' ? 'mapping_missing' : 'mapping_failed' };
  }
  const canonical = mapped.canonical;
  const mapping = mappingFromTrace(upstream.id, ruleSet.id, mapped.trace);
  // 2.
  const linked = await linkUpstreamAccount(store, upstream, canonical, now);
  // 3. A login's claims are not replaced: an access token usually says less (no verified-e-mail
  //    flag, no profile), and userinfo and refreshed ID tokens read what is kept. A person first
  //    seen through an exchange gets these, so that later hops can check their groups.
  const claims = { ...canonical, sub: linked.sub };
  if ((await store.subjects.claimsOf(linked.sub)) === undefined) await store.subjects.saveClaims(linked.sub, claims);
  await receipts.record({ event: 'exchange.upstream_subject',
    subject: linked.sub,
    details: { upstream: upstream.id, token_form: token.form, orig_iss: canonical.orig_iss, orig_sub: canonical.orig_sub, linked_by: linked.linkedBy, acr: canonical.acr ?? null, mapping },
  });
  return { ok: true, person: { claims, linkedBy: linked.linkedBy, mapping } };
}
