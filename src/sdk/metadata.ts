// OAuth 2.0 Protected Resource Metadata (RFC 9728): the document a resource serves at
// /.well-known/oauth-protected-resource so clients find its authorization server, scopes and DPoP
// needs. Pure: builds the document and its URL; serving it is the framework adapter's job.
import { dpopAlgorithms } from '../dpop/proof.ts';

export type ProtectedResourceMetadataOptions = {
  /** The resource identifier (RFC 8707); RFC 9728 §3.3: clients check it equals the one they asked for. */
  resource: string;
  /** Issuer identifiers of the authorization servers whose tokens are accepted. */
  authorizationServers: readonly string[];
  scopesSupported?: readonly string[];
  authorizationDetailsTypesSupported?: readonly string[];
  /** True when only DPoP-bound access tokens are accepted. */
  dpopRequired?: boolean;
  dpopSigningAlgValuesSupported?: readonly string[];
  resourceName?: string;
  resourceDocumentation?: string;
};

export const protectedResourceMetadataPath = '/.well-known/oauth-protected-resource';

/** RFC 9728 §3.1: the well-known segment goes between the host and any path of the resource identifier. */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  return `${url.origin}${protectedResourceMetadataPath}${url.pathname.replace(/\/$/, '')}`;
}

export function protectedResourceMetadataDocument(options: ProtectedResourceMetadataOptions): Record<string, unknown> {
  return {
    resource: options.resource,
    authorization_servers: [...options.authorizationServers],
    ...(options.scopesSupported ? { scopes_supported: [...options.scopesSupported] } : {}),
    // Tokens only in the Authorization header (RFC 6750 §2.1); never in a form body or the query.
    bearer_methods_supported: ['header'],
    ...(options.authorizationDetailsTypesSupported ? { authorization_details_types_supported: [...options.authorizationDetailsTypesSupported] } : {}),
    dpop_signing_alg_values_supported: [...(options.dpopSigningAlgValuesSupported ?? dpopAlgorithms)],
    dpop_bound_access_tokens_required: options.dpopRequired ?? false,
    ...(options.resourceName ? { resource_name: options.resourceName } : {}),
    ...(options.resourceDocumentation ? { resource_documentation: options.resourceDocumentation } : {}),
  };
}
