// client_credentials (RFC 6749 §4.4): a Passport for the client itself, for one resource
// (RFC 8707), with scopes narrowed to what the client may have and validated RAR (RFC 9396).
import { OAuthError } from '../oauth/errors.ts';
import { checkAuthorizationDetails } from '../oauth/authorization-details.ts';
import { parseScope } from '../oauth/params.ts';
import { narrowScopes, selectResource } from '../oauth/resource.ts';
import { mintPassport } from '../passports/mint.ts';
import { decideDelegation } from '../delegation/policy.ts';
import { requireDpopForResource } from '../dpop/binding.ts';
import { resourceChoice } from '../audit/trail.ts';
import type { Deps } from '../deps.ts';
import type { Grant, GrantContext } from './types.ts';

/** What this grant reads of the running server. */
type ClientCredentialsDeps = Pick<Deps, 'config' | 'detailsTypes' | 'keyring' | 'issuer'>;

export const clientCredentialsGrant: Grant = {
  grantType: 'client_credentials',
  params: ['scope', 'resource', 'authorization_details'],
  async handle({ deps, client: { client }, params, now, receipt, dpop, trail }: GrantContext<ClientCredentialsDeps>) {
    const { config } = deps;
    // 1. Audience.
    trail.at = 'resource';
    const asked = params.all('resource');
    const resourceId = selectResource(asked, Object.keys(client.resources), new Set(config.resources.keys()), client.default_resource);
    const resource = config.resources.get(resourceId);
    const allowed = client.resources[resourceId];
    if (!resource || !allowed) throw new OAuthError('invalid_target', 'resource is unknown or not allowed for this client');
    trail.resource = { id: resourceId, by: resourceChoice(asked, client) };

    // 2. Scopes: only narrowed, never widened.
    trail.at = 'scopes';
    trail.scopes = { asked: parseScope(params.get('scope')) };
    const scopes = narrowScopes(trail.scopes.asked, allowed.scopes);

    // 3. Authorization details against the resource's declared types.
    trail.at = 'authorization_details';
    const rawDetails = params.get('authorization_details');
    let details;
    if (rawDetails !== undefined) {
      const check = checkAuthorizationDetails(rawDetails, deps.detailsTypes.get(resourceId) ?? new Map(), allowed.authorization_details_types);
      if (!check.ok) throw new OAuthError('invalid_authorization_details', check.detail, { reason: check.reason });
      details = check.details;
    }

    // 4. The one delegation policy, with the client acting for itself (actions, lifetime cap, DPoP).
    trail.at = 'delegation_policy';
    const verdict = decideDelegation({
      actor: client,
      resource: resourceId,
      scopes,
      details: details ?? [],
      chain: [],
      states: new Map(),
      ttlSeconds: resource.passport_ttl_seconds ?? config.main.passports.ttl_seconds,
      dpop: dpop !== undefined,
      clients: config.clients,
    });
    trail.delegation = { verdict: verdict.ok ? 'allowed' : verdict.reason };
    if (!verdict.ok) throw new OAuthError(verdict.code, verdict.description, { reason: verdict.reason });
    trail.at = 'dpop_binding';
    requireDpopForResource(resource, dpop);

    // 5. Mint.
    trail.at = 'mint';
    const ttl = verdict.ttlSeconds;
    const { token, claims } = await mintPassport(deps.keyring, resource.signing_alg ?? config.main.passports.signing_alg, {
      issuer: deps.issuer,
      subject: client.client_id,
      clientId: client.client_id,
      audience: resourceId,
      scopes,
      authorizationDetails: details,
      pins: resource.pins,
      dpopJkt: dpop?.jkt,
      ttlSeconds: ttl,
      receipt,
      now,
    });
    return {
      response: {
        access_token: token,
        token_type: dpop ? 'DPoP' : 'Bearer',
        expires_in: ttl,
        ...(claims.scope ? { scope: claims.scope } : {}),
        ...(claims.authorization_details ? { authorization_details: claims.authorization_details } : {}),
      },
      audit: {
        event: 'passport.issued',
        subject: claims.sub,
        tokenJti: claims.jti,
        details: { grant_type: 'client_credentials', aud: claims.aud, scope: claims.scope ?? '', exp: claims.exp, authorization_details_types: details?.map((d) => d.type) ?? [], dpop_jkt: dpop?.jkt ?? null },
      },
    };
  },
};
