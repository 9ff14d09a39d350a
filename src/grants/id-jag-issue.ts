// ID-JAG issuance (draft-ietf-oauth-identity-assertion-authz-grant §4.3): token exchange with
// requested_token_type id-jag hands the person's agent a short signed grant to present at another
// authorization server (`audience`), which turns it into its own access token.
// 1 the audience: one of the client's delegation.id_jag_audiences  2 the subject is a person the
// client may act for (the one policy, lifecycle included)  3 scope and resource within what the
// client may ask of that server  4 lifetime  5 sign (typ oauth-id-jag+jwt)  6 answer.
// Writes nothing itself: dispatch writes the receipt. Never a Passport: the ID-JAG is no access token here.
import { randomUUID } from 'node:crypto';
import type { ClientConfig } from '../config/schema.ts';
import { tokenExchangeGrant } from '../oauth/grant-types.ts';
import { actorsOf, nestAct } from '../delegation/act.ts';
import { mayActFor } from '../delegation/policy.ts';
import { chainStates } from '../agents/state.ts';
import type { SubjectToken } from '../delegation/subject-token.ts';
import { tokenTypes } from '../delegation/token-types.ts';
import type { Deps } from '../deps.ts';
import { OAuthError } from '../oauth/errors.ts';
import { parseScope, type Params } from '../oauth/params.ts';
import { signJwt } from '../passports/sign.ts';
import type { GrantResult } from './types.ts';
import type { Trail } from '../audit/trail.ts';

/** What issuing an ID-JAG reads: the config (audiences, clients), agent states, the issuer and its keys. */
export type IdJagDeps = Pick<Deps, 'config' | 'issuer' | 'keyring' | 'store'>;

export type IdJagRequest = { deps: IdJagDeps; client: ClientConfig; subject: SubjectToken; params: Params; now: number; receipt: string; trail: Trail };

export const idJagTyp = 'oauth-id-jag+jwt';

/** The draft asks for a short-lived grant; it only has to reach the other server. */
export const idJagMaxLifetimeSeconds = 300;

export async function issueIdJag({ deps, client, subject, params, now, receipt, trail }: IdJagRequest): Promise<GrantResult> {
  // 1. The authorization server the ID-JAG is for (§4.3: audience is its issuer identifier), never
  //    ourselves (Security Considerations, Cross-Domain Use). Public clients never get here (config
  //    refuses token exchange for them), as the draft's Client Authentication consideration asks.
  trail.at = 'audience';
  const audiences = params.all('audience');
  if (audiences.length === 0) throw new OAuthError('invalid_request', 'audience (the issuer of the authorization server) is required for an ID-JAG');
  if (audiences.length > 1) throw new OAuthError('invalid_target', 'only one audience per ID-JAG');
  const audience = audiences[0] as string;
  const target = audience === deps.issuer ? undefined : client.delegation?.id_jag_audiences[audience];
  if (!target) throw new OAuthError('invalid_target', 'this client may not get ID-JAGs for that audience', { reason: 'id_jag_audience_not_allowed' });
  trail.resource = { id: audience, by: 'asked' };

  // 2. Who: a person, whom this client may act for, with every actor of the chain still active.
  trail.at = 'delegation_policy';
  const represented = subject.represented;
  if (represented.kind !== 'person') throw new OAuthError('invalid_grant', 'an ID-JAG is issued only for a person', { reason: 'id_jag_subject_not_person' });
  const chain = [client.client_id, ...actorsOf(subject.act)];
  const refusal = mayActFor(client, represented, chain, await chainStates(deps.store.agentStates, deps.config.clients, chain, client), deps.config.clients);
  trail.delegation = { verdict: refusal ? refusal.reason : 'allowed', chain };
  if (refusal) throw new OAuthError(refusal.code, refusal.description, { reason: refusal.reason });

  // 3. What: only scopes and resources configured for that server; no scope asked → all of them.
  trail.at = 'scopes';
  const asked = parseScope(params.get('scope'));
  trail.scopes = { asked };
  const wider = asked.filter((scope) => !target.scopes.includes(scope));
  if (wider.length) throw new OAuthError('invalid_scope', `scope not allowed for that audience: ${wider.slice(0, 5).join(' ').slice(0, 200)}`, { reason: 'id_jag_scope_not_allowed' });
  const scopes = asked.length ? asked : [...target.scopes];
  trail.at = 'resource';
  const resources = params.all('resource');
  if (resources.length > 1) throw new OAuthError('invalid_target', 'only one resource per ID-JAG');
  const resource = resources[0];
  if (resource !== undefined && !target.resources.includes(resource)) throw new OAuthError('invalid_target', 'the resource is not allowed for that audience', { reason: 'id_jag_resource_not_allowed' });

  // 4. How long: short, never past the subject token, nor the client's own cap.
  trail.at = 'mint';
  const remaining = subject.exp - now;
  if (remaining <= 0) throw new OAuthError('invalid_request', 'subject_token is invalid', { reason: 'subject_token_expired' });
  const ttlSeconds = Math.min(idJagMaxLifetimeSeconds, remaining, client.delegation?.max_ttl_seconds ?? idJagMaxLifetimeSeconds);

  // 5. The grant (§3): the client's selected canonical claims first, so no protocol claim can be replaced by one.
  const authn = subject.authentication;
  const claims: Record<string, unknown> = {
    ...selectedClaims(subject.claims, client.claims),
    iss: deps.issuer,
    sub: represented.sub,
    aud: audience,
    client_id: target.client_id,
    jti: randomUUID(),
    iat: now,
    exp: now + ttlSeconds,
    ...(resource !== undefined ? { resource } : {}),
    ...(scopes.length ? { scope: scopes.join(' ') } : {}),
    ...(authn ? { auth_time: authn.authTime, ...(authn.acr ? { acr: authn.acr } : {}), ...(authn.amr?.length ? { amr: [...authn.amr] } : {}) } : {}),
    act: nestAct(client.client_id, subject.act),
    // This issuance's receipt here, as Passports name theirs: the accepting server records it, so
    // an explain there can point back to this one (the audit trail across both servers).
    receipt,
  };
  const key = await deps.keyring.signingKey(deps.config.main.passports.signing_alg, now);
  const token = signJwt(key, idJagTyp, claims);

  // 6. RFC 8693 §2.2.1 as profiled by the draft: access_token carries the grant, token_type N_A.
  return {
    response: {
      access_token: token,
      issued_token_type: tokenTypes.idJag,
      token_type: 'N_A',
      expires_in: ttlSeconds,
      ...(scopes.length ? { scope: scopes.join(' ') } : {}),
    },
    audit: {
      event: 'id_jag.issued',
      subject: represented.sub,
      tokenJti: claims.jti as string,
      details: {
        grant_type: tokenExchangeGrant,
        aud: audience,
        client_id_at_aud: target.client_id,
        resource: resource ?? null,
        scope: scopes.join(' '),
        exp: claims.exp,
        act: claims.act,
        subject_origin: subject.origin,
        subject_jti: subject.jti ?? null,
        ...(subject.receipt !== undefined ? { subject_receipt: subject.receipt } : {}),
      },
    },
  };
}

/** Canonical claims the client's config selects (e.g. email, groups); provenance stays home. */
function selectedClaims(claims: Readonly<Record<string, unknown>>, selection: readonly string[] = []): Record<string, unknown> {
  const carried: Record<string, unknown> = {};
  for (const name of selection) if (Object.hasOwn(claims, name) && claims[name] !== undefined) carried[name] = claims[name];
  return carried;
}
