// The one error of `consulate db migrate-to` that is the operator's to fix (a source in use, a target
// holding data, schemas that differ, a copy that does not verify): its message is one line, safe to
// print (no password), and when it is thrown nothing has been written to the target.
export class MigrateToError extends Error {}
