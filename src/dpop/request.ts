// DPoP at Consulate's own endpoints: the proof of one request checked against the endpoint's URL
// (from the issuer, never from Host), single use through the replay store, and the server nonce
// where config demands one. Failures are OAuthErrors in token-endpoint form (invalid_dpop_proof,
// use_dpop_nonce with a DPoP-Nonce header); resource-style endpoints convert them (toResourceError).
import { randomBytes } from 'node:crypto';
import type { MainConfig } from '../config/schema.ts';
import { OAuthError } from '../oauth/errors.ts';
import { createNonceIssuer, type NonceIssuer } from './nonce.ts';
import { verifyDpopProof } from './proof.ts';
import type { Store } from '../store/ports.ts';

export type DpopEndpoint = 'token' | 'userinfo' | 'introspection' | 'par';

export type DpopBinding = { jkt: string };

/** What checking a request's proof reads of the running server (deps.ts gives it): not the whole Deps. */
export type DpopDeps = { issuer: string; now(): number; config: { main: Pick<MainConfig, 'dpop'> }; dpopNonces: NonceIssuer; store: Pick<Store, 'replay'> };

/** Several DPoP headers reach us joined by ", "; a compact JWS has no comma, so a comma means more than one. */
export function dpopHeaderValues(raw: string | null | undefined): string[] {
  if (raw === null || raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((value) => value.trim());
}

export async function createDpopNonces(store: Store, windowSeconds: number, now: number): Promise<NonceIssuer> {
  const secret = await store.secrets.getOrCreate('dpop-nonce', randomBytes(32).toString('base64url'), now);
  return createNonceIssuer(Buffer.from(secret, 'base64url'), windowSeconds);
}

/** The nonce to send with this endpoint's answers, when the endpoint demands nonces. */
export function nonceHeader(deps: Pick<DpopDeps, 'config' | 'dpopNonces' | 'now'>, endpoint: DpopEndpoint): Record<string, string> {
  return deps.config.main.dpop.nonce_endpoints.includes(endpoint) ? { 'DPoP-Nonce': deps.dpopNonces.current(endpoint, deps.now()) } : {};
}

export type ProofCheck = { proofs: readonly string[]; method: string; path: string; accessToken?: string | undefined; endpoint: DpopEndpoint };

/** The proof's key, or undefined when the request carries no proof. Throws for a bad proof. */
export async function checkRequestProof(deps: DpopDeps, check: ProofCheck): Promise<DpopBinding | undefined> {
  if (check.proofs.length === 0) return undefined;
  const now = deps.now();
  const { dpop } = deps.config.main;
  const demandsNonce = dpop.nonce_endpoints.includes(check.endpoint);
  const result = await verifyDpopProof({
    proofs: check.proofs,
    method: check.method,
    url: `${deps.issuer.replace(/\/$/, '')}${check.path}`,
    accessToken: check.accessToken,
    now,
    iatWindowSeconds: dpop.iat_window_seconds,
    checkNonce: demandsNonce ? (nonce) => deps.dpopNonces.check(check.endpoint, nonce, now) : undefined,
    useJti: (jkt, jti, expiresAt) => deps.store.replay.useOnce('dpop', `${jkt}:${jti}`, expiresAt, now),
  });
  if (result.ok) return { jkt: result.jkt };
  if (result.reason === 'nonce_required') {
    throw new OAuthError('use_dpop_nonce', 'a DPoP nonce from this server is required', { reason: 'dpop_nonce_required', headers: nonceHeader(deps, check.endpoint) });
  }
  throw new OAuthError('invalid_dpop_proof', 'the DPoP proof is invalid', { reason: `dpop_${result.reason}` });
}
