// Dynamic client registration (RFC 7591): what a client may register and what it gets back.
// Registered clients are browser-flow clients only (authorization code + refresh token): never
// agents, never client credentials or exchange, and they reach only the operator's listed resources.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { redirectUri } from '../config/schema.ts';
import type { Deps } from '../deps.ts';
import { OAuthError } from '../oauth/errors.ts';
import { isPublicJwk } from './public-keys.ts';
import { generateSecret } from './secrets.ts';
import { openClient, type OpenClientMetadata } from './open-client.ts';

const metadataSchema = z.looseObject({
  redirect_uris: z.array(z.string()).min(1).max(20),
  post_logout_redirect_uris: z.array(z.string()).max(20).optional(),
  token_endpoint_auth_method: z.enum(['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt']).default('client_secret_basic'),
  grant_types: z.array(z.enum(['authorization_code', 'refresh_token'])).min(1).max(2).default(['authorization_code']),
  response_types: z.array(z.literal('code')).min(1).max(1).default(['code']),
  client_name: z.string().min(1).max(200).optional(),
  jwks_uri: z.string().max(2000).optional(),
  jwks: z.strictObject({ keys: z.array(z.looseObject({ kty: z.string() })).min(1).max(10) }).optional(),
  software_statement: z.unknown().optional(),
});


export type Registration = { response: Record<string, unknown> };

/** Validates the metadata, stores the client, and returns the RFC 7591 §3.2.1 response. */
export async function registerClient(deps: Deps, body: unknown): Promise<Registration> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new OAuthError('invalid_client_metadata', 'the body must be a JSON object');
  const parsed = metadataSchema.safeParse(body);
  if (!parsed.success) {
    const field = String(parsed.error.issues[0]?.path[0] ?? 'metadata');
    throw new OAuthError(field === 'redirect_uris' ? 'invalid_redirect_uri' : 'invalid_client_metadata', `${field} is missing or invalid`);
  }
  const metadata = parsed.data;
  if (metadata.software_statement !== undefined) throw new OAuthError('invalid_software_statement', 'software statements are not accepted here');
  for (const uri of [...metadata.redirect_uris, ...(metadata.post_logout_redirect_uris ?? [])]) {
    if (!redirectUri.safeParse(uri).success) throw new OAuthError('invalid_redirect_uri', 'a redirect URI must be https (http only for loopback) or a private-use scheme, without fragment');
  }
  if (!metadata.grant_types.includes('authorization_code')) throw new OAuthError('invalid_client_metadata', 'grant_types must include authorization_code');
  const method = metadata.token_endpoint_auth_method;
  // Keys only inline: a registrant-chosen jwks_uri would be fetched by this server at the token
  // endpoint (without the metadata-document fetcher's address checks), letting anyone who can
  // register make it send requests to loopback and private addresses.
  if (metadata.jwks_uri !== undefined) throw new OAuthError('invalid_client_metadata', 'jwks_uri is not accepted here: give the public keys in jwks');
  if (method === 'private_key_jwt' && metadata.jwks === undefined) throw new OAuthError('invalid_client_metadata', 'private_key_jwt needs jwks');
  if (method !== 'private_key_jwt' && metadata.jwks !== undefined) throw new OAuthError('invalid_client_metadata', `a ${method} client has no keys`);
  if (metadata.jwks?.keys.some((key) => !isPublicJwk(key))) throw new OAuthError('invalid_client_metadata', 'jwks must hold public keys only');

  const now = deps.now();
  const clientId = `dyn_${randomBytes(18).toString('base64url')}`;
  const secret = method === 'client_secret_basic' || method === 'client_secret_post' ? generateSecret() : undefined;
  const stored: OpenClientMetadata = {
    client_id: clientId,
    client_name: metadata.client_name,
    redirect_uris: metadata.redirect_uris,
    post_logout_redirect_uris: metadata.post_logout_redirect_uris,
    grant_types: metadata.grant_types,
    token_endpoint_auth_method: method,
    jwks_uri: metadata.jwks_uri,
    jwks: metadata.jwks,
    secret_hash: secret?.hash,
  };
  const settings = deps.config.main.dynamic_registration;
  try {
    openClient(stored, settings.resources);
  } catch {
    throw new OAuthError('invalid_client_metadata', 'the client metadata is not acceptable');
  }
  const saved = await deps.store.dynamicClients.register({ clientId, source: 'registration', client: stored, createdAt: now, updatedAt: now }, settings.max_clients);
  if (!saved) throw new OAuthError('temporarily_unavailable', 'registration is closed: too many registered clients', { status: 503, reason: 'registration_full' });
  await deps.receipts.record({ event: 'client.registered', clientId, details: { token_endpoint_auth_method: method, redirect_uris: metadata.redirect_uris.length } });

  const { secret_hash: _hash, ...visible } = stored;
  return {
    response: {
      ...Object.fromEntries(Object.entries(visible).filter(([, v]) => v !== undefined)),
      response_types: ['code'],
      client_id_issued_at: now,
      ...(secret ? { client_secret: secret.secret, client_secret_expires_at: 0 } : {}),
    },
  };
}
