// /admin/v1/keys: the signing keys and their states (as `consulate keys list`), and rotation (as
// `consulate keys rotate`): the next key is published now and signs after the activation delay, on
// every node (the keyring reads the shared store); a receipt names the operator.
// /admin/v1/config: how the config stands on the node that answers: its files, when it was loaded,
// and the last reload with its problems (file:line:col, never values), as /status tells it.
import { relative, resolve } from 'node:path';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Deps } from '../../deps.ts';
import type { ConfigStatus } from '../../reload.ts';
import { needs, operatorOf } from './operator-auth.ts';
import { errorResponses, json, requires } from './schemas.ts';

/** passports/keys.ts signingAlgs, as the tuple zod wants. */
const algs = ['ES256', 'RS256', 'EdDSA'] as const;

const KeySchema = z
  .object({
    kid: z.string(),
    alg: z.enum(algs),
    state: z.string().openapi({ description: 'next (published, not signing yet), current, retired (published), expired.' }),
    activates_at: z.number().int().openapi({ description: 'Epoch seconds from which it signs.' }),
  })
  .openapi('SigningKey');
const KeyList = z.object({ keys: z.array(KeySchema) }).openapi('SigningKeys');
const Rotation = z
  .object({
    activate_in_seconds: z.number().int().min(0).max(30 * 86400).optional().openapi({ description: 'Seconds before the new key signs; default keys.activation_delay_seconds.' }),
    alg: z.enum(algs).optional().openapi({ description: 'Only this algorithm; default each one in use.' }),
  })
  .strict()
  .openapi('KeyRotation');

const ConfigStatusSchema = z
  .object({
    files: z.array(z.string()).openapi({ description: 'The config files in force, relative to the config directory.' }),
    loaded_at: z.number().int().optional().openapi({ description: 'Epoch seconds: when the config in force was loaded.' }),
    stale: z.boolean().openapi({ description: 'true while the last reload was refused or failed (the previous config stays in force).' }),
    last_reload: z
      .object({ at: z.number().int(), trigger: z.string(), outcome: z.enum(['applied', 'refused', 'failed']), problems: z.number().int().optional(), errors: z.array(z.string()).optional() })
      .optional(),
  })
  .openapi('ConfigStatus');

const keysOf = async (deps: Deps) => ({ keys: (await deps.keyring.status(deps.now())).map((k) => ({ kid: k.kid, alg: k.alg, state: k.state, activates_at: k.activatesAt })) });

/** The config files in force, relative to the config directory, each once (built-in presets left out). */
export function configFiles(deps: Deps): string[] {
  const { config } = deps;
  const located = [config.clients, config.resources, config.upstreams, config.issuers, config.mappings, config.policies].flatMap((map) => [...map.values()].map((v) => relative(config.dir, resolve(v.source.file))));
  return ['consulate.yaml', ...new Set(located.filter((file) => !file.startsWith('..')).sort())];
}

export function configStatusOf(deps: Deps, status: ConfigStatus | undefined) {
  const last = status?.lastReload;
  return {
    files: configFiles(deps),
    ...(status ? { loaded_at: status.loadedAt } : {}),
    stale: last !== undefined && last.outcome !== 'applied',
    ...(last ? { last_reload: { at: last.at, trigger: last.trigger, outcome: last.outcome, ...(last.problems !== undefined ? { problems: last.problems } : {}), ...(last.errors ? { errors: last.errors } : {}) } } : {}),
  };
}

export function keyAndConfigRoutes(app: OpenAPIHono, deps: Deps, configStatus?: () => ConfigStatus): void {
  app.openapi(
    createRoute({
      method: 'get', path: '/keys', tags: ['keys'], summary: 'List signing keys', security: requires('keys:read'), middleware: [needs('keys:read')] as const,
      responses: { 200: json(KeyList, 'The signing keys, per algorithm, oldest first.'), ...errorResponses },
    }),
    async (c) => c.json(await keysOf(deps), 200),
  );
  app.openapi(
    createRoute({
      method: 'post', path: '/keys/rotate', tags: ['keys'], summary: 'Rotate signing keys', description: 'Publishes the next key now; it signs after the delay. A receipt names the operator.',
      security: requires('keys:write'), middleware: [needs('keys:write')] as const,
      request: { body: { content: { 'application/json': { schema: Rotation } }, required: false } },
      responses: { 200: json(z.object({ added: z.array(KeySchema), keys: z.array(KeySchema) }).openapi('KeyRotationResult'), 'The keys added, and all keys now.'), ...errorResponses },
    }),
    async (c) => {
      const body = c.req.valid('json') ?? {};
      const now = deps.now();
      const delay = body.activate_in_seconds ?? deps.config.main.keys.activation_delay_seconds;
      const added = await deps.keyring.rotate(now, delay, body.alg ? [body.alg] : undefined);
      await deps.receipts.record({ event: 'keys.rotated', details: { by: operatorOf(c), kids: added.map((k) => k.kid), activates_at: now + delay } });
      const { keys } = await keysOf(deps);
      const kids = new Set(added.map((k) => k.kid));
      return c.json({ added: keys.filter((k) => kids.has(k.kid)), keys }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get', path: '/config', tags: ['config'], summary: 'Config status', description: 'The node that answers: its config files, when they were loaded, the last reload and its problems.',
      security: requires('config:read'), middleware: [needs('config:read')] as const,
      responses: { 200: json(ConfigStatusSchema, 'How the config stands.'), ...errorResponses },
    }),
    (c) => c.json(configStatusOf(deps, configStatus?.()), 200),
  );
}
