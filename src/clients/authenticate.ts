// Client authentication at token, introspection and revocation (RFC 6749 §2.3, RFC 7523 §2.2).
// Pipeline: 1 find the one method the request uses (more than one is invalid_request)
// 2 find the client and check the method is the one it registered 3 check the credential.
// Every failure is the same 401 invalid_client on the wire; the reason goes to the log.
import type { ClientConfig } from '../config/schema.ts';
import { OAuthError } from '../oauth/errors.ts';
import type { Params } from '../oauth/params.ts';
import { verifyClientAssertion, type AssertionContext } from './assertion.ts';
import type { ClientLookup } from './directory.ts';
import { verifySecret } from './secrets.ts';

export const jwtBearerAssertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export type AuthenticatedClient = { client: ClientConfig; method: ClientConfig['token_endpoint_auth_method'] };

/** `source`: the request's source address (limits/source.ts), for the per-address failure limit. */
export type ClientAuthRequest = { authorization: string | undefined; params: Params; source?: string | undefined };

/** The failed-authentication limits (limits/limits.ts): checked before any credential, fed by each failure. */
export type ClientAuthLimits = {
  checkClientAuth(clientId: string | undefined, source: string | undefined): Promise<void>;
  clientAuthFailed(clientId: string | undefined, source: string | undefined): Promise<void>;
};

export type ClientAuthContext = AssertionContext & { limits?: ClientAuthLimits };

export function clientAuthFailed(reason: string, basic: boolean, realm: string): OAuthError {
  return new OAuthError('invalid_client', 'client authentication failed', {
    reason,
    headers: { 'WWW-Authenticate': basic ? `Basic realm="${realm}", error="invalid_client"` : `Basic realm="${realm}"` },
  });
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before base64 (most have nothing to decode). Throws on a bad % sequence. */
const formDecode = (s: string): string => (s.includes('%') || s.includes('+') ? decodeURIComponent(s.replace(/\+/g, ' ')) : s);

function parseBasic(header: string): { id: string; secret: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(header.trim());
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

/** The client_id a request names (Basic user or the client_id parameter), before anything is verified. */
function claimedClientId(request: ClientAuthRequest): string | undefined {
  const header = request.authorization;
  if (header !== undefined && /^basic /i.test(header.trim())) return parseBasic(header)?.id;
  return request.params.get('client_id');
}

export async function authenticateClient(request: ClientAuthRequest, lookup: ClientLookup, context: ClientAuthContext): Promise<AuthenticatedClient> {
  const { limits } = context;
  if (!limits) return authenticate(request, lookup, context);
  // A blocked client_id or address is refused before its credential costs anything.
  const claimed = claimedClientId(request);
  await limits.checkClientAuth(claimed, request.source);
  try {
    return await authenticate(request, lookup, context);
  } catch (error) {
    if (error instanceof OAuthError && error.code === 'invalid_client') await limits.clientAuthFailed(claimed, request.source);
    throw error;
  }
}

async function authenticate(request: ClientAuthRequest, lookup: ClientLookup, context: AssertionContext): Promise<AuthenticatedClient> {
  const { params } = request;
  const realm = context.issuer;
  const header = request.authorization;
  const usesBasic = header !== undefined && /^basic /i.test(header.trim());
  const usesPost = params.get('client_secret') !== undefined;
  const usesJwt = params.get('client_assertion') !== undefined || params.get('client_assertion_type') !== undefined;

  // 1. Exactly one method (RFC 6749 §2.3: a client must not use more than one).
  if (Number(usesBasic) + Number(usesPost) + Number(usesJwt) > 1) throw new OAuthError('invalid_request', 'more than one client authentication method used');

  // 2 + 3 per method.
  if (usesBasic) {
    const basic = parseBasic(header as string);
    if (!basic) throw clientAuthFailed('malformed_basic_header', true, realm);
    const bodyId = params.get('client_id');
    if (bodyId !== undefined && bodyId !== basic.id) throw new OAuthError('invalid_request', 'client_id does not match the Authorization header');
    return checkSecret(lookup, basic.id, basic.secret, 'client_secret_basic', true, realm, context.secretDecoy);
  }
  if (usesPost) {
    const id = params.get('client_id');
    if (id === undefined) throw clientAuthFailed('missing_client_id', false, realm);
    return checkSecret(lookup, id, params.get('client_secret') as string, 'client_secret_post', false, realm, context.secretDecoy);
  }
  if (usesJwt) {
    if (params.get('client_assertion_type') !== jwtBearerAssertionType) throw clientAuthFailed('unsupported_assertion_type', false, realm);
    const assertion = params.get('client_assertion');
    if (assertion === undefined) throw clientAuthFailed('missing_assertion', false, realm);
    const result = await verifyClientAssertion(assertion, params.get('client_id'), lookup, context);
    if (!result.ok) throw clientAuthFailed(`assertion_${result.reason}`, false, realm);
    return { client: result.client, method: 'private_key_jwt' };
  }
  // A public client (RFC 6749 §2.1) names itself; what protects it is PKCE and, later, DPoP.
  const publicId = params.get('client_id');
  const publicClient = publicId === undefined ? undefined : await lookup(publicId);
  if (publicClient?.token_endpoint_auth_method === 'none') return { client: publicClient, method: 'none' };
  throw clientAuthFailed(publicClient ? 'method_not_registered' : 'no_client_authentication', false, realm);
}

async function checkSecret(
  lookup: ClientLookup,
  id: string,
  secret: string,
  method: 'client_secret_basic' | 'client_secret_post',
  basic: boolean,
  realm: string,
  decoy: string | undefined,
): Promise<AuthenticatedClient> {
  const client = await lookup(id);
  const registered = client?.token_endpoint_auth_method === method;
  // The hash check runs even for unknown clients or wrong methods, and every failure costs the
  // decoy's check, so timing tells nothing.
  const secretOk = await verifySecret(secret, registered ? client?.secret_hash : undefined, decoy);
  if (!client) throw clientAuthFailed('unknown_client', basic, realm);
  if (!registered) throw clientAuthFailed('method_not_registered', basic, realm);
  if (!secretOk) throw clientAuthFailed('wrong_secret', basic, realm);
  return { client, method };
}
