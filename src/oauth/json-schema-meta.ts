// The JSON Schema 2020-12 meta-schema check every RAR type schema passes before ajv compiles it
// (authorization-details.ts). Left to itself, ajv compiles the meta-schema on the first schema it
// meets: at every start of a config with RAR types, ~250 ms and ~7 MB of short-lived memory. The
// build compiles it once instead, into plain JavaScript next to this module (ajv's standalone code,
// write-json-schema-meta.ts, run by `npm run build`); where that file is missing (the sources run
// through tsx, as the tests do) ajv compiles the meta-schema as before. Both give the same verdicts
// and the same messages (test/unit/oauth/json-schema-meta.test.ts).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';

/** ajv's options for RAR schemas; the precompiled check is compiled with the same. */
export const detailsAjvOptions = { allErrors: false, strict: true, allowUnionTypes: true } as const;

/** The meta-schema ajv's 2020 class checks a schema without `$schema` against (the RAR schemas lose theirs). */
export const metaSchemaId = 'https://json-schema.org/draft/2020-12/schema';

export const precompiledMetaFile = 'json-schema-meta.cjs';

/** The precompiled check in `dir` (by default next to this module), or undefined when the build has not made one. */
export function loadPrecompiledMeta(dir: string = import.meta.dirname): ValidateFunction | undefined {
  const file = join(dir, precompiledMetaFile);
  return existsSync(file) ? (createRequire(import.meta.url)(file) as ValidateFunction) : undefined;
}
