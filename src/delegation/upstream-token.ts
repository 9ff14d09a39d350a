// Upstream tokens as token exchange subject tokens (RFC 8693 §2.1): 1 a JWT of an upstream trusted
// for exchange, verified against its keys (federation/upstream-token-verifier.ts), or an opaque
// access token one of them says is active (federation/upstream-introspection.ts)  2 its claims
// mapped by the upstream's rule set and the account linked to a local person, as a login does
// (federation/exchange-subject.ts)  3 the SubjectToken: that person, with provenance.
// Undefined when no upstream trusted for exchange could have issued it. A verified-but-bad token is
// one invalid_request (invalidSubjectToken, the reason to the log); an upstream that cannot answer
// is temporarily_unavailable (503), never a 500. Must not log the token.
import type { UpstreamConfig } from '../config/schema.ts';
import type { Deps } from '../deps.ts';
import { UpstreamError } from '../federation/connector.ts';
import { linkExchangedSubject } from '../federation/exchange-subject.ts';
import { introspectAtUpstreams } from '../federation/upstream-introspection.ts';
import { verifyUpstreamJwt, type ExchangeTrust, type UpstreamTokenCheck, type WantedForm } from '../federation/upstream-token-verifier.ts';
import { OAuthError } from '../oauth/errors.ts';
import { invalidSubjectToken, type SubjectToken } from './subject.ts';
import { tokenTypes } from './token-types.ts';

const maxTokenLength = 16384;

/** What resolving an upstream token reads: the upstreams and their rule sets, the store and receipts (linking the person), the log. */
export type UpstreamTokenDeps = Pick<Deps, 'config' | 'mappings' | 'store' | 'receipts' | 'log'>;

/** `allowedUpstreams`: the exchanging client's delegation.subject_token_upstreams, checked before anything is asked or stored. */
export async function resolveUpstreamToken(deps: UpstreamTokenDeps, token: string, type: string, now: number, allowedUpstreams?: readonly string[]): Promise<SubjectToken | undefined> {
  const wanted: WantedForm = type === tokenTypes.idToken ? 'id_token' : type === tokenTypes.jwt ? 'jwt' : 'access_token';
  const trust: ExchangeTrust = {
    upstreams: [...deps.config.upstreams.values()],
    allowed: allowedUpstreams,
    timeoutMs: (upstream: UpstreamConfig) => upstream.timeout_ms ?? deps.config.main.http.upstream_timeout_ms,
    now,
  };
  // 1. A JWS (three parts, even with an empty signature: alg none is refused by the verifier), or
  //    an opaque access token.
  if (token.length > maxTokenLength) throw invalidSubjectToken('malformed');
  const parts = token.split('.').length;
  if (parts !== 3 && wanted !== 'access_token') throw invalidSubjectToken('malformed');
  let check: UpstreamTokenCheck | undefined;
  try {
    check = parts === 3 ? await verifyUpstreamJwt(token, wanted, trust) : await introspectAtUpstreams(token, trust);
  } catch (error) {
    if (error instanceof UpstreamError) throw unavailable(deps, error);
    throw error;
  }
  if (!check) return undefined;
  if (!check.ok) {
    deps.log.info({ upstream: check.upstream ?? null, reason: check.reason }, 'upstream subject token refused');
    if (check.reason === 'upstream_not_allowed') throw new OAuthError('invalid_grant', 'this client may not exchange tokens of that upstream', { reason: 'upstream_not_allowed' });
    throw invalidSubjectToken(check.reason);
  }
  const verified = check.token;
  const { upstream } = verified;

  // 2.
  const ruleSet = deps.mappings.get(upstream.id);
  if (!ruleSet) throw new Error(`no compiled rule set for upstream ${upstream.id}`);
  const linked = await linkExchangedSubject(deps.store, deps.receipts, ruleSet, verified, now);
  if (!linked.ok) throw invalidSubjectToken(linked.reason);
  const { claims, mapping } = linked.person;

  // 3.
  return {
    origin: `upstream:${upstream.id}`,
    upstreamId: upstream.id,
    represented: { kind: 'person', sub: claims.sub, claims },
    mapping,
    scopes: [],
    details: [],
    exp: verified.exp,
    // An upstream's may_act (RFC 8693 §4.4) can only narrow: it must name this client, as ours do.
    mayAct: verified.claims.may_act,
    authentication: claims.auth_time !== undefined ? { authTime: claims.auth_time, acr: claims.acr, amr: claims.amr } : undefined,
    claims,
  };
}

function unavailable(deps: Pick<Deps, 'log'>, error: UpstreamError): OAuthError {
  deps.log.warn({ reason: error.reason, detail: error.message }, 'upstream unavailable for a token exchange subject token');
  return new OAuthError('temporarily_unavailable', 'the identity provider that issued subject_token could not be reached; try again later', {
    reason: `upstream_${error.reason}`,
    headers: { 'retry-after': '30' },
  });
}
