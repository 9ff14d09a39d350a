// Browser login sessions by the id their cookie carries: only its hash is stored (oauth/ids.ts),
// so a database read does not hand out live sessions. What pages ask: whose session is this, and
// end it (sign-out, or a new sign-in replacing it).
import { hashId } from '../oauth/ids.ts';
import type { SessionRecord, Store } from '../store/ports.ts';

type SessionDeps = { store: Pick<Store, 'logins'>; now: () => number };

export const findLoginSession = (deps: SessionDeps, cookieId: string): Promise<SessionRecord | undefined> => deps.store.logins.findSession(hashId(cookieId), deps.now());

export const endLoginSession = (deps: Pick<SessionDeps, 'store'>, cookieId: string): Promise<void> => deps.store.logins.deleteSession(hashId(cookieId));
