import { describe, expect, it } from 'vitest';
import { matchRedirectUri } from '../../../src/oauth/redirect-uri.ts';

describe('redirect URI matching', () => {
  const registered = ['https://app.example/cb', 'http://127.0.0.1/native/cb', 'http://[::1]:9000/v6', 'com.example.app:/oauth', 'http://localhost:8090/cb'];

  it('an exact registered URI matches', () => {
    for (const uri of registered) expect(matchRedirectUri(uri, registered)).toBe(true);
  });

  it.each([
    'https://app.example/cb/',
    'https://app.example/cb?x=1',
    'https://app.example/cb#f',
    'https://app.example/CB',
    'https://APP.example/cb',
    'https://app.example:443/cb',
    'https://app.example/cb/../cb',
    'https://app.example/%63b',
    'https://evil.example@app.example/cb',
    'https://app.example@evil.example/cb',
    'http://app.example/cb',
    'com.example.app:/oauth/other',
    ' https://app.example/cb',
  ])('%s does not match', (uri) => {
    expect(matchRedirectUri(uri, registered)).toBe(false);
  });

  it('loopback IP literals may use any port; the rest must still be identical (RFC 8252 §7.3)', () => {
    expect(matchRedirectUri('http://127.0.0.1:51234/native/cb', registered)).toBe(true);
    expect(matchRedirectUri('http://[::1]/v6', registered)).toBe(true);
    expect(matchRedirectUri('http://[::1]:1/v6', registered)).toBe(true);
    expect(matchRedirectUri('http://127.0.0.1:51234/native/cb/', registered)).toBe(false);
    expect(matchRedirectUri('http://127.0.0.1:51234/native/cb?x', registered)).toBe(false);
    // The address family is part of the URI: 127.0.0.1 registered is not [::1].
    expect(matchRedirectUri('http://[::1]:51234/native/cb', registered)).toBe(false);
    // `localhost` is a name, not a loopback IP literal: exact match only.
    expect(matchRedirectUri('http://localhost:8091/cb', registered)).toBe(false);
    // A host that merely starts like a loopback address.
    expect(matchRedirectUri('http://127.0.0.1.evil.example/native/cb', registered)).toBe(false);
    expect(matchRedirectUri('http://127.0.0.1:80@evil.example/native/cb', registered)).toBe(false);
  });

  it('a loopback port outside 0-65535 is no URL at all: no match (it would fail only when redirecting)', () => {
    expect(matchRedirectUri('http://127.0.0.1:65535/native/cb', registered)).toBe(true);
    expect(matchRedirectUri('http://127.0.0.1:65536/native/cb', registered)).toBe(false);
    expect(matchRedirectUri('http://[::1]:99999/v6', registered)).toBe(false);
  });
});
