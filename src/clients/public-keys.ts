// Keys a client publishes (metadata documents, registrations) must be public: these members exist
// only in private or symmetric JWKs (RFC 7518 §6.2.2, §6.3.2, §6.4).
const secretKeyMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

export const isPublicJwk = (key: object): boolean => !secretKeyMembers.some((member) => Object.hasOwn(key, member));
