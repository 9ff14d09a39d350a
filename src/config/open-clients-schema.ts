// Clients the operator did not list in config/clients/: MCP clients that name themselves by the URL
// of a Client ID Metadata Document, and clients that register themselves (RFC 7591). Both get at
// most what `resources` here allows, always with the person's consent and always naming a resource.
import { z } from 'zod';
import { absoluteUri, scopeToken } from './values.ts';

const openResources = z
  .record(
    absoluteUri,
    z.strictObject({
      scopes: z.array(scopeToken).default([]).describe('Scopes of this resource such clients may ask for.'),
    }),
  )
  .default({})
  .describe('Resources (RFC 8707) such clients may get Passports for, with their scopes. Empty: none (sign-in only).');

export const clientIdMetadataDocumentsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Accept an https URL as client_id and fetch its Client ID Metadata Document (MCP authorization, draft-ietf-oauth-client-id-metadata-document).'),
    resources: openResources,
    allowed_hosts: z.array(z.string().min(1).max(253)).default([]).describe('Only documents on these host names. Empty: any public host.'),
    max_bytes: z.number().int().min(256).max(65536).default(5120).describe('Largest document accepted.'),
    timeout_ms: z.number().int().min(100).max(30000).default(3000).describe('Deadline of the whole fetch (DNS, connect, TLS, headers and body).'),
    min_cache_seconds: z.number().int().min(0).max(86400).default(300).describe('A document is refetched no sooner than this, whatever its Cache-Control says.'),
    max_cache_seconds: z.number().int().min(1).max(604800).default(86400).describe('A document is refetched no later than this.'),
    allow_loopback_http: z
      .boolean()
      .default(false)
      .describe('Tests and demos only: also fetch http:// documents on 127.0.0.1, [::1] and localhost, and https on loopback addresses. Never in production: loopback is otherwise refused like every private address.'),
    max_clients: z.number().int().min(1).max(1_000_000).default(10000).describe('Most document clients kept in the database; a new one beyond it is refused (known ones are still refreshed).'),
    ca_file: z.string().min(1).optional().describe('PEM file of extra certificate authorities trusted for document hosts (an internal CA), relative to the config directory.'),
  })
  .prefault({})
  .describe('Client ID Metadata Documents: clients identified by a URL (MCP clients).');

export const dynamicRegistrationSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe('Serve the registration endpoint (RFC 7591). Off by default.'),
    resources: openResources,
    initial_access_token_hash: z
      .string()
      .optional()
      .describe('When set, registering needs this Bearer token (RFC 7591 §3): the hash from `consulate secret hash`; may be a ${env:NAME} reference.'),
    max_clients: z.number().int().min(1).max(1_000_000).default(10000).describe('Most registered clients kept; registration is refused beyond it.'),
  })
  .prefault({})
  .describe('Dynamic client registration (RFC 7591).');
