// RFC 9396 authorization_details: parse the parameter, check each object's type is one the
// resource declares and the client may ask for, and validate it against that type's JSON Schema.
// Pure: returns a tagged result; the caller maps it to invalid_authorization_details.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { detailsAjvOptions, loadPrecompiledMeta } from './json-schema-meta.ts';

export type AuthorizationDetail = { type: string; [key: string]: unknown };

export type DetailsSchemaCompiler = (schema: Record<string, unknown>) => { validate?: ValidateFunction; error?: string };

/** `meta`: the precompiled meta-schema check (json-schema-meta.ts); without it ajv checks each schema itself. */
export function createDetailsCompiler(meta?: ValidateFunction): DetailsSchemaCompiler {
  const ajv = new Ajv2020({ ...detailsAjvOptions, validateSchema: meta === undefined });
  (addFormatsModule as unknown as (a: Ajv2020) => void)(ajv);
  return (schema) => {
    try {
      const { $schema: _schema, $id: _id, ...rest } = schema;
      // Worded as ajv words it when it checks the schema itself.
      if (meta && !meta(rest)) throw new Error(`schema is invalid: ${ajv.errorsText(meta.errors)}`);
      return { validate: ajv.compile(rest) };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  };
}

export const compileDetailsSchema = createDetailsCompiler(loadPrecompiledMeta());

export type DetailsCheck =
  | { ok: true; details: AuthorizationDetail[] }
  | { ok: false; reason: 'malformed' | 'too_many' | 'unknown_type' | 'type_not_allowed' | 'schema_mismatch'; detail: string };

const maxDetails = 20;

/** `types` maps each type the resource declares to its validator; `allowed` are the types the client may ask for. */
export function checkAuthorizationDetails(
  raw: string,
  types: ReadonlyMap<string, ValidateFunction>,
  allowed: readonly string[],
): DetailsCheck {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'malformed', detail: 'authorization_details is not valid JSON' };
  }
  if (!Array.isArray(parsed) || parsed.length === 0) return { ok: false, reason: 'malformed', detail: 'authorization_details must be a non-empty JSON array' };
  if (parsed.length > maxDetails) return { ok: false, reason: 'too_many', detail: `at most ${maxDetails} authorization_details objects` };
  const details: AuthorizationDetail[] = [];
  for (const [index, item] of parsed.entries()) {
    if (!item || typeof item !== 'object' || Array.isArray(item) || typeof (item as { type?: unknown }).type !== 'string') {
      return { ok: false, reason: 'malformed', detail: `authorization_details[${index}] must be an object with a string "type"` };
    }
    const detail = item as AuthorizationDetail;
    const validate = types.get(detail.type);
    if (!validate) return { ok: false, reason: 'unknown_type', detail: `authorization_details type "${detail.type}" is not accepted by this resource` };
    if (!allowed.includes(detail.type)) return { ok: false, reason: 'type_not_allowed', detail: `authorization_details type "${detail.type}" is not allowed for this client` };
    if (!validate(detail)) {
      const first = validate.errors?.[0];
      const where = first?.instancePath ? ` at ${first.instancePath}` : '';
      return { ok: false, reason: 'schema_mismatch', detail: `authorization_details[${index}]${where} ${first?.message ?? 'does not match its type'}` };
    }
    details.push(detail);
  }
  return { ok: true, details };
}
