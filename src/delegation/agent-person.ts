// An agent that asks for a person's tokens through CIBA or the device flow acts for that person:
// the one delegation policy decides it exactly as for token exchange (whom, where, what), and
// the Passport records the agent in `act`. Other clients (apps) are not delegates: nothing here.
import type { ClientConfig } from '../config/schema.ts';
import type { Deps } from '../deps.ts';
import type { AuthorizationDetail } from '../oauth/authorization-details.ts';
import { OAuthError } from '../oauth/errors.ts';
import { decideDelegation, mayActFor } from './policy.ts';

export type PersonAsk = { sub: string; claims: Readonly<Record<string, unknown>>; resource?: string | undefined; resourceScopes: readonly string[]; details: readonly AuthorizationDetail[] };

/** Throws the policy's refusal; `dpop` undefined: not known yet (at request time), not judged. */
export function checkAgentForPerson(deps: Pick<Deps, 'config'>, client: ClientConfig, ask: PersonAsk, dpop?: boolean): void {
  if (client.kind !== 'agent') return;
  const subject = { kind: 'person' as const, sub: ask.sub, claims: ask.claims };
  const chain = [client.client_id];
  // The chain is the agent alone, whose state the directory already resolved (the one in force now).
  const states = new Map([[client.client_id, client.state]]);
  if (ask.resource === undefined) {
    const refusal = mayActFor(client, subject, chain, states, deps.config.clients);
    if (refusal) throw new OAuthError(refusal.code, refusal.description, { reason: refusal.reason });
    return;
  }
  const verdict = decideDelegation({
    actor: client,
    subject,
    resource: ask.resource,
    scopes: ask.resourceScopes,
    details: ask.details,
    chain,
    states,
    ttlSeconds: deps.config.main.passports.max_ttl_seconds,
    dpop: dpop ?? true,
    clients: deps.config.clients,
  });
  if (!verdict.ok) throw new OAuthError(verdict.code, verdict.description, { reason: verdict.reason });
}
