// Asks the authorization server about a token (RFC 7662): POST token with client_secret_basic
// (RFC 6749 §2.3.1), the answer reused for a short while (keyed by the token's SHA-256, never the
// token itself; bounded; never past the token's `exp`), concurrent asks for one token coalesced.
// It must not put the token or the secret in an error; an answer that is not RFC 7662 is an error.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { createTtlCache } from './ttl-cache.ts';

export type IntrospectionAnswer = { active: false } | { active: true; claims: Record<string, unknown> };

export type IntrospectionOptions = {
  endpoint: () => Promise<string>;
  clientId: string;
  clientSecret: string;
  cacheSeconds: number;
  cacheSize: number;
  fetch: typeof fetch;
};

const answerSchema = z.looseObject({ active: z.boolean(), exp: z.number().optional() });
const timeoutMs = 5000;

const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');

export type Introspector = ((token: string, now: number) => Promise<IntrospectionAnswer>) & {
  /** Forgets the remembered active answers whose claims match (a signal said they may be stale); how many. */
  forget(match: (claims: Record<string, unknown>) => boolean): number;
};

export function createIntrospector(options: IntrospectionOptions): Introspector {
  const cache = createTtlCache<IntrospectionAnswer>(options.cacheSize);
  const inflight = new Map<string, Promise<IntrospectionAnswer>>();
  let generation = 0;
  const credentials = `Basic ${Buffer.from(`${encode(options.clientId)}:${encode(options.clientSecret)}`).toString('base64')}`;

  const ask = async (token: string): Promise<IntrospectionAnswer> => {
    const response = await options.fetch(await options.endpoint(), {
      method: 'POST',
      headers: { authorization: credentials, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status !== 200) throw new Error(`introspection: HTTP ${response.status}`);
    const parsed = answerSchema.safeParse(await response.json().catch(() => undefined));
    if (!parsed.success) throw new Error('introspection: the answer is not RFC 7662');
    if (!parsed.data.active) return { active: false };
    const { active: _active, ...claims } = parsed.data;
    return { active: true, claims };
  };

  const introspect = async (token: string, now: number): Promise<IntrospectionAnswer> => {
    // 1. A recent answer for this token.
    const key = createHash('sha256').update(token).digest('base64url');
    const cached = cache.get(key, now);
    if (cached) return cached;
    // 2. One request per token at a time.
    const asked = generation;
    let pending = inflight.get(key);
    if (!pending) {
      pending = ask(token).finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    const answer = await pending;
    // 3. Remember it briefly: an active answer no longer than the token lives.
    const exp = answer.active && typeof answer.claims.exp === 'number' ? answer.claims.exp : Infinity;
    const expiresAt = Math.min(now + options.cacheSeconds, exp);
    // An answer asked for before a `forget` may be the stale one it meant: used once, not kept.
    if (expiresAt > now && asked === generation) cache.put(key, answer, expiresAt, now);
    return answer;
  };
  const forget = (match: (claims: Record<string, unknown>) => boolean) => {
    generation++;
    return cache.deleteWhere((answer) => answer.active && match(answer.claims));
  };
  return Object.assign(introspect, { forget });
}
