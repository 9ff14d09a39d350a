// Claim rule transforms (pure), applied in order to a value that is already a JSON value. A value
// of the wrong shape is not an error of the login: the transform says why, and the claim gets its
// default (or is left out), recorded in the trace.
import type { claimTransforms } from '../config/schema.ts';
import type { JsonValue } from './sanitize.ts';
import { jsonTypeName } from './sanitize.ts';

export type Transform = (typeof claimTransforms)[number];
export type TransformResult = { ok: true; value: JsonValue | undefined } | { ok: false; note: string };

const stringOp = (name: Transform, value: JsonValue, op: (s: string) => string): TransformResult => {
  if (typeof value === 'string') return { ok: true, value: op(value) };
  if (Array.isArray(value)) {
    const out: string[] = [];
    for (const item of value) {
      if (typeof item !== 'string') return { ok: false, note: `${name}: expected a string or a list of strings, got a list with a ${jsonTypeName(item)}` };
      out.push(op(item));
    }
    return { ok: true, value: out };
  }
  return { ok: false, note: `${name}: expected a string or a list of strings, got ${jsonTypeName(value)}` };
};

const listOp = (name: Transform, value: JsonValue, op: (list: JsonValue[]) => TransformResult): TransformResult =>
  Array.isArray(value) ? op(value) : { ok: false, note: `${name}: expected a list, got ${jsonTypeName(value)}` };

/** A key telling equal JSON values apart (for `unique`). */
const identity = (value: JsonValue) => (value !== null && typeof value === 'object' ? `o${JSON.stringify(value)}` : `${typeof value}:${String(value)}`);

export function applyTransform(name: Transform, value: JsonValue): TransformResult {
  switch (name) {
    case 'trim':
      return stringOp(name, value, (s) => s.trim());
    case 'lower':
      return stringOp(name, value, (s) => s.toLowerCase().normalize('NFC'));
    case 'upper':
      return stringOp(name, value, (s) => s.toUpperCase().normalize('NFC'));
    case 'unique':
      return listOp(name, value, (list) => {
        const seen = new Set<string>();
        return { ok: true, value: list.filter((item) => !seen.has(identity(item)) && (seen.add(identity(item)), true)) };
      });
    case 'sort':
      return listOp(name, value, (list) => {
        if (list.every((item) => typeof item === 'string')) return { ok: true, value: [...list].sort() };
        if (list.every((item) => typeof item === 'number')) return { ok: true, value: [...list].sort((a, b) => a - b) };
        return { ok: false, note: 'sort: expected a list of strings or a list of numbers' };
      });
    case 'first':
      return listOp(name, value, (list) => ({ ok: true, value: list[0] }));
  }
}
