// Validation of a Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document §4):
// RFC 7591 client metadata, restricted to what a public, browser-redirecting MCP client needs.
import { z } from 'zod';
import { redirectUri } from '../../config/schema.ts';
import { isPublicJwk } from '../public-keys.ts';
import { isLoopbackHost } from './url.ts';

const maxUriLength = 2000;

// Display URIs: https, or http on a loopback host (shown, never fetched).
const webUri = z
  .string()
  .max(maxUriLength)
  .refine((value) => {
    try {
      const url = new URL(value);
      if (value.includes('#') || url.username || url.password) return false;
      return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
    } catch {
      return false;
    }
  }, 'must be an https URL without fragment or userinfo');

const publicJwk = z.looseObject({ kty: z.string().min(1).max(20) }).refine(isPublicJwk, 'keys must be public keys');

const noControlCharacters = /^[^\p{Cc}]*$/u;

const documentSchema = z
  .object({
    client_id: z.string(),
    client_name: z.string().min(1).max(200).regex(noControlCharacters, 'must not contain control characters').optional(),
    client_uri: webUri.optional(),
    logo_uri: webUri.optional(),
    redirect_uris: z.array(redirectUri).min(1).max(20),
    post_logout_redirect_uris: z.array(redirectUri).max(20).default([]),
    grant_types: z
      .array(z.enum(['authorization_code', 'refresh_token']))
      .min(1)
      .max(2)
      .default(['authorization_code'])
      .refine((grants) => grants.includes('authorization_code'), 'must include authorization_code'),
    response_types: z.tuple([z.literal('code')]).default(['code']),
    token_endpoint_auth_method: z.enum(['none', 'private_key_jwt'], 'must be none or private_key_jwt: a public document cannot hold a shared secret').default('none'),
    // Keys only inline: a jwks_uri would be fetched later, at the token endpoint, without this
    // fetcher's address checks (a way to make the server call private addresses).
    jwks_uri: z.never('jwks_uri is not accepted: publish the keys inline in jwks').optional(),
    jwks: z.strictObject({ keys: z.array(publicJwk).min(1).max(20) }).optional(),
    scope: z.string().max(1000).regex(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, 'must be space-separated scope tokens').optional(),
  })
  .refine((doc) => doc.token_endpoint_auth_method !== 'private_key_jwt' || doc.jwks !== undefined, {
    message: 'private_key_jwt needs jwks',
    path: ['token_endpoint_auth_method'],
  });

export type ClientMetadataDocument = {
  client_id: string;
  client_name?: string;
  client_uri?: string;
  logo_uri?: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: ('authorization_code' | 'refresh_token')[];
  response_types: ['code'];
  token_endpoint_auth_method: 'none' | 'private_key_jwt';
  jwks?: { keys: object[] };
  scope?: string;
};

export type DocumentResult =
  | { ok: true; document: ClientMetadataDocument }
  | { ok: false; reason: 'invalid_document' | 'client_id_mismatch'; message: string };

const invalid = (message: string): DocumentResult => ({ ok: false, reason: 'invalid_document', message });

/** Parses the body of a metadata document fetched from documentUrl. Never throws. */
export function parseClientMetadataJson(text: string, documentUrl: string): DocumentResult {
  let value: unknown;
  try {
    // JSON.parse makes `__proto__` an own data property, not a prototype; zod copies known keys only.
    value = JSON.parse(text);
  } catch {
    return invalid('the document is not valid JSON');
  }
  return validateClientMetadataDocument(value, documentUrl);
}

/** Validates an already parsed document. Unknown members are dropped. Never throws. */
export function validateClientMetadataDocument(value: unknown, documentUrl: string): DocumentResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid('the document is not a JSON object');
  const members = value as Record<string, unknown>;
  // Compared exactly, as a string: no case folding, no trailing-slash or percent-encoding leniency.
  if (members['client_id'] !== documentUrl) {
    return { ok: false, reason: 'client_id_mismatch', message: 'client_id in the document does not equal the document URL' };
  }
  if (Object.hasOwn(members, 'client_secret') || Object.hasOwn(members, 'client_secret_expires_at')) {
    return invalid('a metadata document must not contain a client secret');
  }
  const parsed = documentSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.map(String).join('.')}: ` : '';
    return invalid(`${where}${issue?.message ?? 'invalid document'}`.slice(0, 300));
  }
  return { ok: true, document: stripUndefined(parsed.data) as ClientMetadataDocument };
}

// Leaves optional members absent rather than present-and-undefined, for equality and serialisation.
function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
