// Which IP addresses the metadata document fetcher may connect to. Everything that is not a public
// unicast address is refused: a client_id URL must not reach loopback, the private network or the
// cloud metadata service (169.254.169.254) through us.
import { BlockList, isIP } from 'node:net';

export type AddressOptions = { allowLoopbackHttp: boolean };

const refusedV4 = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // RFC 1918
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) refusedV4.addSubnet(net, prefix, 'ipv4');

const refusedV6 = new BlockList();
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b:1::', 48], // local-use NAT64: the translator's IPv4 side is private by definition
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // deprecated site-local
  ['ff00::', 8], // multicast
] as const) refusedV6.addSubnet(net, prefix, 'ipv6');

const loopbackV4 = new BlockList();
loopbackV4.addSubnet('127.0.0.0', 8, 'ipv4');

export type AddressClass = 'public' | 'loopback' | 'refused';

/** Classifies an IP address literal; anything that is not one (or carries a zone id) is refused. */
export function classifyAddress(address: string): AddressClass {
  const family = isIP(address);
  if (family === 4) {
    if (loopbackV4.check(address, 'ipv4')) return 'loopback';
    return refusedV4.check(address, 'ipv4') ? 'refused' : 'public';
  }
  if (family !== 6 || address.includes('%')) return 'refused';
  const groups = ipv6Groups(address);
  if (!groups) return 'refused';
  if (groups.every((g, i) => g === (i === 7 ? 1 : 0))) return 'loopback';
  if (refusedV6.check(address, 'ipv6')) return 'refused';
  // IPv4 embedded in IPv6 reaches the IPv4 address: judge that one (and never treat it as loopback).
  const embedded = embeddedIPv4(groups);
  if (embedded !== undefined) return refusedV4.check(embedded, 'ipv4') ? 'refused' : 'public';
  return 'public';
}

export function isAllowedAddress(address: string, options: AddressOptions): boolean {
  const kind = classifyAddress(address);
  return kind === 'public' || (kind === 'loopback' && options.allowLoopbackHttp);
}

function embeddedIPv4(g: number[]): string | undefined {
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && (g[5] === 0xffff || g[5] === 0)) return v4(g[6]!, g[7]!); // ::ffff:a.b.c.d, ::a.b.c.d
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return v4(g[6]!, g[7]!); // SIIT ::ffff:0:a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return v4(g[6]!, g[7]!); // NAT64 64:ff9b::/96
  if (g[0] === 0x2002) return v4(g[1]!, g[2]!); // 6to4
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address (already known to be valid by isIP). */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const groups = tail === undefined ? left : [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 && groups.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffff) ? groups : undefined;
}
