// Value shapes shared by the config schemas (URLs, scope tokens, durations).
import { z } from 'zod';

export const seconds = (doc: string, def: number, max: number) =>
  z.number().int().min(1).max(max).default(def).describe(doc);

export const httpsOrLoopbackUrl = z
  .string()
  .refine((value) => {
    try {
      const url = new URL(value);
      if (url.hash || url.search || url.username || url.password) return false;
      if (url.protocol === 'https:') return true;
      return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
    } catch {
      return false;
    }
  }, 'must be an https URL (http only on localhost/127.0.0.1/[::1]) without query, fragment or userinfo');

export const absoluteUri = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return !url.hash;
  } catch {
    return false;
  }
}, 'must be an absolute URI without a fragment (RFC 8707 §2)');

export const scopeToken = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'must be a scope token (RFC 6749 §3.3)');
