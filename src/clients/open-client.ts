// The client record Consulate uses for a client the operator did not list: built from a Client ID
// Metadata Document or a registration (RFC 7591). Such a client is never an agent, always asks the
// person's consent, must name its resource, and gets at most the operator's `resources` for them.
import { clientSchema, type ClientConfig, type MainConfig } from '../config/schema.ts';

type OpenResources = MainConfig['dynamic_registration']['resources'];

export type OpenClientMetadata = {
  client_id: string;
  client_name?: string | undefined;
  redirect_uris: string[];
  post_logout_redirect_uris?: string[] | undefined;
  grant_types: string[];
  token_endpoint_auth_method: ClientConfig['token_endpoint_auth_method'];
  jwks_uri?: string | undefined;
  jwks?: { keys: object[] } | undefined;
  secret_hash?: string | undefined;
};

/** Validated by the client schema. The resources come from the current config, never from the store. */
export function openClient(metadata: OpenClientMetadata, resources: OpenResources): ClientConfig {
  return clientSchema.parse({
    client_id: metadata.client_id,
    kind: 'client',
    name: metadata.client_name,
    token_endpoint_auth_method: metadata.token_endpoint_auth_method,
    secret_hash: metadata.secret_hash,
    jwks: metadata.jwks,
    jwks_uri: metadata.jwks_uri,
    grant_types: metadata.grant_types,
    redirect_uris: metadata.redirect_uris,
    post_logout_redirect_uris: metadata.post_logout_redirect_uris ?? [],
    require_resource: true,
    skip_consent: false,
    resources: Object.fromEntries(Object.entries(resources).map(([uri, r]) => [uri, { scopes: r.scopes }])),
  });
}
