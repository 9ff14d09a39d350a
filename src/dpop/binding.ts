// Where DPoP binding is not optional (RFC 9449 §5.2, RFC 9728 dpop_bound_access_tokens_required):
// a resource that takes only bound Passports, and a bound token that only its key may use further.
import type { ResourceConfig } from '../config/schema.ts';
import { OAuthError } from '../oauth/errors.ts';
import type { DpopBinding } from './request.ts';

export function requireDpopForResource(resource: Pick<ResourceConfig, 'resource' | 'dpop_bound_access_tokens_required'>, dpop: DpopBinding | undefined): void {
  if (resource.dpop_bound_access_tokens_required && !dpop) {
    throw new OAuthError('invalid_dpop_proof', 'this resource accepts only DPoP-bound Passports: send a DPoP proof', { reason: 'dpop_required_by_resource' });
  }
}

/** A token bound to `boundJkt` is used only with a proof by that key. */
export function requireHolder(boundJkt: string | undefined, dpop: DpopBinding | undefined, what: string): void {
  if (boundJkt === undefined) return;
  if (!dpop) throw new OAuthError('invalid_dpop_proof', `the ${what} is DPoP-bound: send a proof with its key`, { reason: `${what.replace(/ /g, '_')}_bound_no_proof` });
  if (dpop.jkt !== boundJkt) throw new OAuthError('invalid_dpop_proof', `the DPoP proof is not made with the key the ${what} is bound to`, { reason: `${what.replace(/ /g, '_')}_bound_other_key` });
}
