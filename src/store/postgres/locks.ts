// The advisory lock keys of the PostgreSQL backend, in one place so no two uses collide. Each is a
// fixed bigint for pg_advisory_lock / pg_advisory_xact_lock(bigint); keys for the two-int form
// pg_advisory_xact_lock(class, hashtext(name)) are a separate space in PostgreSQL.
// Only lock keys here: no SQL, no I/O.
export const advisoryLocks = {
  /** Running drizzle migrations (session lock, held by one node at a time). */
  migrate: 7_400_001,
  /** Appending to the audit hash chain (transaction lock: one chain head at a time). */
  auditChain: 7_400_002,
  /** Inserting signing keys (transaction lock: one first key per algorithm). */
  signingKeys: 7_400_003,
  /** Class of the dynamic-client registration cap, per source (two-int form). */
  dynamicClients: 7_400_004,
  /** Class of the personal access token cap, per person (two-int form). */
  pats: 7_400_005,
} as const;
