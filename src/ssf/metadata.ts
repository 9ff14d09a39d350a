// Transmitter configuration metadata (SSF 1.0 §7.1), served at /.well-known/ssf-configuration.
// Every URL comes from the configured issuer, never from the request. No add/remove subject
// endpoints: every stream gets the events of every subject (default_subjects ALL).
import type { Deps } from '../deps.ts';
import { deliveryMethods } from './stream-config.ts';
import { ssfPaths } from './streams.ts';

export function transmitterMetadata(deps: Pick<Deps, 'issuer' | 'config'>, jwksPath: string): Record<string, unknown> {
  const base = deps.issuer.replace(/\/$/, '');
  return {
    spec_version: '1_0',
    issuer: deps.issuer,
    jwks_uri: base + jwksPath,
    delivery_methods_supported: deps.config.main.ssf.delivery_methods.map((m) => deliveryMethods[m]),
    configuration_endpoint: base + ssfPaths.configuration,
    status_endpoint: base + ssfPaths.status,
    verification_endpoint: base + ssfPaths.verification,
    // Receivers get a Passport for the SSF resource (with scope ssf) by OAuth, e.g. client credentials.
    authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6749' }],
    default_subjects: 'ALL',
  };
}
