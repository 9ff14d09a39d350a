// Whether a Passport was revoked (by its jti) since it was issued: what every check of a Passport
// of ours asks last. Revoking is the introspection module's and the delegation module's business.
import type { Store } from '../store/ports.ts';

export const isRevoked = (store: Pick<Store, 'revocations'>, jti: string): Promise<boolean> => store.revocations.isRevoked(jti);
