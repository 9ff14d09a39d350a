// Reads a token-style request body: POST, application/x-www-form-urlencoded, UTF-8, bounded size.
// Each way of getting this wrong is a clear 4xx before any grant logic runs.
import type { Context } from 'hono';
import { OAuthError } from '../oauth/errors.ts';
import { parseFormParams, type Params } from '../oauth/params.ts';

export async function readForm(c: Context, maxBytes: number): Promise<Params> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
    throw new OAuthError('invalid_request', 'content type must be application/x-www-form-urlencoded');
  }
  const declared = c.req.header('content-length');
  if (declared !== undefined && Number(declared) > maxBytes) throw new OAuthError('request_too_large', `request body exceeds ${maxBytes} bytes`);

  const chunks: Uint8Array[] = [];
  let size = 0;
  const body = c.req.raw.body;
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
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new OAuthError('invalid_request', 'request body is not valid UTF-8');
  }
  return parseFormParams(text);
}
