// Mints a Passport: a JWT access token per RFC 9068 (typ at+jwt) signed with the current key.
import { randomUUID } from 'node:crypto';
import type { ActClaim } from '../delegation/act.ts';
import type { AuthorizationDetail } from '../oauth/authorization-details.ts';
import type { Keyring, SigningAlg } from './keys.ts';
import { signJwtInTurn } from './sign.ts';
import { inSpan } from '../tracing/spans.ts';

export type PassportClaims = {
  iss: string;
  sub: string;
  aud: string;
  client_id: string;
  azp: string;
  scope?: string;
  authorization_details?: AuthorizationDetail[];
  /** Person grants: provenance of the identity, and canonical claims the client selected. */
  orig_iss?: string;
  orig_sub?: string;
  [claim: string]: unknown;
  /** DPoP-bound (RFC 9449 §6): the JWK SHA-256 thumbprint of the key that must prove possession. */
  cnf?: { jkt: string };
  /** The approval (CIBA, device code, paused exchange) this Passport was issued on. */
  approval?: string;
  /** Delegated Passports (RFC 8693 §4.1): who acts now, nesting who acted before. */
  act?: ActClaim;
  /** Delegation id, shared by every Passport minted under one delegation. */
  did?: string;
  /** What the delegation may spend in all (introspection tells what is left). */
  budget?: Record<string, unknown>;
  /** Hashes (schema, plan) copied from the resource's config, for the resource to compare. */
  pins?: Record<string, string>;
  /** Person grants only (RFC 9068 §2.2.1): when and how the person authenticated. */
  auth_time?: number;
  acr?: string;
  amr?: string[];
  jti: string;
  iat: number;
  exp: number;
  /** Id of the audit record (receipt) written for this issuance. */
  receipt: string;
};

export type PassportRequest = {
  issuer: string;
  subject: string;
  clientId: string;
  audience: string;
  scopes: readonly string[];
  authorizationDetails?: readonly AuthorizationDetail[] | undefined;
  /** A person's Passport: provenance and the client's selected canonical claims (never protocol claims). */
  identity?: Readonly<Record<string, unknown>> | undefined;
  /** Set for a person's Passport; absent for a client's own. */
  authentication?: { authTime: number; acr?: string | undefined; amr?: readonly string[] | undefined } | undefined;
  act?: ActClaim | undefined;
  /** Bind to this DPoP key thumbprint. */
  dpopJkt?: string | undefined;
  approvalId?: string | undefined;
  delegationId?: string | undefined;
  budget?: Record<string, unknown> | undefined;
  pins?: Readonly<Record<string, string>> | undefined;
  ttlSeconds: number;
  receipt: string;
  now: number;
};

export async function mintPassport(keyring: Keyring, alg: SigningAlg, request: PassportRequest): Promise<{ token: string; claims: PassportClaims }> {
  const claims: PassportClaims = {
    // First, so that no protocol claim below can be replaced by one of them.
    ...request.identity,
    iss: request.issuer,
    sub: request.subject,
    aud: request.audience,
    client_id: request.clientId,
    azp: request.clientId,
    ...(request.scopes.length ? { scope: request.scopes.join(' ') } : {}),
    ...(request.authorizationDetails?.length ? { authorization_details: [...request.authorizationDetails] } : {}),
    ...authenticationClaims(request.authentication),
    ...(request.dpopJkt ? { cnf: { jkt: request.dpopJkt } } : {}),
    ...(request.approvalId ? { approval: request.approvalId } : {}),
    ...(request.act ? { act: request.act } : {}),
    ...(request.delegationId ? { did: request.delegationId } : {}),
    ...(request.budget ? { budget: request.budget } : {}),
    ...(request.pins ? { pins: { ...request.pins } } : {}),
    jti: randomUUID(),
    iat: request.now,
    exp: request.now + request.ttlSeconds,
    receipt: request.receipt,
  };
  return inSpan('passport.mint', async (span) => {
    span?.setAttributes({ 'consulate.resource': request.audience, 'consulate.client_id': request.clientId });
    const key = await keyring.signingKey(alg, request.now);
    return { token: await signJwtInTurn(key, 'at+jwt', claims), claims };
  });
}

function authenticationClaims(authn: PassportRequest['authentication']): Pick<PassportClaims, 'auth_time' | 'acr' | 'amr'> {
  if (!authn) return {};
  return { auth_time: authn.authTime, ...(authn.acr ? { acr: authn.acr } : {}), ...(authn.amr?.length ? { amr: [...authn.amr] } : {}) };
}
