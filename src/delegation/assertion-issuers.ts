// Trusted assertion issuers (config/issuers/*.yaml), ready to verify: per issuer its key set (inline
// jwks, or jwks_uri fetched lazily and cached by jose) and its compiled claims mapping rule set
// (default preset:oidc). Built once per config by deps.ts. Does no verification itself
// (jwt-assertion.ts does) and never trusts an issuer that is not in config.
import { createLocalJWKSet, createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { compileRuleSet, type CompiledRuleSet } from '../claims/engine.ts';
import type { Config } from '../config/load.ts';
import { presetId } from '../config/mappings.ts';
import type { IssuerConfig } from '../config/schema.ts';

export type AssertionIssuer = { readonly config: IssuerConfig; readonly keys: JWTVerifyGetKey; readonly ruleSet: CompiledRuleSet };

export type AssertionIssuers = {
  /** Every configured issuer whose `issuer` is exactly `iss`. */
  withIssuer(iss: string): AssertionIssuer[];
};

export function createAssertionIssuers(config: Config, timeoutMs: number): AssertionIssuers {
  const all: AssertionIssuer[] = [];
  for (const issuer of config.issuers.values()) {
    // Config loading already compiled every rule set once (that is where its errors are reported).
    const rules = config.mappings.get(issuer.mapping ?? presetId('oidc'));
    const compiled = rules ? compileRuleSet(rules) : undefined;
    if (!compiled?.ok) throw new Error(`rule set of issuer ${issuer.id} does not compile`);
    const keys = issuer.jwks
      ? createLocalJWKSet(issuer.jwks as Parameters<typeof createLocalJWKSet>[0])
      : createRemoteJWKSet(new URL(issuer.jwks_uri as string), { timeoutDuration: timeoutMs, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
    all.push({ config: issuer, keys, ruleSet: compiled.ruleSet });
  }
  return { withIssuer: (iss) => all.filter((issuer) => issuer.config.issuer === iss) };
}
