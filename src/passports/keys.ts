// Signing keys: generated on first start, rotated by publishing the next key before it signs,
// and kept in JWKS after they stop signing until the last Passport they signed has expired.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { KeyRecord, KeyStore } from '../store/ports.ts';

export type SigningAlg = KeyRecord['alg'];
/** Every algorithm the keyring can hold. EdDSA (Ed25519) signs ~4x cheaper than ES256, for the
 * resources that ask for it (resources/*.yaml signing_alg); its key exists only once one does. */
export const signingAlgs: readonly SigningAlg[] = ['ES256', 'RS256', 'EdDSA'];
/** What every install has: ES256 Passports and RS256 ID tokens (OpenID Connect's default). */
export const defaultSigningAlgs: readonly SigningAlg[] = ['ES256', 'RS256'];

export type SigningKey = { kid: string; alg: SigningAlg; privateKey: KeyObject };

export type KeyringOptions = {
  /** Seconds a retired key stays published: the longest token lifetime plus clock skew. */
  retentionSeconds: number;
  reloadSeconds: number;
};

type LoadedKey = KeyRecord & { privateKey: KeyObject; publicKey: KeyObject; supersededAt?: number };

export async function generateKeyRecord(alg: SigningAlg, now: number, activatesAt: number): Promise<KeyRecord> {
  const pair = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicJwk = pair.publicKey.export({ format: 'jwk' }) as JWK;
  const privateJwk = pair.privateKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  return { kid, alg, publicJwk: { ...publicJwk, kid, alg, use: 'sig' }, privateJwk, createdAt: now, activatesAt };
}

export type Keyring = ReturnType<typeof createKeyring>;

export function createKeyring(store: KeyStore, options: KeyringOptions) {
  let loaded: LoadedKey[] = [];
  let loadedAt = -Infinity;
  let loading: Promise<void> | undefined;

  async function reload(): Promise<void> {
    const records = await store.list();
    const previous = new Map(loaded.map((k) => [k.kid, k]));
    loaded = records.map((record) => {
      const known = previous.get(record.kid);
      return {
        ...record,
        privateKey: known?.privateKey ?? createPrivateKey({ key: record.privateJwk, format: 'jwk' }),
        publicKey: known?.publicKey ?? createPublicKey({ key: record.publicJwk, format: 'jwk' }),
      };
    });
    loadedAt = Date.now();
  }

  async function current(): Promise<LoadedKey[]> {
    if (Date.now() - loadedAt >= options.reloadSeconds * 1000) {
      loading ??= reload().finally(() => {
        loading = undefined;
      });
      await loading;
    }
    return loaded;
  }

  /** Keys of one algorithm by activation, each with the time its successor took over. */
  function timeline(keys: LoadedKey[], alg: SigningAlg, now: number): LoadedKey[] {
    const ofAlg = keys.filter((k) => k.alg === alg);
    return ofAlg.map((key, i) => {
      const successor = ofAlg.slice(i + 1).find((next) => next.activatesAt <= now);
      return successor ? { ...key, supersededAt: successor.activatesAt } : key;
    });
  }

  const isPublished = (key: LoadedKey, now: number) => key.supersededAt === undefined || key.supersededAt + options.retentionSeconds > now;

  return {
    /** Makes sure each of `algs` has a signing key; a fresh install (or a new algorithm) signs at once. */
    async ensureKeys(now: number, algs: readonly SigningAlg[] = defaultSigningAlgs): Promise<void> {
      const keys = await store.list();
      for (const alg of algs) {
        // Another node starting at the same time may create it first: then that one is kept.
        if (!keys.some((k) => k.alg === alg && k.activatesAt <= now)) await store.insert(await generateKeyRecord(alg, now, now), { onlyIfNoneActive: true });
      }
      await reload();
    },

    /** Adds the next key per algorithm (by default each one the keyring holds), signing from `now + delaySeconds`. */
    async rotate(now: number, delaySeconds: number, algs?: readonly SigningAlg[]): Promise<KeyRecord[]> {
      const held = new Set((await store.list()).map((k) => k.alg));
      const added: KeyRecord[] = [];
      for (const alg of algs ?? signingAlgs.filter((a) => held.has(a))) {
        const record = await generateKeyRecord(alg, now, now + delaySeconds);
        await store.insert(record);
        added.push(record);
      }
      await reload();
      return added;
    },

    async signingKey(alg: SigningAlg, now: number): Promise<SigningKey> {
      const ofAlg = (await current()).filter((k) => k.alg === alg);
      // After the clock steps back past the first key's start, none is active yet: the earliest
      // one is already published (keys are published before they sign), so it signs meanwhile.
      const key = ofAlg.filter((k) => k.activatesAt <= now).at(-1) ?? ofAlg[0];
      if (!key) throw new Error(`no ${alg} signing key`);
      return { kid: key.kid, alg: key.alg, privateKey: key.privateKey };
    },

    /** The public key for `kid`, only while that key is published. */
    async verificationKey(kid: string, now: number): Promise<{ alg: SigningAlg; publicKey: KeyObject } | undefined> {
      const keys = await current();
      const key = keys.find((k) => k.kid === kid);
      if (!key || !isPublished(timeline(keys, key.alg, now).find((k) => k.kid === kid) as LoadedKey, now)) return undefined;
      return { alg: key.alg, publicKey: key.publicKey };
    },

    async jwks(now: number): Promise<{ keys: JWK[] }> {
      const keys = await current();
      return { keys: signingAlgs.flatMap((alg) => timeline(keys, alg, now).filter((k) => isPublished(k, now)).map((k) => k.publicJwk)) };
    },

    async status(now: number) {
      const keys = await current();
      return signingAlgs.flatMap((alg) =>
        timeline(keys, alg, now).map((k) => ({
          kid: k.kid,
          alg,
          activatesAt: k.activatesAt,
          state: k.activatesAt > now ? 'next' : k.supersededAt === undefined ? 'current' : isPublished(k, now) ? 'retired (published)' : 'expired',
        })),
      );
    },

    reload,
  };
}
