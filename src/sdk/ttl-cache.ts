// A small in-memory map whose entries expire, bounded in size: the guard's DPoP replay cache and
// its introspection cache. Time comes in as an argument (seconds), so tests drive it with a clock.
// It must not grow without bound: when full after dropping expired entries, `add` refuses (the
// replay cache then fails closed) and `put` evicts the oldest entry (a cache may forget).
export type TtlCache<V> = {
  get(key: string, now: number): V | undefined;
  /** Stores the value unless the key is live already or the cache is full; true when stored. */
  add(key: string, value: V, expiresAt: number, now: number): boolean;
  /** Stores or replaces the value, evicting the oldest entry when full. */
  put(key: string, value: V, expiresAt: number, now: number): void;
  delete(key: string): void;
  /** Drops every entry whose value matches; how many. */
  deleteWhere(match: (value: V) => boolean): number;
  readonly size: number;
};

export function createTtlCache<V>(maxEntries: number): TtlCache<V> {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError('maxEntries must be a positive integer');
  // Insertion order is (roughly) expiry order for entries of one lifetime, so sweeping from the head is cheap.
  const entries = new Map<string, { value: V; expiresAt: number }>();
  // Drops expired entries from the head; when that frees nothing, looks through all of them.
  const sweep = (now: number) => {
    for (const [key, entry] of entries) {
      if (entry.expiresAt > now) break;
      entries.delete(key);
    }
    if (entries.size < maxEntries) return;
    for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
  };
  const live = (key: string, now: number) => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= now) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };
  return {
    get: (key, now) => live(key, now)?.value,
    add(key, value, expiresAt, now) {
      if (live(key, now)) return false;
      if (entries.size >= maxEntries) sweep(now);
      if (entries.size >= maxEntries) return false;
      entries.set(key, { value, expiresAt });
      return true;
    },
    put(key, value, expiresAt, now) {
      entries.delete(key);
      if (entries.size >= maxEntries) sweep(now);
      if (entries.size >= maxEntries) {
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
      entries.set(key, { value, expiresAt });
    },
    delete(key) {
      entries.delete(key);
    },
    deleteWhere(match) {
      let dropped = 0;
      for (const [key, entry] of entries) {
        if (!match(entry.value)) continue;
        entries.delete(key);
        dropped++;
      }
      return dropped;
    },
    get size() {
      return entries.size;
    },
  };
}
