// Zod schema of `pats:` in consulate.yaml: people's personal access tokens (src/pats/,
// docs/integrators/personal-access-tokens.md). Read on every request (a reload applies it).
import { z } from 'zod';

export const patsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('People may create personal access tokens at /account/tokens, and existing ones are accepted at introspection and token exchange. false: the page is gone and every PAT is refused (they stay stored and work again when re-enabled, unless expired or revoked).'),
    max_ttl_days: z.number().int().min(1).max(366).default(90).describe('The longest lifetime a person may give a personal access token, in days.'),
    max_per_person: z.number().int().min(1).max(1000).default(20).describe('Unexpired, unrevoked personal access tokens one person may hold at once; creating one more is refused.'),
    last_used_every_seconds: z.number().int().min(1).max(86400).default(60).describe('A token\'s last-used time is written at most this often (not on every request), so that busy tokens cost no write per use.'),
  })
  .prefault({})
  .describe('Personal access tokens: long-lived tokens people create for developer tools and scripts, bound to one resource and some of its scopes; accepted by introspection, and exchanged (RFC 8693) for short-lived Passports.');
