// Fetches a Client ID Metadata Document. The URL comes from an unauthenticated request, so this is
// a server-side request forgery surface: every address is checked at connect time (DNS included),
// nothing is followed, and size and time are bounded. Only ClientMetadataError ever escapes.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { parseClientMetadataJson, type ClientMetadataDocument } from './document.ts';
import { isAllowedAddress, type AddressOptions } from './address.ts';
import { isLoopbackHost, isMetadataDocumentUrl, maxMetadataDocumentUrlLength } from './url.ts';

export type MetadataDocumentLimits = {
  maxBytes: number;
  timeoutMs: number;
  allowLoopbackHttp: boolean;
  /** Extra trusted PEM CA(s), added to Node's bundled roots. */
  ca?: string | undefined;
  minCacheSeconds: number;
  maxCacheSeconds: number;
  /** When non-empty: only these host names may be fetched. */
  allowedHosts?: readonly string[] | undefined;
};

export type FetchedClientDocument = { document: ClientMetadataDocument; cacheSeconds: number };

export type ClientMetadataErrorReason =
  | 'not_a_url' | 'insecure_url' | 'host_not_allowed' | 'private_address' | 'redirect' | 'http_status'
  | 'not_json' | 'too_large' | 'timeout' | 'network' | 'invalid_document' | 'client_id_mismatch';

export class ClientMetadataError extends Error {
  override readonly name = 'ClientMetadataError';
  constructor(readonly reason: ClientMetadataErrorReason, message: string) {
    super(message);
  }
}

export async function fetchClientMetadataDocument(url: string, limits: MetadataDocumentLimits): Promise<FetchedClientDocument> {
  const target = checkTarget(url, limits);
  const { body, cacheControl } = await get(target, limits);
  const result = parseClientMetadataJson(body, url);
  if (!result.ok) throw new ClientMetadataError(result.reason, result.message);
  return { document: result.document, cacheSeconds: cacheSeconds(cacheControl, limits) };
}

function checkTarget(raw: string, limits: MetadataDocumentLimits): URL {
  let url: URL;
  try {
    if (typeof raw !== 'string' || raw.length > maxMetadataDocumentUrlLength) throw new Error();
    url = new URL(raw);
  } catch {
    throw new ClientMetadataError('not_a_url', 'client_id is not a URL');
  }
  if (url.protocol === 'http:' && !(limits.allowLoopbackHttp && isLoopbackHost(url.hostname))) {
    throw new ClientMetadataError('insecure_url', 'client_id must be an https URL');
  }
  if (!isMetadataDocumentUrl(raw, limits)) throw new ClientMetadataError('not_a_url', 'client_id is not a valid metadata document URL');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const allowed = limits.allowedHosts ?? [];
  if (allowed.length > 0 && !allowed.some((h) => h.toLowerCase().replace(/^\[(.*)\]$/, '$1') === host)) {
    throw new ClientMetadataError('host_not_allowed', 'the client_id host is not allowed');
  }
  // Literal IPs never reach the lookup function, so they are checked here, before any connection.
  if (isIP(host) !== 0 && !isAllowedAddress(host, limits)) throw refusedAddress();
  return url;
}

const refusedAddress = () => new ClientMetadataError('private_address', 'the client_id host is not a public address');

/** A `lookup` for net/tls: refuses the host if ANY of its addresses is refused (DNS rebinding). */
export function guardedLookup(options: AddressOptions, resolve: typeof dnsLookup = dnsLookup): LookupFunction {
  return (hostname, lookupOptions, callback) => {
    resolve(hostname, { all: true }, (err, addresses: LookupAddress[]) => {
      if (err || addresses.length === 0) return callback(new ClientMetadataError('network', 'the client_id host could not be resolved'), '');
      if (!addresses.every((a) => isAllowedAddress(a.address, options))) return callback(refusedAddress(), '');
      const family = lookupOptions.family === 'IPv4' ? 4 : lookupOptions.family === 'IPv6' ? 6 : lookupOptions.family;
      const usable = family === 4 || family === 6 ? addresses.filter((a) => a.family === family) : addresses;
      const first = usable[0];
      if (!first) return callback(new ClientMetadataError('network', 'the client_id host has no usable address'), '');
      if (lookupOptions.all) callback(null, usable);
      else callback(null, first.address, first.family);
    });
  };
}

type Response = { body: string; cacheControl: string | undefined };

function get(url: URL, limits: MetadataDocumentLimits): Promise<Response> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const options: https.RequestOptions = {
      method: 'GET',
      headers: { accept: 'application/json', 'user-agent': 'Consulate (client metadata document fetcher)' },
      agent: false, // a fresh connection each time: no pooled socket skips the address check
      lookup: guardedLookup(limits),
      maxHeaderSize: 16 * 1024,
      ...(secure && limits.ca ? { ca: [...rootCertificates, limits.ca] } : {}),
    };
    let settled = false;
    let deadline: NodeJS.Timeout | undefined;
    const fail = (error: ClientMetadataError) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      req.destroy();
      reject(error);
    };
    let req: http.ClientRequest;
    try {
      req = (secure ? https : http).request(url, options);
    } catch (error) {
      return reject(networkError(error));
    }
    // One deadline for DNS, connect, TLS, headers and body: a trickling server cannot extend it.
    deadline = setTimeout(() => fail(new ClientMetadataError('timeout', 'fetching the client metadata document timed out')), limits.timeoutMs);
    req.on('error', (error) => fail(error instanceof ClientMetadataError ? error : networkError(error)));
    req.on('response', (res) => {
      res.on('error', (error) => fail(networkError(error)));
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) return fail(new ClientMetadataError('redirect', `the client_id URL redirects (HTTP ${status}); redirects are not followed`));
      if (status !== 200) return fail(new ClientMetadataError('http_status', `the client_id URL answered HTTP ${status}`));
      if (!isJsonType(res.headers['content-type'])) return fail(new ClientMetadataError('not_json', 'the client metadata document is not application/json'));
      const encoding = res.headers['content-encoding'];
      if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return fail(new ClientMetadataError('not_json', 'the client metadata document has a content encoding'));
      const tooLarge = () => new ClientMetadataError('too_large', `the client metadata document exceeds ${limits.maxBytes} bytes`);
      if (Number(res.headers['content-length'] ?? 0) > limits.maxBytes) return fail(tooLarge());
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limits.maxBytes) return fail(tooLarge());
        chunks.push(chunk);
      });
      res.on('close', () => {
        if (!res.complete) fail(new ClientMetadataError('network', 'the connection closed before the document was complete'));
      });
      res.on('end', () => {
        if (settled) return;
        let body: string;
        try {
          body = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
        } catch {
          return fail(new ClientMetadataError('invalid_document', 'the client metadata document is not UTF-8'));
        }
        settled = true;
        clearTimeout(deadline);
        resolve({ body, cacheControl: res.headers['cache-control'] });
      });
    });
    req.end();
  });
}

function isJsonType(contentType: string | undefined): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || /^application\/[a-z0-9!#$&^_.-]+\+json$/.test(type);
}

// Node's error text can carry addresses and paths: keep only a recognisable code.
function networkError(error: unknown): ClientMetadataError {
  const code = (error as { code?: unknown } | null)?.code;
  const safeCode = typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? ` (${code})` : '';
  return new ClientMetadataError('network', `fetching the client metadata document failed${safeCode}`);
}

function cacheSeconds(header: string | undefined, limits: MetadataDocumentLimits): number {
  const directives = (header ?? '').toLowerCase().split(',').map((d) => d.trim());
  if (directives.includes('no-store') || directives.includes('no-cache')) return limits.minCacheSeconds;
  const maxAge = directives.map((d) => /^max-age\s*=\s*"?(\d{1,12})"?$/.exec(d)?.[1]).find((v) => v !== undefined);
  if (maxAge === undefined) return limits.minCacheSeconds;
  return Math.min(limits.maxCacheSeconds, Math.max(limits.minCacheSeconds, Number(maxAge)));
}
