// A personal access token as a token exchange subject_token (subject_token_type
// urn:consulate:token-type:pat): it represents its person, for its resource (the audience) and its
// scopes, until it expires. The exchanging client is held to its own delegation policy as for any
// subject token (token-exchange.ts: subject_token_audiences must list the PAT's resource, act_for
// the person). Presentations that fail count against pat_failures per source address; over it, no
// lookup is made at all. Every failure is the one invalid_request of RFC 8693 §2.2.2.
import type { Deps } from '../deps.ts';
import { invalidSubjectToken, type SubjectToken } from '../delegation/subject.ts';
import { patLineageId, presentPat } from './pats.ts';

/** What a PAT presentation reads: the failure limit, and the PAT and its person in the store. */
export type PatSubjectDeps = Pick<Deps, 'config' | 'store' | 'now' | 'log' | 'rateLimits'>;

export async function patSubject(deps: PatSubjectDeps, token: string, source: string | undefined): Promise<SubjectToken> {
  await deps.rateLimits.checkPat(source);
  const presented = await presentPat(deps, token);
  if (!presented.ok) {
    await deps.rateLimits.patFailed(source);
    throw invalidSubjectToken(`pat_${presented.reason}`);
  }
  const { record } = presented;
  const claims = (await deps.store.subjects.claimsOf(record.sub)) ?? {};
  const provenance = {
    ...(typeof claims.orig_iss === 'string' ? { orig_iss: claims.orig_iss } : {}),
    ...(typeof claims.orig_sub === 'string' ? { orig_sub: claims.orig_sub } : {}),
  };
  return {
    origin: 'pat',
    represented: { kind: 'person', sub: record.sub, claims },
    // Passports exchanged from it are linked to it: revoking the PAT revokes them (pats.ts revokePat).
    jti: patLineageId(record.id),
    audience: record.resource,
    scopes: record.scopes,
    details: [],
    exp: record.expiresAt,
    claims: { ...claims, ...provenance },
  };
}
