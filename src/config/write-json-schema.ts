// Writes config/schema/*.schema.json from the zod schemas, so editors validate YAML as it is typed
// (yaml-language-server modeline at the top of each config file). `npm run schema:generate`.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { clientSchema, issuerSchema, mainConfigSchema, mappingSchema, policySchema, resourceSchema, upstreamSchema } from './schema.ts';

export const jsonSchemas = (): Record<string, unknown> => ({
  'consulate.schema.json': z.toJSONSchema(mainConfigSchema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }),
  'client.schema.json': z.toJSONSchema(clientSchema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }),
  'resource.schema.json': z.toJSONSchema(resourceSchema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }),
  'upstream.schema.json': z.toJSONSchema(upstreamSchema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }),
  'mapping.schema.json': z.toJSONSchema(mappingSchema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }),
  'issuer.schema.json': z.toJSONSchema(issuerSchema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }),
  'policy.schema.json': z.toJSONSchema(policySchema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }),
});

export const renderSchema = (schema: unknown): string => `${JSON.stringify(schema, null, 2)}\n`;

if (process.argv[1]?.endsWith('write-json-schema.ts')) {
  const dir = resolve(process.argv[2] ?? 'config/schema');
  for (const [name, schema] of Object.entries(jsonSchemas())) {
    writeFileSync(resolve(dir, name), renderSchema(schema));
    process.stdout.write(`wrote ${resolve(dir, name)}\n`);
  }
}
