import { describe, expect, it } from 'vitest';
import { OAuthError } from '../../../src/oauth/errors.ts';
import { parseFormParams, parseScope, pickParams } from '../../../src/oauth/params.ts';
import { narrowScopes, sameResource, selectResource } from '../../../src/oauth/resource.ts';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof OAuthError ? `${error.status} ${error.code}` : 'other';
  }
  return 'none';
};

describe('form parameters (RFC 6749 §3.1)', () => {
  it('a repeated parameter is invalid_request, except resource and audience', () => {
    expect(code(() => parseFormParams('a=1&a=2'))).toBe('400 invalid_request');
    expect(parseFormParams('resource=x&resource=y').all('resource')).toEqual(['x', 'y']);
  });
  it('empty values count as absent', () => {
    const params = parseFormParams('scope=&grant_type=x');
    expect(params.get('scope')).toBeUndefined();
    expect(params.names()).toEqual(['grant_type']);
  });
  it('scope: space-delimited tokens, de-duplicated; anything else is invalid_scope', () => {
    expect(parseScope('a b a')).toEqual(['a', 'b']);
    expect(code(() => parseScope('a  b'))).toBe('400 invalid_scope');
    expect(code(() => parseScope('a"b'))).toBe('400 invalid_scope');
  });
});

describe('resource indicators (RFC 8707) and scope narrowing', () => {
  const known = new Set(['https://a.example', 'https://b.example']);
  it('picks the asked resource, the default, or the only one', () => {
    expect(selectResource(['https://b.example'], ['https://a.example', 'https://b.example'], known, undefined)).toBe('https://b.example');
    expect(selectResource([], ['https://a.example', 'https://b.example'], known, 'https://a.example')).toBe('https://a.example');
    expect(selectResource([], ['https://b.example'], known, undefined)).toBe('https://b.example');
  });
  it('takes an origin with or without its empty path as the same resource, answering with the configured spelling', () => {
    expect(selectResource(['https://a.example/'], ['https://a.example'], known, undefined)).toBe('https://a.example');
    expect(selectResource(['https://c.example'], ['https://c.example/'], new Set(['https://c.example/']), undefined)).toBe('https://c.example/');
    expect(sameResource('https://a.example', 'https://a.example/')).toBe(true);
    for (const other of ['https://A.example', 'https://a.example:443', 'https://a.example//', 'https://a.example/x', 'https://a.example/?q', 'http://a.example']) {
      expect(sameResource('https://a.example', other), other).toBe(false);
    }
    expect(sameResource('https://a.example/mcp', 'https://a.example/mcp/')).toBe(false);
  });
  it('refuses several, unknown, unallowed, fragment and relative resources, or none without a default', () => {
    for (const requested of [['https://a.example', 'https://b.example'], ['https://c.example'], ['https://b.example'], ['https://a.example#x'], ['/relative']]) {
      expect(code(() => selectResource(requested, ['https://a.example'], known, undefined))).toBe('400 invalid_target');
    }
    expect(code(() => selectResource([], ['https://a.example', 'https://b.example'], known, undefined))).toBe('400 invalid_target');
  });
  it('scopes only narrow', () => {
    expect(narrowScopes([], ['r', 'w'])).toEqual(['r', 'w']);
    expect(narrowScopes(['r'], ['r', 'w'])).toEqual(['r']);
    expect(code(() => narrowScopes(['r', 'admin'], ['r']))).toBe('400 invalid_scope');
  });
});

describe('pickParams: what a grant is handed (grants/dispatch.ts)', () => {
  it('keeps the named parameters and hides every other one, a client credential too', () => {
    const form = parseFormParams('grant_type=refresh_token&refresh_token=r1&resource=https://a.example&resource=https://b.example&client_secret=s3cret&extra=x');
    const picked = pickParams(form, ['grant_type', 'refresh_token', 'resource']);
    expect(picked.get('refresh_token')).toBe('r1');
    expect(picked.all('resource')).toEqual(['https://a.example', 'https://b.example']);
    expect(picked.get('client_secret')).toBeUndefined();
    expect(picked.all('extra')).toEqual([]);
    expect(picked.names()).toEqual(['grant_type', 'refresh_token', 'resource']);
  });
});
