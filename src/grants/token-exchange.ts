// Token exchange (RFC 8693): an actor (the authenticated client, usually an agent) trades a token
// that represents someone for a narrower Passport that says so: `sub` the person, `act` the actor
// on top of any earlier actors, `azp`/`client_id` the actor, `did` the delegation.
// 1 parameters  2 the subject token  3 the actor token, if any  4 whose tokens this client may
// exchange, and may_act  5 ID-JAG or Passport.
import { allActive } from '../clients/directory.ts';
import { tokenExchangeGrant } from '../oauth/grant-types.ts';
import { mayAct } from '../delegation/act.ts';
import { resolveSubjectToken, type SubjectToken, type SubjectTokenDeps } from '../delegation/subject-token.ts';
import { tokenTypes } from '../delegation/token-types.ts';
import { patSubject, type PatSubjectDeps } from '../pats/subject.ts';
import { OAuthError } from '../oauth/errors.ts';
import { parseScope, type Params } from '../oauth/params.ts';
import { verifyPassport } from '../passports/verify.ts';
import type { ClientConfig } from '../config/schema.ts';
import type { Deps } from '../deps.ts';
import { delegatedReceiptDetails, delegatedResponse, issueDelegatedPassport, type DelegatedPassportDeps } from './delegated-passport.ts';
import { issueIdJag, type IdJagDeps } from './id-jag-issue.ts';
import type { Grant, GrantContext } from './types.ts';
import { isPaused } from '../obligations/pending.ts';
import { subjectMapping } from '../audit/trail.ts';

/** What this grant reads of the running server: the subject token's (a PAT's) checks, the client directory, and what an ID-JAG or a delegated Passport needs. */
type TokenExchangeDeps = SubjectTokenDeps & PatSubjectDeps & IdJagDeps & DelegatedPassportDeps & Pick<Deps, 'clientDocuments'>;

export const tokenExchange: Grant = {
  grantType: tokenExchangeGrant,
  params: ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'resource', 'audience', 'scope', 'authorization_details'],
  async handle(context: GrantContext<TokenExchangeDeps>) {
    const { deps, client: { client }, params, now, receipt, dpop, trail } = context;
    // 1.
    trail.at = 'parameters';
    const subjectToken = required(params, 'subject_token');
    const subjectTokenType = required(params, 'subject_token_type');
    const requested = params.get('requested_token_type') ?? tokenTypes.accessToken;
    if (requested !== tokenTypes.accessToken && requested !== tokenTypes.jwt && requested !== tokenTypes.idJag) {
      throw new OAuthError('invalid_request', 'requested_token_type is not supported', { reason: 'requested_token_type_unsupported' });
    }
    // 2.
    trail.at = 'subject_token';
    const subject =
      subjectTokenType === tokenTypes.pat
        ? await patSubject(deps, subjectToken, context.source)
        : await resolveSubjectToken(deps, subjectToken, subjectTokenType, now, client.delegation?.subject_token_upstreams ?? []);
    const mapping = subjectMapping(deps.config, subject);
    if (mapping) trail.mapping = mapping;
    // 3.
    trail.at = 'actor_token';
    await checkActorToken(deps, client, params, now);
    // 4.
    trail.at = 'subject_source';
    checkSubjectSource(client, subject);
    trail.subject = subject.represented.kind === 'person' ? subject.represented.sub : subject.represented.clientId;
    if (subject.issuedTo !== undefined && !(await allActive(deps, [subject.issuedTo]))) {
      throw new OAuthError('invalid_grant', 'the subject token was issued to a client that is no longer active', { reason: 'subject_client_inactive' });
    }
    if (!mayAct(subject.mayAct, client.client_id, deps.issuer)) throw new OAuthError('invalid_grant', 'the subject token\'s may_act does not name this client', { reason: 'may_act_mismatch' });

    // 5.
    if (requested === tokenTypes.idJag) return issueIdJag({ deps, client, subject, params, now, receipt, trail });
    const passport = await issueDelegatedPassport({
      deps,
      client,
      subject,
      targets: [...params.all('resource'), ...params.all('audience')],
      scopes: parseScope(params.get('scope')),
      rawDetails: params.get('authorization_details'),
      dpop,
      receipt,
      now,
      trail,
    });
    if (isPaused(passport)) return passport;
    const { claims } = passport;
    return {
      response: delegatedResponse(passport, true),
      audit: { event: 'passport.exchanged', subject: claims.sub, tokenJti: claims.jti, details: { grant_type: tokenExchangeGrant, ...delegatedReceiptDetails(passport, subject) } },
    };
  },
};

function required(params: Params, name: string): string {
  const value = params.get(name);
  if (value === undefined) throw new OAuthError('invalid_request', `${name} is required`);
  return value;
}

/** RFC 8693 §2.1: the actor token represents the acting party; here it must be the client's own Passport. */
async function checkActorToken(deps: Pick<Deps, 'keyring' | 'issuer' | 'store'>, client: ClientConfig, params: Params, now: number): Promise<void> {
  const actorToken = params.get('actor_token');
  const actorType = params.get('actor_token_type');
  if (actorToken === undefined) {
    if (actorType !== undefined) throw new OAuthError('invalid_request', 'actor_token_type without actor_token');
    return;
  }
  if (actorType !== tokenTypes.accessToken && actorType !== tokenTypes.jwt) throw new OAuthError('invalid_request', 'actor_token_type is missing or not supported');
  const check = await verifyPassport(actorToken, deps.keyring, deps.issuer, now);
  const own = check.ok && check.claims.sub === client.client_id && check.claims.client_id === client.client_id && check.claims.act === undefined;
  if (!own || (await deps.store.revocations.isRevoked(check.claims.jti))) {
    throw new OAuthError('invalid_request', 'actor_token is invalid or does not represent the authenticated client', { reason: check.ok ? 'actor_token_not_client' : `actor_token_${check.reason}` });
  }
}

/** A client exchanges its own tokens, and others' only where its policy names their client or upstream. */
function checkSubjectSource(client: ClientConfig, subject: SubjectToken): void {
  const policy = client.delegation;
  if (subject.upstreamId !== undefined) {
    if (!policy?.subject_token_upstreams.includes(subject.upstreamId)) throw new OAuthError('invalid_grant', 'this client may not exchange tokens of that upstream', { reason: 'upstream_not_allowed' });
    return;
  }
  if (subject.issuedTo === client.client_id) return;
  // A service exchanges a Passport that was sent to it (its audience), whoever the client was.
  if (subject.audience !== undefined && policy?.subject_token_audiences.includes(subject.audience)) return;
  if (subject.issuedTo === undefined || !policy?.subject_token_clients.includes(subject.issuedTo)) {
    throw new OAuthError('invalid_grant', 'this client may not exchange tokens issued to another client', { reason: 'subject_client_not_allowed' });
  }
}
