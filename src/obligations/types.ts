// The policy engine's public types (see evaluate.ts): what a request looks like to policies, and
// what they decide.
import type { PolicyApprovers } from '../config/schema.ts';

export type PolicyGrant = 'token_exchange' | 'jwt_bearer' | 'ciba' | 'device_code' | 'client_credentials' | 'authorization_code';

/**
 * Risk signals, computed by the caller (signals.ts) and visible to conditions as `risk`:
 * - new_agent: the client is an agent with no live delegation from this person yet;
 * - chain: how many actors already acted before this client (0 for a first hop).
 */
export type RiskSignals = { new_agent: boolean; chain: number };

export type PolicyInput = {
  client: { client_id: string; kind: 'client' | 'agent'; owner?: string | undefined; name?: string | undefined };
  /** Canonical claims of the person represented; empty when a client is represented. */
  person: Readonly<Record<string, unknown>>;
  scopes: readonly string[];
  resource?: string | undefined;
  details: readonly unknown[];
  grant: PolicyGrant;
  risk: RiskSignals;
};

export type StepUp = { acr?: string | undefined; maxAge?: number | undefined };
export type Consent = { approvers: PolicyApprovers; validitySeconds?: number | undefined };

/** How each rule went, for `consulate policy explain`. `policy`: the file's id (its name without .yaml). */
export type RuleTrace = { policy: string; rule: string; when: string; outcome: 'matched' | 'not matched' | 'failed'; note?: string };

/**
 * What the policies decide. `policy` and `rule` name what decided (rule `default`: no rule of that
 * file matched); an allow with neither means no policy is configured or every file allowed by default.
 */
export type PolicyDecision =
  | { decision: 'allow'; policy?: string; rule?: string; trace: RuleTrace[] }
  | { decision: 'deny'; reason: string; policy: string; rule: string; trace: RuleTrace[] }
  | { decision: 'obligations'; stepUp?: StepUp; consent?: Consent; policy: string; rule: string; trace: RuleTrace[] };

/** A policy file, compiled once (compile.ts); opaque. */
export type CompiledPolicy = { readonly id: string };
