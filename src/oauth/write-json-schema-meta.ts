// Writes the precompiled JSON Schema 2020-12 meta-schema check (json-schema-meta.ts) next to this
// module: ajv compiles the meta-schema with the RAR schemas' options and emits it as a CommonJS
// module (its standalone code). `npm run build` runs the built copy after tsc, so dist/ has it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import standalone from 'ajv/dist/standalone/index.js';
import addFormatsModule from 'ajv-formats';
import { detailsAjvOptions, metaSchemaId, precompiledMetaFile } from './json-schema-meta.ts';

export function metaValidatorCode(): string {
  const ajv = new Ajv2020({ ...detailsAjvOptions, code: { source: true } });
  (addFormatsModule as unknown as (a: Ajv2020) => void)(ajv);
  const validate = ajv.getSchema(metaSchemaId);
  if (!validate) throw new Error(`ajv has no meta-schema ${metaSchemaId}`);
  return standalone.default(ajv, validate);
}

export function writePrecompiledMeta(dir: string = import.meta.dirname): string {
  const file = join(dir, precompiledMetaFile);
  writeFileSync(file, metaValidatorCode());
  return file;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) writePrecompiledMeta();
