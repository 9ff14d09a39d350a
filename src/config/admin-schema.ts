// Zod schema of `admin:` in consulate.yaml: the admin API (/admin/v1, docs/integrators/admin-api.md)
// and the admin page (/admin, docs/operators/admin.md). Who may call them is decided by Passports
// (operator clients) and canonical claims (operators), never by a password store of its own.
import { z } from 'zod';
import { absoluteUri } from './values.ts';

/** The scopes of the admin resource: one read and one write scope per kind of thing. */
export const adminScopes = [
  'agents:read',
  'agents:write',
  'delegations:read',
  'delegations:write',
  'approvals:read',
  'approvals:write',
  'sessions:read',
  'sessions:write',
  'receipts:read',
  'keys:read',
  'keys:write',
  'config:read',
  'pats:read',
  'pats:write',
] as const;
export type AdminScope = (typeof adminScopes)[number];

export const adminSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Serve the admin API (/admin/v1) and the admin page (/admin). Without operator clients or operators nobody can use either.'),
    resource: absoluteUri
      .optional()
      .describe('The resource (RFC 8707) operator clients\' Passports must be issued for, with admin scopes (agents:read, agents:write, …). Declare it in config/resources/ with those scopes and list it in each operator client\'s resources. Default: <issuer>/admin.'),
    operators: z
      .array(z.string().min(1).max(320))
      .max(1000)
      .default([])
      .describe('People who may use the admin page: a verified e-mail (canonical `email` with `email_verified`), or `group:<name>` for a canonical group. Empty: the page signs nobody in.'),
  })
  .prefault({})
  .describe('The admin API and page: runtime management (agents, delegations, approvals, sessions, receipts, keys, config status) over HTTP: docs/operators/admin.md.');

export type AdminConfig = z.output<typeof adminSchema>;

/** The resource operator clients' Passports are for: configured, else `<issuer>/admin`. */
export const adminResourceOf = (admin: Pick<AdminConfig, 'resource'>, issuer: string): string => admin.resource ?? `${issuer.replace(/\/$/, '')}/admin`;
