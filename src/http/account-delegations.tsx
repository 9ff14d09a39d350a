// The account page's delegations: agents acting for the person, and, for a person who owns agents
// (an agent's owner is their canonical e-mail, compared case-insensitively, unless the upstream said
// it is unverified), the delegations made to those agents. Who may revoke which delegation is
// decided here, server-side, for the page and for its revoke form alike.
import type { Deps } from '../deps.ts';
import { formatAmount } from '../delegation/budget.ts';
import type { RevokedBy } from '../delegation/revoke.ts';
import type { DelegationRecord, SessionRecord } from '../store/ports.ts';
import { latestClaimsOf } from '../federation/subjects.ts';
import { liveDelegations } from '../delegation/records.ts';
import { ownedAgents } from './account-owner.ts';
import { delegationReceipts, ReceiptList, type ReceiptRow } from './account-receipts.tsx';

export type DelegationRow = { did: string; agent: string; resource: string; since: string; budget?: string | undefined; forWhom?: string | undefined; receipts: ReceiptRow[] };
export type AccountDelegations = { forYou: DelegationRow[]; ofYourAgents: DelegationRow[]; ownsAgents: boolean };


/** Whether (and as whom) this person may revoke the delegation: as the person it represents, or as its agent's owner. */
export function revokerRole(deps: Deps, session: SessionRecord, record: DelegationRecord): Exclude<RevokedBy, 'operator'> | undefined {
  if (record.sub === session.sub) return 'subject';
  if (ownedAgents(deps, session.claims).includes(record.clientId)) return 'owner';
  return undefined;
}

export const agentName = (deps: Deps, clientId: string): string => deps.config.clients.get(clientId)?.name ?? clientId;

function budgetWords(record: DelegationRecord): string | undefined {
  const { budget, used } = record;
  if (!budget) return undefined;
  const parts = [];
  if (budget.uses !== undefined) parts.push(`${used.uses} of ${budget.uses} uses`);
  if (budget.amountMicros !== undefined) parts.push(`${formatAmount(used.amountMicros)} of ${formatAmount(budget.amountMicros)} ${budget.currency ?? ''}`.trimEnd());
  return `${parts.join(' and ')} used`;
}

async function row(deps: Deps, record: DelegationRecord, forWhom?: string): Promise<DelegationRow> {
  const resource = record.resource === undefined ? 'any of its resources' : (deps.config.resources.get(record.resource)?.name ?? record.resource);
  return { did: record.did, agent: agentName(deps, record.clientId), resource, since: new Date(record.createdAt * 1000).toISOString().slice(0, 10), budget: budgetWords(record), forWhom, receipts: await delegationReceipts(deps, record.did) };
}

async function personName(deps: Deps, sub: string): Promise<string> {
  const claims = await latestClaimsOf(deps.store, sub);
  for (const name of ['name', 'email']) if (typeof claims[name] === 'string' && claims[name]) return claims[name] as string;
  return sub;
}

/** Live delegations (unexpired, not revoked) of the person, and of the agents they own (theirs listed once, above). */
export async function loadAccountDelegations(deps: Deps, session: SessionRecord): Promise<AccountDelegations> {
  const now = deps.now();
  const forYou = await Promise.all((await liveDelegations(deps.store, { sub: session.sub }, now)).map((r) => row(deps, r)));
  const owned = ownedAgents(deps, session.claims);
  const ofYourAgents: DelegationRow[] = [];
  if (owned.length) {
    for (const record of await liveDelegations(deps.store, { clientIds: owned }, now)) {
      if (record.sub !== session.sub) ofYourAgents.push(await row(deps, record, await personName(deps, record.sub)));
    }
  }
  return { forYou, ofYourAgents, ownsAgents: owned.length > 0 };
}

function RevokeForm(props: { csrf: string; did: string; label: string }) {
  return (
    <form method="post" action="/account/delegations/revoke" class="actions">
      <input type="hidden" name="csrf" value={props.csrf} />
      <input type="hidden" name="did" value={props.did} />
      <button type="submit" class="secondary">
        {props.label}
      </button>
    </form>
  );
}

export function DelegationSections(props: { csrf: string; delegations: AccountDelegations }) {
  const { forYou, ofYourAgents, ownsAgents } = props.delegations;
  return (
    <>
      <h2>Agents acting for you</h2>
      {forYou.length ? (
        <ul>
          {forYou.map((d) => (
            <li>
              <strong>{d.agent}</strong> on {d.resource} since {d.since}
              {d.budget ? `; ${d.budget}` : ''}
              <ReceiptList receipts={d.receipts} />
              <RevokeForm csrf={props.csrf} did={d.did} label={`Revoke: ${d.agent} stops acting for you`} />
            </li>
          ))}
        </ul>
      ) : (
        <p>None.</p>
      )}
      {ownsAgents ? (
        <>
          <h2>Your agents' delegations</h2>
          {ofYourAgents.length ? (
            <ul>
              {ofYourAgents.map((d) => (
                <li>
                  <strong>{d.agent}</strong> acts for {d.forWhom} on {d.resource} since {d.since}
                  {d.budget ? `; ${d.budget}` : ''}
                  <ReceiptList receipts={d.receipts} />
                  <RevokeForm csrf={props.csrf} did={d.did} label={`Revoke: ${d.agent} stops acting for ${d.forWhom}`} />
                </li>
              ))}
            </ul>
          ) : (
            <p>None.</p>
          )}
        </>
      ) : null}
    </>
  );
}
