// Mints a Passport: a JWT access token per RFC 9068 (typ at+jwt) signed with the current key.
import { randomUUID } from 'node:crypto';
import type { AuthorizationDetail } from '../oauth/authorization-details.ts';
import type { Keyring, SigningAlg } from './keys.ts';
import { signJwt } from './sign.ts';

export type PassportClaims = {
  iss: string;
  sub: string;
  aud: string;
  client_id: string;
  azp: string;
  scope?: string;
  authorization_details?: AuthorizationDetail[];
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
  ttlSeconds: number;
  receipt: string;
  now: number;
};

export async function mintPassport(keyring: Keyring, alg: SigningAlg, request: PassportRequest): Promise<{ token: string; claims: PassportClaims }> {
  const claims: PassportClaims = {
    iss: request.issuer,
    sub: request.subject,
    aud: request.audience,
    client_id: request.clientId,
    azp: request.clientId,
    ...(request.scopes.length ? { scope: request.scopes.join(' ') } : {}),
    ...(request.authorizationDetails?.length ? { authorization_details: [...request.authorizationDetails] } : {}),
    jti: randomUUID(),
    iat: request.now,
    exp: request.now + request.ttlSeconds,
    receipt: request.receipt,
  };
  const key = await keyring.signingKey(alg, request.now);
  return { token: signJwt(key, 'at+jwt', claims), claims };
}
