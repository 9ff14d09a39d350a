// The code exchange at an Entra multi-tenant authority, every token check still by openid-client.
// openid-client compares an ID token's iss with one issuer fixed before the exchange, but here the
// issuer depends on the token (its tid). openid-client v6 handles this itself only for discovery
// at https://login.microsoftonline.com (an internal hook, no tid format check, no tenant list), so:
//   1 openid-client sends the token request (state, RFC 9207 iss, PKCE, client auth) through a
//     Configuration at the authority; the response is kept, not processed.
//   2 the ID token's tid, read unverified, only chooses the issuer to demand: it must be a GUID and,
//     if the operator lists tenants, one of them (entra-tenants.ts).
//   3 openid-client processes the kept response with a Configuration whose issuer is that tenant's:
//     iss must equal it exactly, and signature (JWKS), aud, exp, nonce, auth_time are checked as usual.
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { UpstreamError } from './connector.ts';
import { expectedTenantIssuer } from './entra-tenants.ts';

type Kept = { status: number; headers: Headers; body: string };

export type TenantExchangeOptions = {
  clientId: string;
  auth: client.ClientAuth;
  template: string;
  allowedTenants: readonly string[] | undefined;
  /** Timeout, signature checks, loopback http: what every Configuration of this upstream gets. */
  configure: (config: client.Configuration) => client.Configuration;
};

/** Thrown from the first pass's fetch so openid-client stops once the response is kept. */
class ResponseKept extends Error {}

export async function exchangeAtTenant(
  authority: client.Configuration,
  callbackUrl: URL,
  checks: () => client.AuthorizationCodeGrantChecks,
  options: TenantExchangeOptions,
): Promise<{ tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>; config: client.Configuration }> {
  // The helper (supportsPKCE) is not metadata: leave it out of the copy.
  const { supportsPKCE: _helper, ...metadata } = authority.serverMetadata();
  const tokenEndpoint = metadata.token_endpoint;
  const newConfig = (issuer: string) => options.configure(new client.Configuration({ ...metadata, issuer }, options.clientId, undefined, options.auth));

  // 1.
  let kept: Kept | undefined;
  const first = newConfig(metadata.issuer);
  // Underneath, the fetch `configure` set (traced), else the global one.
  const send = first[client.customFetch] ?? ((url, init) => fetch(url, init));
  first[client.customFetch] = async (url, init) => {
    const response = await send(url, init);
    kept = { status: response.status, headers: response.headers, body: await response.text() };
    throw new ResponseKept();
  };
  try {
    await client.authorizationCodeGrant(first, callbackUrl, checks());
  } catch (error) {
    if (!kept) throw error;
  }
  const response = kept as Kept;

  // 2. An error response needs no tenant: openid-client reports it in step 3.
  let issuer = metadata.issuer;
  if (response.status === 200) {
    const tenant = expectedTenantIssuer(options.template, unverifiedTid(response.body), options.allowedTenants);
    if (!tenant.ok) throw new UpstreamError('rejected', `ID token refused before validation: ${tenant.reason}`);
    issuer = tenant.issuer;
  }

  // 3. The token endpoint answers from what was kept; anything else (the JWKS) is fetched.
  const second = newConfig(issuer);
  let replayed = false;
  second[client.customFetch] = async (url, init) => {
    if (!replayed && tokenEndpoint && new URL(url).href === new URL(tokenEndpoint).href) {
      replayed = true;
      return new Response(response.body, { status: response.status, headers: response.headers });
    }
    return send(url, init);
  };
  const tokens = await client.authorizationCodeGrant(second, callbackUrl, checks());
  return { tokens, config: second };
}

function unverifiedTid(body: string): unknown {
  try {
    const parsed: unknown = JSON.parse(body);
    const idToken = parsed && typeof parsed === 'object' && 'id_token' in parsed ? parsed.id_token : undefined;
    return typeof idToken === 'string' ? decodeJwt(idToken).tid : undefined;
  } catch {
    return undefined;
  }
}
