// The meta-schema check precompiled by the build (json-schema-meta.ts) judges RAR type schemas
// exactly as ajv does when it compiles the meta-schema itself: same accepted schemas, same refusal
// messages (which `consulate check` prints), same validators. And the build ships it in dist/.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDetailsCompiler } from '../../../src/oauth/authorization-details.ts';
import { loadPrecompiledMeta, precompiledMetaFile } from '../../../src/oauth/json-schema-meta.ts';
import { metaValidatorCode, writePrecompiledMeta } from '../../../src/oauth/write-json-schema-meta.ts';

const schemas: Record<string, unknown>[] = [
  // Valid: the demo's tool type, and keywords of each 2020-12 vocabulary.
  { type: 'object', required: ['type', 'tool'], additionalProperties: false, properties: { type: { const: 'tool' }, tool: { type: 'string', minLength: 1, maxLength: 100 }, actions: { type: 'array', maxItems: 10, items: { type: 'string', enum: ['read', 'write'] } } } },
  { type: 'object', properties: { type: { const: 'payment' }, amount: { type: 'number', exclusiveMinimum: 0 }, currency: { type: 'string', pattern: '^[A-Z]{3}$' }, email: { type: 'string', format: 'email' } }, unevaluatedProperties: false },
  { type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }], minItems: 2, items: false, $defs: { name: { type: 'string' } } },
  { type: 'object', properties: { when: { type: 'string', format: 'date-time' } }, dependentRequired: { when: ['type'] }, $schema: 'https://json-schema.org/draft/2020-12/schema', $id: 'https://example.test/ignored' },
  { type: ['string', 'number'] },
  // Refused by the meta-schema.
  { type: 'nonsense' },
  { type: 'string', minLength: 'one' },
  { type: 'object', required: 'type' },
  { allOf: {} },
  { $defs: { x: { type: 3 } } },
  { type: 'object', dependentRequired: { a: 'b' } },
  { type: 'object', properties: { a: { type: 'string', maxLength: -1 } } },
  // Refused by ajv's compiler (strict mode, references, formats).
  { properties: { a: { type: 'string' } } },
  { type: 'object', unknownKeyword: 1 },
  { type: 'object', properties: { a: { enum: [] } } },
  { $ref: '#/$defs/missing' },
  { type: 'string', format: 'no-such-format' },
];

const samples: unknown[] = [{ type: 'tool', tool: 'search' }, { type: 'tool', tool: '', actions: ['delete'] }, { type: 'payment', amount: 3, currency: 'EUR', email: 'a@b.test' }, { type: 'payment', amount: 0, currency: 'eur' }, ['a', 1], ['a', 'b'], 'text', 4, { when: 'yesterday' }];

describe('the precompiled JSON Schema meta-schema check', () => {
  // Under node_modules/, so that the written module finds ajv's runtime as the built one does.
  const cache = resolve(import.meta.dirname, '../../../node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'consulate-meta-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('judges every schema as ajv does by itself, in the same words, and the validators agree', () => {
    writePrecompiledMeta(dir);
    const meta = loadPrecompiledMeta(dir);
    expect(meta).toBeTypeOf('function');
    const precompiled = createDetailsCompiler(meta);
    const byAjv = createDetailsCompiler();
    const verdicts = schemas.map((schema) => {
      const [a, b] = [precompiled(schema), byAjv(schema)];
      expect(a.error, JSON.stringify(schema)).toBe(b.error);
      expect(a.validate === undefined, JSON.stringify(schema)).toBe(b.validate === undefined);
      if (a.validate && b.validate) for (const sample of samples) expect(a.validate(sample), `${JSON.stringify(schema)} on ${JSON.stringify(sample)}`).toBe(b.validate(sample));
      return a.error === undefined ? 'ok' : a.error.startsWith('schema is invalid: ') ? 'meta' : 'compiler';
    });
    // Each kind of verdict is among those compared.
    expect(verdicts).toEqual([...Array(5).fill('ok'), ...Array(7).fill('meta'), ...Array(5).fill('compiler')]);
    expect(precompiled({ type: 'nonsense' }).error).toBe('schema is invalid: data/type must be equal to one of the allowed values, data/type must be array, data/type must match a schema in anyOf');
  });

  it('is absent where no build made it: ajv checks schemas itself', () => {
    expect(loadPrecompiledMeta(join(dir, 'nowhere'))).toBeUndefined();
  });

  it('the build ships it next to the built module, made by the ajv installed', () => {
    const built = resolve(import.meta.dirname, '../../../dist/oauth');
    expect(readFileSync(join(built, precompiledMetaFile), 'utf8')).toBe(metaValidatorCode());
    expect(loadPrecompiledMeta(built)).toBeTypeOf('function');
  });
});
