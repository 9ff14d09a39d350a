// "Only narrowing" for RFC 9396 authorization details: a requested entry is within a granted one
// when it has the same type, its actions and locations are among the granted ones, and every
// other field the grant constrains is constrained at least as tightly. Pure.
import type { AuthorizationDetail } from '../oauth/authorization-details.ts';

const isObject = (value: unknown): value is Record<string, unknown> => !!value && typeof value === 'object' && !Array.isArray(value);

/**
 * `asked` within `granted`, field by field:
 * - a field the grant has must be present in the ask (leaving it out would lift the constraint);
 * - arrays: every asked item is one of the granted items (actions, locations, datatypes, …);
 * - numbers: the asked one is not larger (an amount or a limit);
 * - objects: recursively within; anything else: equal. Fields only the ask has narrow it further.
 */
export function isWithin(asked: unknown, granted: unknown): boolean {
  if (Array.isArray(granted)) return Array.isArray(asked) && asked.every((item) => granted.some((g) => deepEqual(item, g)));
  if (typeof granted === 'number') return typeof asked === 'number' && asked <= granted;
  if (isObject(granted)) {
    if (!isObject(asked)) return false;
    return Object.keys(granted).every((key) => Object.hasOwn(asked, key) && isWithin(asked[key], granted[key]));
  }
  return deepEqual(asked, granted);
}

/** Every asked entry is within some granted entry of the same type. */
export function detailsWithin(asked: readonly AuthorizationDetail[], granted: readonly AuthorizationDetail[]): boolean {
  return asked.every((entry) => granted.some((g) => g.type === entry.type && isWithin(entry, g)));
}

/** The actions an entry asks for, when it names any. */
export const actionsOf = (detail: AuthorizationDetail): unknown[] | undefined => (Array.isArray(detail.actions) ? detail.actions : undefined);

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key], b[key]));
  }
  return false;
}
