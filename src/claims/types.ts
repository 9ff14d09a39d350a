// The claims mapping engine's public types (see engine.ts).
import type { CanonicalClaims } from './canonical.ts';

export type UpstreamKind = 'entra' | 'okta' | 'auth0' | 'oidc';

/**
 * A problem in a rule set, at its path in the MappingConfig object (e.g. ['claims','email','expr']).
 * `offset`: for CEL errors, where in the expression (0-based character), when the parser knows.
 */
export type CompileProblem = { path: (string | number)[]; message: string; offset?: number };

/** A rule set, parsed and type-checked once; opaque (built only by compileRuleSet). */
export type CompiledRuleSet = { readonly id: string; readonly description?: string };

export type MappingInput = {
  upstream: { id: string; kind: UpstreamKind; issuer: string /* becomes orig_iss */ };
  /** Raw upstream ID token / userinfo claims. */
  claims: unknown;
};

/**
 * How one canonical claim got its value. `value` undefined: the claim was left out (`note` says
 * why: `when` false, a missing upstream claim, a value of the wrong type…). Deny rules that fired
 * appear as claim `deny`, rule `deny.<i>`.
 */
export type ClaimTrace = {
  claim: string;
  value: unknown;
  source: 'expr' | 'default' | 'upstream';
  /** 'claims.email', 'subject', 'acr', 'upstream.issuer', 'deny.0'… */
  rule: string;
  expr?: string;
  note?: string;
};

export type MappingResult =
  | { ok: true; canonical: CanonicalClaims; trace: ClaimTrace[] }
  /** `message`: the deny rule's reason, shown to the person. */
  | { ok: false; reason: 'denied'; message: string; rule: number; trace: ClaimTrace[] }
  | { ok: false; reason: 'missing'; claims: string[]; trace: ClaimTrace[] }
  | { ok: false; reason: 'invalid_claims' | 'evaluation_failed'; detail: string };
