// Reads request bodies: token-style forms (application/x-www-form-urlencoded) and JSON, UTF-8, bounded size.
// Each way of getting this wrong is a clear 4xx before any grant logic runs.
import type { Context } from 'hono';
import { OAuthError } from '../oauth/errors.ts';
import { parseFormParams, type Params } from '../oauth/params.ts';

/** Fatal: a body that is not UTF-8 is refused, not patched with U+FFFD. decode() of a whole body keeps no state between calls. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `repeatable`: the parameters that may appear more than once (a page's checkboxes); by default those of the RFCs. */
export async function readForm(c: Context, maxBytes: number, repeatable?: ReadonlySet<string>): Promise<Params> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
    throw new OAuthError('invalid_request', 'content type must be application/x-www-form-urlencoded');
  }
  const declared = c.req.header('content-length');
  if (declared !== undefined && Number(declared) > maxBytes) throw new OAuthError('request_too_large', `request body exceeds ${maxBytes} bytes`);

  // With a Content-Length (checked above; Node enforces it), the adapter's direct read is the
  // fast path. Without one (chunked), read the stream and stop at the limit.
  const bytes = declared !== undefined ? new Uint8Array(await c.req.arrayBuffer()) : await readCapped(c.req.raw.body, maxBytes);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new OAuthError('invalid_request', 'request body is not valid UTF-8');
  }
  return parseFormParams(text, repeatable);
}

/** A JSON request body (RFC 7591 registration): application/json, UTF-8, bounded size. */
export async function readJson(c: Context, maxBytes: number, error: OAuthError): Promise<unknown> {
  if (!/^application\/json\s*(;|$)/i.test(c.req.header('content-type') ?? '')) throw error;
  const declared = c.req.header('content-length');
  if (declared !== undefined && Number(declared) > maxBytes) throw new OAuthError('request_too_large', `request body exceeds ${maxBytes} bytes`);
  const bytes = await readCapped(c.req.raw.body, maxBytes);
  try {
    return JSON.parse(utf8.decode(bytes)) as unknown;
  } catch {
    throw error;
  }
}

async function readCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (body) {
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new OAuthError('request_too_large', `request body exceeds ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  }
  return Buffer.concat(chunks);
}
