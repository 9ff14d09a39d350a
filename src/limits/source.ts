// The source address a request is counted under: the socket's peer, unless that peer is a trusted
// reverse proxy (http.trust_proxy), in which case the right-most X-Forwarded-For entry that is not a
// trusted proxy: the one address a trusted proxy saw, which a client cannot forge by prepending.
import { BlockList, isIP } from 'node:net';

export type TrustedProxies = { has(address: string): boolean; readonly empty: boolean };

/** An IPv4-mapped IPv6 address (::ffff:10.0.0.1) as its IPv4 form, so one rule covers both. */
function plain(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped ? (mapped[1] as string) : address;
}

export function trustedProxies(entries: readonly string[]): TrustedProxies {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(plain(address), type);
    else list.addSubnet(address, Number(bits), type);
  }
  return {
    empty: entries.length === 0,
    has(address) {
      const value = plain(address);
      const family = isIP(value);
      return family !== 0 && list.check(value, family === 6 ? 'ipv6' : 'ipv4');
    },
  };
}

/** `peer`: the socket's remote address (undefined when unknown); `forwardedFor`: the X-Forwarded-For header. */
export function resolveSource(peer: string | undefined, forwardedFor: string | undefined, trusted: TrustedProxies): string | undefined {
  if (peer === undefined) return undefined;
  const address = plain(peer);
  if (trusted.empty || forwardedFor === undefined || !trusted.has(address)) return address;
  const hops = forwardedFor.split(',').map((hop) => hop.trim()).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = plain(hops[i] as string);
    if (!trusted.has(hop)) return isIP(hop) === 0 ? address : hop;
  }
  // Every hop is a trusted proxy: the left-most is as far as the chain can be followed.
  return hops.length > 0 ? plain(hops[0] as string) : address;
}
