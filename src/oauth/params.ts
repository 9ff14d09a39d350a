// Form parameters of token-style endpoints (application/x-www-form-urlencoded, RFC 6749 §3.2).
// A parameter may appear once (RFC 6749 §3.1) unless the RFC that defines it allows more
// (resource, RFC 8707; audience, RFC 8693). Empty values count as absent (§3.1).
import { OAuthError } from './errors.ts';

export type Params = {
  get(name: string): string | undefined;
  all(name: string): string[];
  names(): string[];
};

export const repeatableParams: ReadonlySet<string> = new Set(['resource', 'audience']);

export function parseFormParams(body: string, repeatable: ReadonlySet<string> = repeatableParams): Params {
  const values = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(body)) {
    if (value === '') continue;
    const list = values.get(name);
    if (list) {
      if (!repeatable.has(name)) throw new OAuthError('invalid_request', `parameter ${name.slice(0, 64)} must not be repeated`);
      list.push(value);
    } else {
      values.set(name, [value]);
    }
  }
  return {
    get: (name) => values.get(name)?.[0],
    all: (name) => values.get(name) ?? [],
    names: () => [...values.keys()],
  };
}

/** Space-delimited scope parameter (RFC 6749 §3.3) as a de-duplicated list. */
export function parseScope(scope: string | undefined): string[] {
  if (scope === undefined) return [];
  if (!/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/.test(scope)) throw new OAuthError('invalid_scope', 'scope is malformed');
  return [...new Set(scope.split(' '))];
}

/** Only the named parameters of a request (what a grant declares it reads); the rest are not there. */
export function pickParams(params: Params, names: readonly string[]): Params {
  const allowed = new Set(names);
  return {
    get: (name) => (allowed.has(name) ? params.get(name) : undefined),
    all: (name) => (allowed.has(name) ? params.all(name) : []),
    names: () => params.names().filter((name) => allowed.has(name)),
  };
}
