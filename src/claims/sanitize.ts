// The two boundaries of an evaluation (pure):
// - in: raw upstream claims → a bounded, prototype-safe deep copy that CEL reads (`toCelInput`);
// - out: a CEL value → a JSON value that may go into a token (`toClaimValue`).
// Both build fresh plain objects from own enumerable keys only, never copy `__proto__`,
// `constructor` or `prototype`, NFC-normalize strings, replace lone UTF-16 surrogates with U+FFFD
// (I-JSON, RFC 7493 §2.1: a token must not carry them), and refuse (rather than truncate) anything
// over the limits in limits.ts.
import { UnsignedInt } from '@marcbachmann/cel-js/evaluator';
import { forbiddenKeys, valueLimits } from './limits.ts';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Thrown inside the walkers; callers turn it into a result. `path` names where, never the value. */
export class ValueError extends Error {
  readonly path: string;
  constructor(
    at: Path,
    readonly problem: string,
  ) {
    const path = render(at);
    super(`${path}: ${problem}`);
    this.path = path;
  }
}

type Budget = { bytes: number };

/** Where a value is, built as a linked list and rendered only for an error message. */
type Path = string | { parent: Path; key: string | number };

/** True when every code unit is ASCII: then the string is its own NFC form and one byte per unit. */
const nonAscii = /[^\u0000-\u007f]/;
const isAscii = (s: string): boolean => !nonAscii.test(s);
const utf8Bytes = (s: string) => (isAscii(s) ? s.length : Buffer.byteLength(s, 'utf8'));
/** Keys in messages: attacker-chosen, so shortened and stripped of control characters. */
const showKey = (key: string) => {
  const clean = key.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > 64 ? `${clean.slice(0, 61)}...` : clean;
};
const join = (path: string, key: string | number) => (typeof key === 'number' ? `${path}[${key}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(showKey(key))}]`);
function render(at: Path): string {
  return typeof at === 'string' ? at : join(render(at.parent), at.key);
}

function spend(budget: Budget, bytes: number, path: Path) {
  budget.bytes -= bytes;
  if (budget.bytes < 0) throw new ValueError(path, `the claim set is larger than ${valueLimits.maxTotalBytes} bytes as JSON`);
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function boundedString(value: string, budget: Budget, path: Path): string {
  // UTF-8 never takes fewer bytes than UTF-16 code units: a cheap first cut before normalizing.
  if (value.length > valueLimits.maxStringBytes) throw new ValueError(path, `string longer than ${valueLimits.maxStringBytes} bytes`);
  if (isAscii(value)) {
    spend(budget, value.length + 2, path);
    return value;
  }
  const normalized = value.replace(loneSurrogate, '\uFFFD').normalize('NFC');
  const bytes = utf8Bytes(normalized);
  if (bytes > valueLimits.maxStringBytes) throw new ValueError(path, `string longer than ${valueLimits.maxStringBytes} bytes`);
  spend(budget, bytes + 2, path);
  return normalized;
}

const isPlainObject = (value: object): value is Record<string, unknown> => {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'object';
  return typeof value;
}

/**
 * Upstream claims → what CEL sees as `claims`: plain objects and arrays, strings (NFC), booleans,
 * null, integers as BigInt (CEL `int`, so `claims.n + 1` works), other numbers as double.
 * Keys `__proto__`, `constructor`, `prototype` and undefined values are dropped. Throws ValueError
 * when the input is not a JSON object or exceeds a limit.
 */
export function toCelInput(claims: unknown): Record<string, unknown> {
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims) || !isPlainObject(claims)) {
    throw new ValueError('claims', `expected a JSON object, got ${typeName(claims)}`);
  }
  const budget: Budget = { bytes: valueLimits.maxTotalBytes };
  return inObject(claims, 1, budget, 'claims');
}

function inObject(source: Record<string, unknown>, depth: number, budget: Budget, path: Path): Record<string, unknown> {
  const keys = Object.keys(source);
  if (keys.length > valueLimits.maxKeysPerObject) throw new ValueError(path, `more than ${valueLimits.maxKeysPerObject} keys`);
  spend(budget, 2, path);
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    if (forbiddenKeys.has(key)) continue;
    const value = source[key];
    if (value === undefined) continue;
    const at: Path = { parent: path, key };
    const keyBytes = key.length > valueLimits.maxStringBytes ? key.length : utf8Bytes(key);
    if (keyBytes > valueLimits.maxStringBytes) throw new ValueError(path, `a key longer than ${valueLimits.maxStringBytes} bytes`);
    spend(budget, keyBytes + 4, at);
    out[key] = inValue(value, depth, budget, at);
  }
  return out;
}

function inValue(value: unknown, depth: number, budget: Budget, path: Path): unknown {
  switch (typeof value) {
    case 'string':
      return boundedString(value, budget, path);
    case 'boolean':
      spend(budget, 5, path);
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new ValueError(path, 'a number that is not finite');
      spend(budget, 24, path);
      return Number.isSafeInteger(value) ? BigInt(value) : value;
    case 'object': {
      if (value === null) {
        spend(budget, 4, path);
        return null;
      }
      if (depth + 1 > valueLimits.maxDepth) throw new ValueError(path, `nested deeper than ${valueLimits.maxDepth} levels`);
      if (Array.isArray(value)) {
        if (value.length > valueLimits.maxArrayItems) throw new ValueError(path, `a list of more than ${valueLimits.maxArrayItems} items`);
        spend(budget, 2 + value.length, path);
        const out = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          out[i] = item === undefined ? null : inValue(item, depth + 1, budget, { parent: path, key: i });
        }
        return out;
      }
      if (!isPlainObject(value)) throw new ValueError(path, `unsupported value of type ${typeName(value)}`);
      return inObject(value, depth + 1, budget, path);
    }
    default:
      throw new ValueError(path, `unsupported value of type ${typeName(value)}`);
  }
}

/** A budget shared by all claims of one canonical claim set. */
export const outputBudget = (): Budget => ({ bytes: valueLimits.maxTotalBytes });

/**
 * A CEL result → a JSON value: BigInt and uint to number (refused beyond ±2^53), strings NFC,
 * maps to plain objects without forbidden keys. Timestamps, durations, bytes, types and optionals
 * are refused (convert them in the expression). Depth 1 is the
 * claim value itself. Throws ValueError.
 */
export function toClaimValue(value: unknown, budget: Budget, path: Path, depth = 1): JsonValue {
  switch (typeof value) {
    case 'string':
      return boundedString(value, budget, path);
    case 'boolean':
      spend(budget, 5, path);
      return value;
    case 'bigint':
      if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) throw new ValueError(path, `integer ${value} is outside ±2^53 and cannot go into a JSON token`);
      spend(budget, 24, path);
      return Number(value);
    case 'number':
      if (!Number.isFinite(value)) throw new ValueError(path, 'a number that is not finite');
      spend(budget, 24, path);
      return value;
    case 'object': {
      if (value === null) {
        spend(budget, 4, path);
        return null;
      }
      if (value instanceof UnsignedInt) return toClaimValue(value.value, budget, path, depth);
      if (depth > valueLimits.maxDepth) throw new ValueError(path, `nested deeper than ${valueLimits.maxDepth} levels`);
      if (Array.isArray(value) || value instanceof Set) {
        const items = Array.isArray(value) ? (value as unknown[]) : [...value];
        if (items.length > valueLimits.maxArrayItems) throw new ValueError(path, `a list of more than ${valueLimits.maxArrayItems} items`);
        spend(budget, 2 + items.length, path);
        return items.map((item, i) => toClaimValue(item, budget, { parent: path, key: i }, depth + 1));
      }
      let entries: [unknown, unknown][];
      if (value instanceof Map) entries = [...value.entries()];
      else if (isPlainObject(value)) entries = Object.keys(value).map((k) => [k, value[k]]);
      else throw new ValueError(path, `a value of type ${typeName(value)} cannot go into a token (convert it in the expression)`);
      if (entries.length > valueLimits.maxKeysPerObject) throw new ValueError(path, `more than ${valueLimits.maxKeysPerObject} keys`);
      spend(budget, 2, path);
      const out: [string, JsonValue][] = [];
      for (const [rawKey, item] of entries) {
        const key = typeof rawKey === 'string' ? rawKey : typeof rawKey === 'bigint' || typeof rawKey === 'number' || typeof rawKey === 'boolean' ? String(rawKey) : undefined;
        if (key === undefined) throw new ValueError(path, 'a map key that is not a string, number or bool');
        if (forbiddenKeys.has(key) || item === undefined) continue;
        const at: Path = { parent: path, key };
        const nfcKey = boundedString(key, budget, at);
        out.push([nfcKey, toClaimValue(item, budget, at, depth + 1)]);
      }
      // Object.fromEntries defines own data properties: no setter (and no __proto__ setter) runs.
      return Object.fromEntries(out) as { [key: string]: JsonValue };
    }
    default:
      throw new ValueError(path, `a value of type ${typeof value} cannot go into a token`);
  }
}

/** JSON value → CEL view (integers as BigInt), for values the engine itself produced (`canonical`, tables). */
export function jsonToCel(value: JsonValue): unknown {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(jsonToCel);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.keys(value).map((k) => [k, jsonToCel(value[k] as JsonValue)]));
  return value;
}

/** A value is "nothing": null, an empty string, list or map. */
export function isEmptyValue(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object' && isPlainObject(value)) return Object.keys(value).length === 0;
  return false;
}

/** CEL-ish name of a JSON value's type, for messages. */
export function jsonTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'double';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'object') return 'map';
  return typeof value;
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}
