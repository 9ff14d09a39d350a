// The pure parts of Client ID Metadata Documents: URL syntax, the address classifier and the
// document rules (including prototype-pollution attempts), and the DNS guard with a fake resolver.
import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import {
  ClientMetadataError,
  classifyAddress,
  guardedLookup,
  isAllowedAddress,
  isMetadataDocumentUrl,
  parseClientMetadataJson,
  validateClientMetadataDocument,
} from '../../../src/clients/metadata-document/index.ts';

describe('isMetadataDocumentUrl', () => {
  const strict = { allowLoopbackHttp: false };
  const loose = { allowLoopbackHttp: true };

  it.each([
    'https://app.example.com/oauth/client.json',
    'https://app.example.com:8443/c',
    'https://app.example.com/c?v=1', // a query is discouraged by the draft but allowed
    'https://127.0.0.1/c', // syntax only: the address check is the fetcher's
  ])('accepts %s', (id) => expect(isMetadataDocumentUrl(id, strict)).toBe(true));

  it.each([
    ['no path', 'https://app.example.com'],
    ['root path', 'https://app.example.com/'],
    ['root path with a query', 'https://app.example.com/?x=1'],
    ['a fragment', 'https://app.example.com/c#x'],
    ['an empty fragment', 'https://app.example.com/c#'],
    ['a username', 'https://user@app.example.com/c'],
    ['a password', 'https://user:pw@app.example.com/c'],
    ['a .. segment', 'https://app.example.com/a/../c'],
    ['a . segment', 'https://app.example.com/./c'],
    ['an encoded .. segment', 'https://app.example.com/a/%2E%2e/c'],
    ['a trailing .. segment', 'https://app.example.com/a/..'],
    ['an upper-case host', 'https://App.example.com/c'],
    ['a default port', 'https://app.example.com:443/c'],
    ['http', 'http://app.example.com/c'],
    ['http on loopback when not allowed', 'http://127.0.0.1:8080/c'],
    ['another scheme', 'ftp://app.example.com/c'],
    ['not a URL', 'app.example.com/c'],
    ['more than 2000 characters', `https://app.example.com/${'a'.repeat(2000)}`],
    ['whitespace', ' https://app.example.com/c'],
  ])('refuses %s', (_name, id) => expect(isMetadataDocumentUrl(id, strict)).toBe(false));

  it('allows http only for loopback hosts, and only when asked to', () => {
    expect(isMetadataDocumentUrl('http://127.0.0.1:8080/c', loose)).toBe(true);
    expect(isMetadataDocumentUrl('http://[::1]:8080/c', loose)).toBe(true);
    expect(isMetadataDocumentUrl('http://localhost:8080/c', loose)).toBe(true);
    expect(isMetadataDocumentUrl('http://10.0.0.1/c', loose)).toBe(false);
    expect(isMetadataDocumentUrl('http://localhost.example.com/c', loose)).toBe(false);
  });
});

describe('the address classifier', () => {
  it.each([
    ['93.184.216.34', 'public'],
    ['8.8.8.8', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['::ffff:8.8.8.8', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ...['0.0.0.0', '0.1.2.3', '10.1.2.3', '100.64.0.1', '100.127.255.255', '169.254.169.254', '172.16.0.1', '172.31.255.255', '192.168.1.1', '192.0.0.8',
      '198.18.0.1', '198.19.255.255', '224.0.0.251', '239.1.1.1', '240.0.0.1', '255.255.255.255'].map((a) => [a, 'refused']),
    ...['::', 'fc00::1', 'fd12:3456::1', 'fe80::1', 'febf::1', 'ff02::1', 'fe80::1%eth0', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1',
      '::ffff:169.254.169.254', '::127.0.0.1', '64:ff9b::10.0.0.1', '64:ff9b::7f00:1', '64:ff9b::a9fe:a9fe', '2002:a00:1::1', 'not-an-ip', ''].map((a) => [a, 'refused']),
  ])('%s is %s', (address, kind) => expect(classifyAddress(address)).toBe(kind));

  it('is just outside the refused ranges', () => {
    for (const a of ['100.63.255.255', '100.128.0.0', '172.15.255.255', '172.32.0.0', '198.17.255.255', '198.20.0.0', '223.255.255.255', '64:ff9b::808:808', 'fbff::1'])
      expect(classifyAddress(a), a).toBe('public');
  });

  it('allows loopback, and nothing more, with allowLoopbackHttp', () => {
    expect(isAllowedAddress('127.0.0.1', { allowLoopbackHttp: false })).toBe(false);
    expect(isAllowedAddress('127.0.0.1', { allowLoopbackHttp: true })).toBe(true);
    expect(isAllowedAddress('::1', { allowLoopbackHttp: true })).toBe(true);
    expect(isAllowedAddress('::ffff:127.0.0.1', { allowLoopbackHttp: true })).toBe(false);
    expect(isAllowedAddress('10.0.0.1', { allowLoopbackHttp: true })).toBe(false);
    expect(isAllowedAddress('8.8.8.8', { allowLoopbackHttp: false })).toBe(true);
  });
});

describe('document rules', () => {
  const url = 'https://app.example.com/oauth/client.json';
  const base = { client_id: url, redirect_uris: ['https://app.example.com/callback'] };
  const check = (extra: Record<string, unknown>) => validateClientMetadataDocument({ ...base, ...extra }, url);
  const reasonOf = (extra: Record<string, unknown>) => {
    const result = check(extra);
    return result.ok ? 'ok' : result.reason;
  };

  it('fills defaults and drops unknown members', () => {
    expect(check({ software_id: 'x', client_name: 'App' })).toEqual({
      ok: true,
      document: { ...base, client_name: 'App', post_logout_redirect_uris: [], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none' },
    });
  });

  it.each([
    ['a private-use scheme', ['com.example.app:/callback'], 'ok'],
    ['loopback http', ['http://127.0.0.1/cb', 'http://[::1]:9000/cb', 'http://localhost:3000/cb'], 'ok'],
    ['none', undefined, 'invalid_document'],
    ['an empty list', [], 'invalid_document'],
    ['21 entries', Array.from({ length: 21 }, (_, i) => `https://app.example.com/cb${i}`), 'invalid_document'],
    ['http on a public host', ['http://app.example.com/cb'], 'invalid_document'],
    ['a fragment', ['https://app.example.com/cb#x'], 'invalid_document'],
    ['userinfo', ['https://u@app.example.com/cb'], 'invalid_document'],
    ['javascript:', ['javascript:alert(1)'], 'invalid_document'],
    ['a relative URI', ['/callback'], 'invalid_document'],
    ['a non-string', [42], 'invalid_document'],
  ])('redirect_uris with %s: %s', (_name, redirect_uris, expected) => expect(reasonOf({ redirect_uris })).toBe(expected));

  it.each([
    [{ token_endpoint_auth_method: 'client_secret_basic' }, 'invalid_document'],
    [{ token_endpoint_auth_method: 'client_secret_jwt' }, 'invalid_document'],
    [{ client_secret: 'x' }, 'invalid_document'],
    [{ client_secret_expires_at: 0 }, 'invalid_document'],
    [{ token_endpoint_auth_method: 'private_key_jwt' }, 'invalid_document'],
    [{ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://app.example.com/jwks' }, 'invalid_document'],
    [{ jwks_uri: 'https://app.example.com/jwks' }, 'invalid_document'],
    [{ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] } }, 'ok'],
    [{ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'secret' }] } }, 'invalid_document'],
    [{ jwks: { keys: [{ kty: 'oct', k: 'secret' }] } }, 'invalid_document'],
    [{ grant_types: ['authorization_code', 'refresh_token'] }, 'ok'],
    [{ grant_types: ['implicit'] }, 'invalid_document'],
    [{ grant_types: ['client_credentials'] }, 'invalid_document'],
    [{ grant_types: ['refresh_token'] }, 'invalid_document'],
    [{ response_types: ['code'] }, 'ok'],
    [{ response_types: ['token'] }, 'invalid_document'],
    [{ response_types: ['code', 'id_token'] }, 'invalid_document'],
    [{ client_name: 'x'.repeat(200) }, 'ok'],
    [{ client_name: 'x'.repeat(201) }, 'invalid_document'],
    [{ client_name: 'Evil\u0000App' }, 'invalid_document'],
    [{ logo_uri: `https://app.example.com/${'a'.repeat(2000)}` }, 'invalid_document'],
    [{ logo_uri: 'javascript:alert(1)' }, 'invalid_document'],
    [{ client_uri: 'http://app.example.com/' }, 'invalid_document'],
    [{ scope: 'openid profile' }, 'ok'],
    [{ scope: 'openid  profile' }, 'invalid_document'],
    [{ client_id: `${url}/` }, 'client_id_mismatch'],
    [{ client_id: url.toUpperCase() }, 'client_id_mismatch'],
    [{ client_id: 'https://app.example.com/oauth/%63lient.json' }, 'client_id_mismatch'],
  ])('%j is %s', (extra, expected) => expect(reasonOf(extra)).toBe(expected));

  it('refuses JSON that is not an object', () => {
    for (const text of ['[]', 'null', '"x"', '42', '', '{']) expect(parseClientMetadataJson(text, url)).toMatchObject({ ok: false, reason: 'invalid_document' });
  });

  it('cannot be polluted through __proto__ or constructor keys', () => {
    const text = JSON.stringify({ ...base, jwks: { keys: [{ kty: 'EC', x: 'x' }] } })
      .replace('{', '{"__proto__":{"polluted":true,"token_endpoint_auth_method":"client_secret_basic"},"constructor":{"prototype":{"polluted":true}},')
      .replace('{"kty"', '{"__proto__":{"polluted":true},"kty"');
    const result = parseClientMetadataJson(text, url);
    if (!result.ok) throw new Error(result.message);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getPrototypeOf(result.document)).toBe(Object.prototype);
    expect(Object.keys(result.document)).not.toContain('__proto__');
    expect((result.document as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(result.document.token_endpoint_auth_method).toBe('none');
    const key = result.document.jwks?.keys[0] as Record<string, unknown>;
    expect(Object.getPrototypeOf(key)).toBe(Object.prototype);
    expect(key['polluted']).toBeUndefined();
  });
});

describe('guardedLookup (DNS rebinding)', () => {
  const fakeResolver = (addresses: LookupAddress[]) =>
    ((_host: string, _options: unknown, callback: (err: null, addresses: LookupAddress[]) => void) => callback(null, addresses)) as never;
  const run = (addresses: LookupAddress[], options: { all?: boolean; family?: number } = {}) =>
    new Promise<{ err: unknown; address: unknown; family: unknown }>((done) =>
      guardedLookup({ allowLoopbackHttp: false }, fakeResolver(addresses))('docs.example', options, (err, address, family) => done({ err, address, family })),
    );

  it('refuses a name if any of its addresses is private', async () => {
    const { err } = await run([{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.1', family: 4 }], { all: true });
    expect((err as ClientMetadataError).reason).toBe('private_address');
    const mapped = await run([{ address: '2606:4700::1', family: 6 }, { address: '::ffff:169.254.169.254', family: 6 }]);
    expect((mapped.err as ClientMetadataError).reason).toBe('private_address');
  });

  it('hands the checked addresses to the socket, honouring family and all', async () => {
    const addresses = [{ address: '2606:4700::1', family: 6 }, { address: '93.184.216.34', family: 4 }];
    expect(await run(addresses, { all: true })).toEqual({ err: null, address: addresses, family: undefined });
    expect(await run(addresses, { family: 4 })).toEqual({ err: null, address: '93.184.216.34', family: 4 });
    expect((await run([])).err).toBeInstanceOf(ClientMetadataError);
  });
});
