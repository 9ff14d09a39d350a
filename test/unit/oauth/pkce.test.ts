import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkPkceChallenge, verifyPkce } from '../../../src/oauth/pkce.ts';

// RFC 7636 Appendix B.
const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

describe('PKCE', () => {
  it('S256 is the only method; the challenge must be a base64url SHA-256', () => {
    expect(checkPkceChallenge(challenge, 'S256')).toEqual({ ok: true });
    expect(checkPkceChallenge(challenge, 'plain').ok).toBe(false);
    expect(checkPkceChallenge(challenge, undefined).ok).toBe(false);
    expect(checkPkceChallenge(undefined, 'S256').ok).toBe(false);
    expect(checkPkceChallenge(`${challenge}=`, 'S256').ok).toBe(false);
    expect(checkPkceChallenge(challenge.slice(1), 'S256').ok).toBe(false);
  });

  it('the RFC 7636 example verifier matches its challenge; anything else does not', () => {
    expect(createHash('sha256').update(verifier).digest('base64url')).toBe(challenge);
    expect(verifyPkce(verifier, challenge)).toBe(true);
    expect(verifyPkce(`${verifier.slice(0, -1)}l`, challenge)).toBe(false);
    expect(verifyPkce(undefined, challenge)).toBe(false);
    // The verifier itself used as "plain" challenge proves nothing.
    expect(verifyPkce(challenge, challenge)).toBe(false);
  });

  it('verifiers outside RFC 7636 §4.1 (43–128 unreserved characters) are refused', () => {
    const short = 'a'.repeat(42);
    expect(verifyPkce(short, createHash('sha256').update(short).digest('base64url'))).toBe(false);
    const long = 'a'.repeat(129);
    expect(verifyPkce(long, createHash('sha256').update(long).digest('base64url'))).toBe(false);
    const spaced = `${'a'.repeat(42)} `;
    expect(verifyPkce(spaced, createHash('sha256').update(spaced).digest('base64url'))).toBe(false);
  });
});
