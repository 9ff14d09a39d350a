// JWT bearer grant (RFC 7523 §2.1): a client presents an assertion about a person from a trusted
// issuer, or an ID-JAG (draft-ietf-oauth-identity-assertion-authz-grant §4.4), and gets a Passport
// that says so: `sub` the person (linked here as issuer:<id>), `act` and `azp` the client, `did` a
// new delegation. 1 the assertion  2 its claims through the issuer's rule set  3 the target and
// scopes, only narrowing what the assertion names  4 spend the jti  5 link the person  6 the shared
// delegated-Passport steps (the one policy, delegation, lineage)  7 answer.
// Every assertion failure is one invalid_grant on the wire (RFC 7523 §3.1); the reason goes to the log.
import { randomUUID } from 'node:crypto';
import { mapClaims } from '../claims/engine.ts';
import type { ClientConfig } from '../config/schema.ts';
import { jwtBearerGrant as grantType } from '../oauth/grant-types.ts';
import { checkJwtAssertion, useAssertionOnce, type AssertionContext, type VerifiedAssertion } from '../delegation/jwt-assertion.ts';
import type { SubjectToken } from '../delegation/subject-token.ts';
import type { Deps } from '../deps.ts';
import { OAuthError } from '../oauth/errors.ts';
import { parseScope, type Params } from '../oauth/params.ts';
import { delegatedReceiptDetails, delegatedResponse, issueDelegatedPassport, type DelegatedPassportDeps } from './delegated-passport.ts';
import type { Grant, GrantContext } from './types.ts';
import { isPaused } from '../obligations/pending.ts';
import { mappingFromTrace, resourceChoice, type ResourceChoice } from '../audit/trail.ts';

/** What this grant reads of the running server: the trusted assertion issuers, and what a delegated Passport needs. */
type JwtBearerDeps = DelegatedPassportDeps & Pick<Deps, 'assertionIssuers'>;

const invalidAssertion = (reason: string) => new OAuthError('invalid_grant', 'assertion is invalid', { reason: `assertion_${reason}` });

export const jwtBearerGrant: Grant = {
  grantType,
  params: ['assertion', 'scope', 'resource'],
  async handle({ deps, client: { client }, params, now, receipt, dpop, trail }: GrantContext<JwtBearerDeps>) {
    // 1.
    trail.at = 'assertion';
    const assertion = params.get('assertion');
    if (assertion === undefined) throw new OAuthError('invalid_request', 'assertion is required');
    const context = assertionContext(deps, now);
    const check = await checkJwtAssertion(assertion, client, context);
    if (!check.ok) throw invalidAssertion(check.reason);
    const { issuer, claims } = check;
    const upstreamId = `issuer:${issuer.config.id}`;

    // 2. The issuer's claims become canonical claims, like an upstream login's (never trusted as they come).
    trail.at = 'mapping';
    const mapped = mapClaims(issuer.ruleSet, { upstream: { id: upstreamId, kind: 'oidc', issuer: issuer.config.issuer }, claims });
    if (!mapped.ok) throw invalidAssertion(`mapping_${mapped.reason}`);
    const canonical = mapped.canonical;
    trail.mapping = mappingFromTrace(upstreamId, issuer.ruleSet.id, mapped.trace);

    // 3. What the assertion names bounds the result: its resource and its scopes, when it names them.
    trail.at = 'resource';
    const bounds = boundsOf(check);
    const target = chooseTarget(params, bounds.resources, client);
    trail.at = 'scopes';
    const asked = parseScope(params.get('scope'));
    trail.scopes = { asked };
    if (bounds.scopes) {
      const wider = asked.filter((scope) => !bounds.scopes?.includes(scope));
      if (wider.length) throw new OAuthError('invalid_scope', `scope wider than the assertion's: ${wider.slice(0, 5).join(' ').slice(0, 200)}`, { reason: 'scope_widened' });
    }

    // 4. Spent now, before anything is issued: two presentations can never both succeed.
    trail.at = 'assertion';
    if (!(await useAssertionOnce(check, context))) throw invalidAssertion('replayed');

    // 5. The person: found or created for this issuer's subject; never linked by e-mail across trust domains.
    const linked = await deps.store.subjects.linkLogin({ origIss: canonical.orig_iss, origSub: canonical.orig_sub, upstreamId, linkByEmail: false, newSub: randomUUID(), now });
    const person = { ...canonical, sub: linked.sub };
    trail.subject = linked.sub;

    // 6. The assertion is a grant to redeem within its lifetime, not the Passport's lifetime: that is the
    //    resource's, capped by the client's policy. A scope-bounded assertion is a subject token for `target`.
    const subject: SubjectToken = {
      origin: upstreamId,
      represented: { kind: 'person', sub: linked.sub, claims: person },
      issuedTo: check.kind === 'id-jag' ? client.client_id : undefined,
      audience: bounds.scopes ? target : undefined,
      scopes: bounds.scopes ?? [],
      details: [],
      exp: now + deps.config.main.passports.max_ttl_seconds,
      authentication: canonical.auth_time === undefined ? undefined : { authTime: canonical.auth_time, acr: canonical.acr, amr: canonical.amr },
      claims: person,
    };
    const passport = await issueDelegatedPassport({ deps, client, subject, targets: [target], scopes: asked, dpop, receipt, now, grant: 'jwt_bearer', trail, targetBy: targetChoice(params, bounds.resources, client) });
    if (isPaused(passport)) return passport;
    await deps.store.subjects.saveClaims(linked.sub, person);

    // 7.
    const issued = passport.claims;
    return {
      response: delegatedResponse(passport, false),
      audit: {
        event: 'passport.issued',
        subject: issued.sub,
        tokenJti: issued.jti,
        details: {
          grant_type: grantType,
          assertion_kind: check.kind,
          assertion_issuer: issuer.config.id,
          assertion_jti: claims.jti,
          // Where the assertion came from, and its receipt there (an ID-JAG of a Consulate names one):
          // explain here points to the issuer's own record of it.
          assertion_iss: issuer.config.issuer,
          ...(typeof claims.receipt === 'string' && /^[\w.:-]{1,100}$/.test(claims.receipt) ? { assertion_receipt: claims.receipt } : {}),
          // The issuer's actors name its own clients: recorded here, not nested into our act.
          assertion_act: claims.act ?? null,
          linked_by: linked.linkedBy,
          ...delegatedReceiptDetails(passport, subject),
        },
      },
    };
  },
};

function assertionContext(deps: Pick<Deps, 'assertionIssuers' | 'issuer' | 'store' | 'config'>, now: number): AssertionContext {
  return {
    issuers: deps.assertionIssuers,
    issuer: deps.issuer,
    replay: deps.store.replay,
    clockSkewSeconds: deps.config.main.client_assertions.clock_skew_seconds,
    now,
  };
}

/** The `resource` and `scope` an assertion names, if any; a malformed one is an invalid assertion. */
function boundsOf({ claims }: VerifiedAssertion): { resources?: string[]; scopes?: string[] } {
  const { resource, scope } = claims;
  const resources = resource === undefined ? undefined : typeof resource === 'string' ? [resource] : resource;
  if (resources !== undefined && (!Array.isArray(resources) || resources.some((r) => typeof r !== 'string'))) throw invalidAssertion('malformed_resource');
  if (scope !== undefined && (typeof scope !== 'string' || !/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/.test(scope))) throw invalidAssertion('malformed_scope');
  return { ...(resources ? { resources: resources as string[] } : {}), ...(typeof scope === 'string' ? { scopes: scope.split(' ') } : {}) };
}

/** How chooseTarget chose (for the trail). */
function targetChoice(params: Params, bound: readonly string[] | undefined, client: ClientConfig): ResourceChoice {
  if (params.all('resource').length) return 'asked';
  return bound?.length === 1 ? 'assertion' : resourceChoice([], client);
}

/** The one resource: asked for, else the assertion's only one, else the client's default; within the assertion's. */
function chooseTarget(params: Params, bound: readonly string[] | undefined, client: ClientConfig): string {
  const asked = params.all('resource');
  if (asked.length > 1) throw new OAuthError('invalid_target', 'only one resource per request is supported');
  const own = Object.keys(client.resources);
  const target = asked[0] ?? (bound?.length === 1 ? bound[0] : undefined) ?? client.default_resource ?? (own.length === 1 ? own[0] : undefined);
  if (target === undefined) throw new OAuthError('invalid_target', 'resource is required');
  if (bound && !bound.includes(target)) throw new OAuthError('invalid_target', 'the resource is not one the assertion names', { reason: 'audience_widened' });
  return target;
}
