// An upstream's signing keys, for verifying its ID tokens at sign-in and its tokens at token
// exchange: its discovery document (once; again after a failure) gives jwks_uri, and jose's remote
// key set caches the keys and fetches them again when a token names a kid it does not know. Right
// after a fetch jose waits 30 s before the next; a kid still unknown then forces one more fetch, at
// most once a second per upstream, so a key rotation at the upstream never locks people out. One
// entry per upstream config object, so a reload that changes an upstream starts afresh.
// Must not follow redirects or accept a jwks_uri that is not https (http only on loopback).
import { createRemoteJWKSet, customFetch, errors, type JWTVerifyGetKey } from 'jose';
import type { UpstreamConfig } from '../config/schema.ts';
import { UpstreamError } from './connector.ts';
import { authorityDiscoveryUrl, isMultiTenantAuthority, issuerTemplate } from './entra-tenants.ts';
import { fetchUpstream, fetchUpstreamJson } from './upstream-fetch.ts';

const loopback = new Set(['localhost', '127.0.0.1', '[::1]']);

type Entry = { keys?: Promise<JWTVerifyGetKey> };
const cache = new WeakMap<UpstreamConfig, Entry>();

/** The key set that verifies `upstream`'s tokens; `timeoutMs` bounds each request to it. */
export function upstreamKeys(upstream: UpstreamConfig, timeoutMs: number): Promise<JWTVerifyGetKey> {
  let entry = cache.get(upstream);
  if (!entry) {
    entry = {};
    cache.set(upstream, entry);
  }
  const current = entry;
  current.keys ??= discoverKeys(upstream, timeoutMs).catch((error: unknown) => {
    current.keys = undefined; // try again on the next token
    throw error;
  });
  return current.keys;
}

async function discoverKeys(upstream: UpstreamConfig, timeoutMs: number): Promise<JWTVerifyGetKey> {
  // 1. Discovery: at a multi-tenant Entra authority the document announces the {tenantid} template.
  const multiTenant = isMultiTenantAuthority(upstream.kind, upstream.issuer);
  const where = multiTenant ? authorityDiscoveryUrl(upstream.issuer) : new URL(`${upstream.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  const document = await fetchUpstreamJson(where, { timeoutMs, trace: { call: 'discovery', upstream: upstream.id } });
  const expected = multiTenant ? issuerTemplate(upstream.issuer) : upstream.issuer;
  if (document.issuer !== expected) throw new UpstreamError('invalid_response', `discovery of ${upstream.id} announced another issuer`);
  // 2. Its jwks_uri, https (or loopback http, as the issuer itself may be).
  const jwksUri = typeof document.jwks_uri === 'string' ? URL.parse(document.jwks_uri) : null;
  if (!jwksUri || !(jwksUri.protocol === 'https:' || (jwksUri.protocol === 'http:' && loopback.has(jwksUri.hostname)))) {
    throw new UpstreamError('invalid_response', `discovery of ${upstream.id} has no usable jwks_uri`);
  }
  // 3. A remote key set whose fetches are bounded like every other upstream request.
  const remote = createRemoteJWKSet(jwksUri, {
    timeoutDuration: timeoutMs,
    cooldownDuration: 30_000,
    cacheMaxAge: 600_000,
    [customFetch]: async (url: string, init: { headers?: Headers | Record<string, string>; signal?: AbortSignal }) => {
      const response = await fetchUpstream(url, { timeoutMs, signal: init.signal, headers: { accept: 'application/json, application/jwk-set+json' }, trace: { call: 'jwks', upstream: upstream.id } });
      return new Response(response.status === 200 ? Buffer.from(response.body) : null, { status: response.status, headers: { 'content-type': response.contentType } });
    },
  });
  // 4. A kid unknown even so (jose cooling down after a fetch): one forced fetch, at most once a second.
  let forcedAt = 0;
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || Date.now() - forcedAt < 1000) throw error;
      forcedAt = Date.now();
      await remote.reload();
      return remote(header, token);
    }
  };
}
