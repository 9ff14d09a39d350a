// Compact JWS signing with node:crypto (measured ~2x faster than jose's SignJWT for ES256).
// Verification stays with jose, which enforces the validation policy.
import { sign } from 'node:crypto';
import type { SigningKey } from './keys.ts';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function signJwt(key: SigningKey, typ: string, payload: Record<string, unknown>): string {
  const input = `${b64({ alg: key.alg, kid: key.kid, typ })}.${b64(payload)}`;
  const signature =
    key.alg === 'ES256'
      ? sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
      : key.alg === 'EdDSA'
        ? sign(null, Buffer.from(input), key.privateKey)
        : sign('sha256', Buffer.from(input), key.privateKey);
  return `${input}.${signature.toString('base64url')}`;
}
