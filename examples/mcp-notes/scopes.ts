// Per-tool scopes, checked at the HTTP layer before the MCP transport runs: an MCP client learns
// that it needs more only from an HTTP 403 with an RFC 6750 `insufficient_scope` challenge (MCP
// authorization, "scope challenge handling"), never from a JSON-RPC error inside a 200.

/** The scopes this server understands, in the order challenges list them. */
export const notesScopes = ['notes:read', 'notes:write'] as const;

/** What each tool needs. A tool missing here needs only a valid Passport for this resource. */
export const toolScopes: Readonly<Record<string, readonly string[]>> = {
  whoami: ['notes:read'],
  list_notes: ['notes:read'],
  add_note: ['notes:write'],
};

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The scopes a JSON-RPC message (or batch) needs: those of every `tools/call` in it. */
export function scopesFor(body: unknown): string[] {
  const needed = new Set<string>();
  for (const message of Array.isArray(body) ? body : [body]) {
    if (!isObject(message) || message.method !== 'tools/call' || !isObject(message.params)) continue;
    const name = message.params.name;
    // Own properties only: a tool named "constructor" must not reach Object.prototype.
    if (typeof name === 'string' && Object.hasOwn(toolScopes, name)) for (const scope of toolScopes[name] ?? []) needed.add(scope);
  }
  return [...needed];
}

/**
 * The scope to ask for when `needed` is missing: what the Passport already has here plus what the
 * request needs, so stepping up never costs the client a scope it had (clients re-authorize with
 * exactly this list).
 */
export function stepUpScope(granted: readonly string[], needed: readonly string[]): string {
  const want = new Set([...granted, ...needed]);
  return notesScopes.filter((scope) => want.has(scope)).join(' ');
}
