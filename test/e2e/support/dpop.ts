// DPoP proofs made by hand (jose), for the requests no real client would send: other keys, replays,
// wrong URLs, old iat, bad algorithms. Real clients (openid-client, oauth4webapi) make the rest.
import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { accessTokenHashOf } from '../../../src/dpop/proof.ts';

export type ProofKey = { privateKey: CryptoKey; publicKey: CryptoKey; jwk: JWK; jkt: string; alg: string };

export async function proofKey(alg: 'ES256' | 'EdDSA' | 'RS256' | 'PS256' = 'ES256'): Promise<ProofKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, publicKey, jwk, jkt: await calculateJwkThumbprint(jwk, 'sha256'), alg };
}

export type ProofOptions = {
  htm?: string;
  htu: string;
  accessToken?: string;
  nonce?: string;
  iat?: number;
  jti?: string;
  typ?: string;
  /** Sign with this key but put `jwk` in the header (a proof signed by another key). */
  signWith?: ProofKey;
  jwk?: JWK;
  claims?: Record<string, unknown>;
};

export async function makeProof(key: ProofKey, options: ProofOptions): Promise<string> {
  const signer = options.signWith ?? key;
  return new SignJWT({
    jti: options.jti ?? randomUUID(),
    htm: options.htm ?? 'POST',
    htu: options.htu,
    ...(options.accessToken ? { ath: accessTokenHashOf(options.accessToken) } : {}),
    ...(options.nonce ? { nonce: options.nonce } : {}),
    ...options.claims,
  })
    .setProtectedHeader({ alg: signer.alg, typ: options.typ ?? 'dpop+jwt', jwk: options.jwk ?? key.jwk })
    .setIssuedAt(options.iat ?? Math.floor(Date.now() / 1000))
    .sign(signer.privateKey);
}

/** An unsigned (alg none) proof. */
export function unsignedProof(key: ProofKey, htu: string): string {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'dpop+jwt', jwk: key.jwk })}.${b64({ jti: randomUUID(), htm: 'POST', htu, iat: Math.floor(Date.now() / 1000) })}.`;
}
