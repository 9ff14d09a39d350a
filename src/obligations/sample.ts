// A sample request for `consulate policy explain` (JSON) → the policies' input: client as an id
// (looked up in config for kind, owner and name) or as an object, person's canonical claims,
// scopes (a list or a space-separated string), resource, details (or authorization_details),
// grant (default token_exchange), risk (default no signals).
import { z } from 'zod';
import type { ClientConfig } from '../config/schema.ts';
import type { PolicyGrant, PolicyInput } from './types.ts';

const grants = ['token_exchange', 'jwt_bearer', 'ciba', 'device_code', 'client_credentials', 'authorization_code'] as const satisfies readonly PolicyGrant[];

const sampleSchema = z.strictObject({
  client: z.union([z.string().min(1), z.strictObject({ client_id: z.string().min(1), kind: z.enum(['client', 'agent']).default('agent'), owner: z.string().optional(), name: z.string().optional() })]),
  person: z.record(z.string(), z.unknown()).default({}),
  scopes: z.union([z.array(z.string()), z.string().transform((s) => s.split(' ').filter(Boolean))]).default([]),
  resource: z.string().optional(),
  details: z.array(z.unknown()).optional(),
  authorization_details: z.array(z.unknown()).optional(),
  grant: z.enum(grants).default('token_exchange'),
  risk: z.strictObject({ new_agent: z.boolean().default(false), chain: z.number().int().min(0).max(100).default(0) }).prefault({}),
});

export function readPolicySample(text: string, clients: ReadonlyMap<string, ClientConfig>): { ok: true; input: PolicyInput } | { ok: false; message: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const parsed = sampleSchema.safeParse(json);
  if (!parsed.success) return { ok: false, message: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
  const sample = parsed.data;
  let client: PolicyInput['client'];
  if (typeof sample.client === 'string') {
    const known = clients.get(sample.client);
    if (!known) return { ok: false, message: `no client ${sample.client} in clients/` };
    client = { client_id: known.client_id, kind: known.kind, owner: known.owner, name: known.name };
  } else client = sample.client;
  return { ok: true, input: { client, person: sample.person, scopes: sample.scopes, resource: sample.resource, details: sample.details ?? sample.authorization_details ?? [], grant: sample.grant, risk: sample.risk } };
}
