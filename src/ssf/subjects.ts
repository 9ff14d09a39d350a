// Subject identifiers of SETs (RFC 9493, SSF 1.0 §3): a person as iss_sub under our issuer, an
// agent, session or delegation as an opaque id, a Passport by its jti, and complex subjects that
// combine them (every member names the same principal: a person's delegation to an agent).
export type SubjectId = Record<string, unknown> & { format: string };

export const personSubject = (issuer: string, sub: string): SubjectId => ({ format: 'iss_sub', iss: issuer, sub });

export const opaqueSubject = (id: string): SubjectId => ({ format: 'opaque', id });

/** SSF 1.0 §3.5.1: a Passport (a JWT) by issuer and jti. */
export const passportSubject = (issuer: string, jti: string): SubjectId => ({ format: 'jwt_id', iss: issuer, jti });

/** SSF 1.0 §3.3: members such as user, session, application, and our `delegation`. */
export function complexSubject(members: Record<string, SubjectId | undefined>): SubjectId {
  return { format: 'complex', ...Object.fromEntries(Object.entries(members).filter(([, value]) => value !== undefined)) };
}
