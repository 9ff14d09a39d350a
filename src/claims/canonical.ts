// Canonical claims: one shape for every upstream, with provenance. The mapping engine (engine.ts)
// produces them from a rule set; the local `sub` is added when the upstream account is linked to a
// person (federation/), never taken from the upstream.

export type CanonicalClaims = {
  /** Added by the caller after linking (federation/login.ts); never produced by a rule. */
  sub?: string;
  /** Provenance: the upstream's issuer (for Entra multi-tenant: the tenant's issuer). */
  orig_iss: string;
  /** Provenance: the rule set's `subject`, the upstream's stable id of the person. */
  orig_sub: string;
  /** Provenance: the upstream's id in config/upstreams/. */
  upstream: string;
  /** Copied from the upstream claims when well-typed; no rule can set these three. */
  acr?: string;
  amr?: string[];
  auth_time?: number;
  email?: string;
  email_verified?: boolean;
  name?: string;
  groups?: string[];
  roles?: string[];
  /** Any other claim a rule set maps (JSON values). */
  [claim: string]: unknown;
};
