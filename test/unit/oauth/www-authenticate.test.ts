import { describe, expect, it } from 'vitest';
import { formatChallenge, formatChallenges } from '../../../src/oauth/www-authenticate.ts';

describe('WWW-Authenticate challenges (RFC 9110 §11.6.1)', () => {
  it('a bare scheme without parameters, else name="value" pairs in the order given', () => {
    expect(formatChallenge('Bearer')).toBe('Bearer');
    expect(formatChallenge('Bearer', [['error', 'invalid_token'], ['error_description', 'the access token is invalid, expired or revoked']])).toBe(
      'Bearer error="invalid_token", error_description="the access token is invalid, expired or revoked"',
    );
  });
  it('escapes quotes and backslashes inside a quoted-string; numbers go bare (RFC 9470 max_age)', () => {
    expect(formatChallenge('Basic', [['realm', 'a "b" \\c']])).toBe('Basic realm="a \\"b\\" \\\\c"');
    expect(formatChallenge('Bearer', [['error', 'insufficient_user_authentication'], ['max_age', 300]])).toBe('Bearer error="insufficient_user_authentication", max_age=300');
  });
  it('several challenges in one value', () => {
    expect(formatChallenges(formatChallenge('Bearer'), formatChallenge('DPoP', [['algs', 'ES256 EdDSA']]))).toBe('Bearer, DPoP algs="ES256 EdDSA"');
  });
});
