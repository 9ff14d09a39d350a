// What a token exchange subject_token says, once verified: who is represented, who it was issued
// to, what it allows and until when. Our own Passports and ID tokens are checked here; upstream
// tokens (JWKS or introspection, then the upstream's mapping rules) in upstream-token.ts.
// Any failure is one invalid_request on the wire (RFC 8693 §2.2.2); the reason goes to the log.
import type { Deps } from '../deps.ts';
import { OAuthError } from '../oauth/errors.ts';
import { parseScope } from '../oauth/params.ts';
import { verifyOwnIdToken } from '../passports/id-token.ts';
import { unverifiedJws, verifyPassport, type UnverifiedJws } from '../passports/verify.ts';
import { parseAct } from './act.ts';
import { tokenTypes } from './token-types.ts';
import { resolveUpstreamToken, type UpstreamTokenDeps } from './upstream-token.ts';
import { invalidSubjectToken, type SubjectToken } from './subject.ts';

export { invalidSubjectToken, type SubjectToken } from './subject.ts';

const supported: ReadonlySet<string> = new Set([tokenTypes.accessToken, tokenTypes.idToken, tokenTypes.jwt]);

/** What resolving a subject token reads: our keys and issuer, the store, and what an upstream token needs. */
export type SubjectTokenDeps = UpstreamTokenDeps & Pick<Deps, 'issuer' | 'keyring'>;

type OwnTokenDeps = Pick<Deps, 'issuer' | 'keyring' | 'store'>;

/** `allowedUpstreams`: the client's subject_token_upstreams, so that no other upstream is asked about the token. */
export async function resolveSubjectToken(deps: SubjectTokenDeps, token: string, type: string, now: number, allowedUpstreams?: readonly string[]): Promise<SubjectToken> {
  if (!supported.has(type)) throw new OAuthError('invalid_request', 'subject_token_type is not supported', { reason: 'subject_token_type_unsupported' });
  // Parsed once: to pick who verifies it, then (ours) as the claims verifyPassport checks.
  const jws = unverifiedJws(token);
  if (jws?.payload.iss === deps.issuer) return type === tokenTypes.idToken ? ownIdToken(deps, token, now) : ownPassport(deps, jws, now);
  const upstream = await resolveUpstreamToken(deps, token, type, now, allowedUpstreams);
  if (!upstream) throw invalidSubjectToken('untrusted_issuer');
  return upstream;
}

async function ownPassport(deps: OwnTokenDeps, jws: UnverifiedJws, now: number): Promise<SubjectToken> {
  const check = await verifyPassport(jws, deps.keyring, deps.issuer, now);
  if (!check.ok) throw invalidSubjectToken(check.reason);
  const { claims } = check;
  if (await deps.store.revocations.isRevoked(claims.jti)) throw invalidSubjectToken('revoked');
  const act = parseAct(claims.act);
  if (act === 'invalid') throw invalidSubjectToken('malformed_act');
  const isPerson = typeof claims.auth_time === 'number' || act !== undefined || claims.sub !== claims.client_id;
  const personClaims = isPerson ? ((await deps.store.subjects.claimsOf(claims.sub)) ?? {}) : {};
  return {
    origin: 'passport',
    represented: isPerson ? { kind: 'person', sub: claims.sub, claims: personClaims } : { kind: 'client', clientId: claims.sub },
    issuedTo: claims.client_id,
    jti: claims.jti,
    receipt: typeof claims.receipt === 'string' ? claims.receipt : undefined,
    audience: claims.aud,
    scopes: parseScope(typeof claims.scope === 'string' ? claims.scope : undefined),
    details: Array.isArray(claims.authorization_details) ? claims.authorization_details : [],
    exp: claims.exp,
    act,
    did: typeof claims.did === 'string' ? claims.did : undefined,
    mayAct: claims.may_act,
    boundJkt: typeof claims.cnf?.jkt === 'string' ? claims.cnf.jkt : undefined,
    authentication: typeof claims.auth_time === 'number' ? { authTime: claims.auth_time, acr: claims.acr, amr: claims.amr } : undefined,
    claims: { ...personClaims, ...provenance(claims) },
  };
}

async function ownIdToken(deps: OwnTokenDeps, token: string, now: number): Promise<SubjectToken> {
  const claims = await verifyOwnIdToken(deps, token, now);
  if (!claims || typeof claims.exp !== 'number') throw invalidSubjectToken('not_an_id_token');
  const sub = claims.sub as string;
  const personClaims = (await deps.store.subjects.claimsOf(sub)) ?? {};
  return {
    origin: 'id_token',
    represented: { kind: 'person', sub, claims: personClaims },
    issuedTo: claims.aud as string,
    scopes: [],
    details: [],
    exp: claims.exp,
    mayAct: claims.may_act,
    authentication: typeof claims.auth_time === 'number' ? { authTime: claims.auth_time, acr: claims.acr as string | undefined, amr: claims.amr as string[] | undefined } : undefined,
    claims: { ...personClaims, ...provenance(personClaims) },
  };
}

function provenance(claims: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return {
    ...(typeof claims.orig_iss === 'string' ? { orig_iss: claims.orig_iss } : {}),
    ...(typeof claims.orig_sub === 'string' ? { orig_sub: claims.orig_sub } : {}),
  };
}
