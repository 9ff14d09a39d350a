// Canonical claims: one shape for every upstream, with provenance. The local `sub` is added when
// the upstream account is linked to a person (federation/), never taken from the upstream.

export type CanonicalClaims = {
  sub?: string;
  orig_iss: string;
  orig_sub: string;
  upstream: string;
  email?: string;
  email_verified: boolean;
  name?: string;
  groups: string[];
  roles: string[];
  tenant?: string;
  acr?: string;
  amr?: string[];
  auth_time?: number;
};
