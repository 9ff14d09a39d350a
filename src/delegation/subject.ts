// What a verified subject token says (SubjectToken), and the one refusal for any bad one: a leaf
// shared by the readers of our own tokens (subject-token.ts) and of upstream tokens (upstream-token.ts).
import { OAuthError } from '../oauth/errors.ts';
import type { AuthorizationDetail } from '../oauth/authorization-details.ts';
import type { ActClaim } from './act.ts';
import type { Represented } from './policy.ts';
import type { TrailMapping } from '../audit/trail.ts';

export type SubjectToken = {
  /** passport, id_token, upstream:<id>. */
  origin: string;
  represented: Represented;
  /** Ours: the client the token was issued to. Upstream: undefined. */
  issuedTo?: string | undefined;
  upstreamId?: string | undefined;
  /** Ours (Passports): its jti, so that revoking it revokes what is minted from it. */
  jti?: string | undefined;
  /** Ours (Passports): the receipt it names, so the new receipt can point back to it (explain's chain). */
  receipt?: string | undefined;
  /** A Passport's audience and what it allows there. */
  audience?: string | undefined;
  scopes: string[];
  details: AuthorizationDetail[];
  exp: number;
  act?: ActClaim | undefined;
  did?: string | undefined;
  mayAct?: unknown;
  /** A DPoP-bound subject token's key thumbprint (cnf.jkt, RFC 9449 §6). */
  boundJkt?: string | undefined;
  authentication?: { authTime: number; acr?: string | undefined; amr?: string[] | undefined } | undefined;
  /** Provenance and canonical claims of the person. */
  claims: Readonly<Record<string, unknown>>;
  /** An upstream token's mapping as it ran (which rule gave each claim), for the receipt's trail. */
  mapping?: TrailMapping | undefined;
};

export const invalidSubjectToken = (reason: string) => new OAuthError('invalid_request', 'subject_token is invalid', { reason: `subject_token_${reason}` });
