// A consent obligation's approvers → the ApproverRule stored with the request, with the people
// resolved now: manager → the e-mail in the person's canonical claim (none: refused); dual → the
// group, excluding the person represented and the agent's owner (when the owner is a known person).
import type { ClientConfig, PolicyApprovers } from '../config/schema.ts';
import type { Deps } from '../deps.ts';
import { OAuthError } from '../oauth/errors.ts';
import type { ApproverRule } from '../store/ports.ts';

const email = /^[^\s@]{1,200}@[^\s@]{1,200}$/;

export async function resolveApprovers(deps: Pick<Deps, 'store'>, approvers: PolicyApprovers, person: { sub?: string | undefined; claims: Readonly<Record<string, unknown>> }, client: ClientConfig, rule: string): Promise<ApproverRule> {
  if (approvers === 'subject') {
    if (person.sub === undefined) throw new OAuthError('access_denied', 'this request needs the approval of the person represented, and no person is represented', { reason: `policy_${rule}_no_subject` });
    return { kind: 'subject' };
  }
  if (approvers === 'manager' || 'manager' in approvers) {
    const claim = approvers === 'manager' ? 'manager' : approvers.manager.claim;
    const value = Object.hasOwn(person.claims, claim) ? person.claims[claim] : undefined;
    if (typeof value !== 'string' || !email.test(value.trim())) {
      throw new OAuthError('access_denied', `this request needs the approval of the person's manager, and no manager's e-mail is known (canonical claim ${claim})`, { reason: `policy_${rule}_no_manager` });
    }
    return { kind: 'manager', email: value.trim().toLowerCase() };
  }
  const exclude = person.sub !== undefined ? [person.sub] : [];
  if (client.owner !== undefined) {
    const owner = await deps.store.subjects.findByEmail(client.owner.toLowerCase());
    if (owner !== undefined && !exclude.includes(owner)) exclude.push(owner);
  }
  return { kind: 'dual', group: approvers.dual.group, exclude };
}
