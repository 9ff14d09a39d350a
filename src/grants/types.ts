// What a grant module is: its grant_type, the parameters it reads, and a handler that returns
// the token response and the receipt details, or throws an OAuthError. dispatch.ts runs the rest.
import type { AuthenticatedClient } from '../clients/authenticate.ts';
import type { Deps } from '../deps.ts';
import type { AuthorizationDetail } from '../oauth/authorization-details.ts';
import type { Params } from '../oauth/params.ts';
import type { Receipt } from '../audit/receipts.ts';
import type { DpopBinding } from '../dpop/request.ts';
import type { Trail } from '../audit/trail.ts';
import type { Paused } from '../obligations/pending.ts';

export type TokenResponse = {
  access_token: string;
  /** N_A: token exchange issued something that is not an access token (an ID-JAG, RFC 8693 §2.2.1). DPoP: bound to the proof's key (RFC 9449 §5). */
  token_type: 'Bearer' | 'DPoP' | 'N_A';
  expires_in: number;
  scope?: string;
  authorization_details?: AuthorizationDetail[];
  issued_token_type?: string;
  /** Person grants with the openid scope (OIDC Core §3.1.3.3, §12.2). */
  id_token?: string;
  /** Person grants, for clients allowed the refresh_token grant; a new one at every refresh. */
  refresh_token?: string;
};

/**
 * What a handler gets. `deps` is narrowed by each grant to what it reads (fosite's style): a grant
 * declares `GrantContext<Pick<Deps, ...>>`, so what it may touch is written at its head and the
 * compiler holds it to that. `params` holds only the parameters the grant declares.
 */
export type GrantContext<D = Deps> = {
  deps: D;
  client: AuthenticatedClient;
  /** The grant's declared parameters (Grant.params) and grant_type / client_id; nothing else, no client credentials. */
  params: Params;
  now: number;
  /** Id of the receipt (audit record) dispatch writes for this issuance. */
  receipt: string;
  /** The key of the request's valid DPoP proof (RFC 9449): what the Passport gets bound to. */
  dpop?: DpopBinding | undefined;
  /** The request's decision trail (audit/trail.ts): each step writes what it decided; the receipt keeps it. */
  trail: Trail;
  /** The request's source address (http/source.ts), for the limits a grant applies itself (failed PATs). */
  source?: string | undefined;
};

export type GrantResult = {
  response: TokenResponse;
  audit: Pick<Receipt, 'event' | 'subject' | 'tokenJti' | 'details'>;
};

export type Grant = {
  grantType: string;
  /** Parameters the handler reads; dispatch hands it only these (and grant_type, client_id). */
  params: readonly string[];
  /** The token response and the receipt's details, or a pause for approval (token exchange, JWT bearer): dispatch answers it. */
  handle(context: GrantContext): Promise<GrantResult | Paused>;
};
