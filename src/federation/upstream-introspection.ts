// Opaque upstream access tokens as token exchange subject tokens: asked of each upstream trusted
// for exchange that has an RFC 7662 introspection endpoint (and that the exchanging client may
// use), in config order; the first `active: true` answer wins. Client authentication is
// client_secret_basic (RFC 7662 §2.1, RFC 6749 §2.3.1), each request bounded like every upstream
// request. An active answer must name `sub` and `exp`; its `iss`, if any, must be the upstream's;
// its `aud` must be one of access_token_audiences, as for a JWT access token. Must never put the
// token or the secret in an error or a log line.
import { z } from 'zod';
import type { UpstreamConfig } from '../config/schema.ts';
import { UpstreamError } from './connector.ts';
import { expectedTenantIssuer, isMultiTenantAuthority, issuerTemplate } from './entra-tenants.ts';
import { fetchUpstreamJson } from './upstream-fetch.ts';
import { upstreamClockToleranceSeconds, type ExchangeTrust, type UpstreamTokenCheck, type UpstreamTokenReason } from './upstream-token-verifier.ts';

const answerSchema = z.looseObject({
  active: z.boolean(),
  sub: z.string().min(1).max(1024).optional(),
  exp: z.number().int().optional(),
  nbf: z.number().optional(),
  iss: z.string().optional(),
  aud: z.union([z.string(), z.array(z.string())]).optional(),
  token_type: z.string().optional(),
});

/** Undefined when no upstream the client may use introspects. A refusal names the upstream that answered. */
export async function introspectAtUpstreams(token: string, trust: ExchangeTrust): Promise<UpstreamTokenCheck | undefined> {
  const asked = trust.upstreams.filter((u) => u.exchange?.introspection && (!trust.allowed || trust.allowed.includes(u.id)));
  if (!asked.length) return undefined;
  let trouble: UpstreamError | undefined;
  for (const upstream of asked) {
    let answer: z.infer<typeof answerSchema>;
    try {
      answer = await introspect(upstream, token, trust.timeoutMs(upstream));
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      trouble ??= error;
      continue;
    }
    if (!answer.active) continue;
    const refused = checkAnswer(upstream, answer, trust.now);
    if (refused) return { ok: false, reason: refused, upstream: upstream.id };
    const issuer = answer.iss ?? upstream.issuer;
    return { ok: true, token: { upstream, form: 'introspected', issuer, claims: Object.freeze({ ...answer }), exp: answer.exp as number } };
  }
  // Nobody vouched for it: if an upstream could not answer, it may have been that one's.
  if (trouble) throw trouble;
  return { ok: false, reason: 'inactive' };
}

async function introspect(upstream: UpstreamConfig, token: string, timeoutMs: number): Promise<z.infer<typeof answerSchema>> {
  const introspection = upstream.exchange?.introspection;
  if (!introspection) throw new UpstreamError('invalid_response', `${upstream.id} has no introspection endpoint`);
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  const credentials = Buffer.from(`${encode(introspection.client_id)}:${encode(introspection.client_secret)}`).toString('base64');
  const body = await fetchUpstreamJson(introspection.endpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${credentials}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
    timeoutMs,
    trace: { call: 'introspection', upstream: upstream.id },
  });
  const parsed = answerSchema.safeParse(body);
  if (!parsed.success) throw new UpstreamError('invalid_response', `introspection at ${upstream.id} answered something other than RFC 7662`);
  return parsed.data;
}

function checkAnswer(upstream: UpstreamConfig, answer: z.infer<typeof answerSchema>, now: number): UpstreamTokenReason | undefined {
  if (answer.sub === undefined || answer.exp === undefined) return 'invalid_claims';
  if (answer.exp <= now - upstreamClockToleranceSeconds) return 'expired';
  if (answer.nbf !== undefined && answer.nbf > now + upstreamClockToleranceSeconds) return 'not_yet_valid';
  if (isMultiTenantAuthority(upstream.kind, upstream.issuer)) {
    const tenant = expectedTenantIssuer(issuerTemplate(upstream.issuer), answer.tid, upstream.allowed_tenants);
    if (!tenant.ok || answer.iss !== tenant.issuer) return 'invalid_claims';
  } else if (answer.iss !== undefined && answer.iss !== upstream.issuer) return 'invalid_claims';
  if (answer.token_type !== undefined && /refresh/i.test(answer.token_type)) return 'wrong_type';
  if ('act' in answer) return 'already_delegated';
  const aud = typeof answer.aud === 'string' ? [answer.aud] : (answer.aud ?? []);
  if (!aud.some((a) => upstream.exchange?.access_token_audiences.includes(a))) return 'audience';
  return undefined;
}
