// config/schema/*.schema.json let editors validate YAML as it is typed. They are generated from the
// zod schemas (`npm run schema:generate`); this keeps the committed copies from drifting.
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { jsonSchemas, renderSchema } from '../../../src/config/write-json-schema.ts';

const configDir = resolve(import.meta.dirname, '../../../config');
const schemaDir = resolve(configDir, 'schema');
const committed = (name: string) => readFileSync(resolve(schemaDir, name), 'utf8');

describe('committed JSON Schemas', () => {
  const generated = jsonSchemas();

  it('cover exactly the generated set', () => {
    expect(readdirSync(schemaDir).filter((name) => name.endsWith('.schema.json')).sort()).toEqual(Object.keys(generated).sort());
  });

  it.each(Object.keys(jsonSchemas()))('%s equals what `npm run schema:generate` writes now', (name) => {
    expect(committed(name), `config/schema/${name} is stale: run npm run schema:generate`).toBe(renderSchema(generated[name]));
  });
});

describe('demo YAML against the committed JSON Schemas', () => {
  // Editors (yaml-language-server) read these schemas; their union types ("type": [a, b]) are fine.
  const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
  const validator = (name: string) => ajv.compile(JSON.parse(committed(name)) as object);
  const validators = {
    main: validator('consulate.schema.json'),
    client: validator('client.schema.json'),
    resource: validator('resource.schema.json'),
    upstream: validator('upstream.schema.json'),
    mapping: validator('mapping.schema.json'),
    policy: validator('policy.schema.json'),
  };
  const yaml = (file: string) => parse(readFileSync(resolve(configDir, file), 'utf8')) as Record<string, unknown>;
  const demoFiles: [string, keyof typeof validators][] = [
    ['consulate.yaml', 'main'],
    ...readdirSync(resolve(configDir, 'clients')).map((name): [string, 'client'] => [`clients/${name}`, 'client']),
    ...readdirSync(resolve(configDir, 'resources')).map((name): [string, 'resource'] => [`resources/${name}`, 'resource']),
    ...readdirSync(resolve(configDir, 'upstreams')).map((name): [string, 'upstream'] => [`upstreams/${name}`, 'upstream']),
    ...readdirSync(resolve(configDir, 'mappings'))
      .filter((name) => !name.includes('.fixtures.'))
      .map((name): [string, 'mapping'] => [`mappings/${name}`, 'mapping']),
    ...readdirSync(resolve(configDir, 'policies')).map((name): [string, 'policy'] => [`policies/${name}`, 'policy']),
  ];

  it('there are demo files of every kind', () => {
    expect(demoFiles.map(([, kind]) => kind).sort()).toEqual(['client', 'client', 'client', 'client', 'client', 'client', 'client', 'main', 'mapping', 'policy', 'resource', 'resource', 'resource', 'resource', 'upstream', 'upstream', 'upstream']);
  });

  it.each(demoFiles)('%s is valid', (file, kind) => {
    const validate = validators[kind];
    expect(validate(yaml(file)), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each(demoFiles)('%s with a misspelled key is invalid (the schema is strict)', (file, kind) => {
    expect(validators[kind]({ ...yaml(file), lisen: 1 })).toBe(false);
  });

  it('a wrong type is invalid', () => {
    expect(validators.main({ listen: { port: 'abc' } })).toBe(false);
    expect(validators.client({ client_id: 'x', token_endpoint_auth_method: 'client_secret_jwt' })).toBe(false);
  });
});
