// The source address for rate limits: the socket's peer, or behind a trusted proxy the right-most
// X-Forwarded-For entry that is not itself a trusted proxy.
import { describe, expect, it } from 'vitest';
import { resolveSource, trustedProxies } from '../../../src/limits/source.ts';

describe('resolveSource', () => {
  const none = trustedProxies([]);
  const proxies = trustedProxies(['10.0.0.0/8', '192.0.2.1', 'fd00::/8']);

  it('without trusted proxies X-Forwarded-For is ignored', () => {
    expect(resolveSource('198.51.100.1', '203.0.113.5', none)).toBe('198.51.100.1');
  });
  it('an untrusted peer is the source, whatever it forwards', () => {
    expect(resolveSource('198.51.100.1', '203.0.113.5', proxies)).toBe('198.51.100.1');
  });
  it('behind trusted proxies: the right-most untrusted hop', () => {
    expect(resolveSource('10.1.2.3', '203.0.113.9, 198.51.100.7', proxies)).toBe('198.51.100.7');
    expect(resolveSource('10.1.2.3', '203.0.113.9, 198.51.100.7, 10.0.0.2, 192.0.2.1', proxies)).toBe('198.51.100.7');
    expect(resolveSource('::ffff:192.0.2.1', '2001:db8::1', proxies)).toBe('2001:db8::1');
    expect(resolveSource('fd00::1', '198.51.100.8', proxies)).toBe('198.51.100.8');
  });
  it('a trusted peer without X-Forwarded-For, or with only trusted hops', () => {
    expect(resolveSource('10.1.2.3', undefined, proxies)).toBe('10.1.2.3');
    expect(resolveSource('10.1.2.3', '10.0.0.9, 10.0.0.8', proxies)).toBe('10.0.0.9');
  });
  it('an IPv4-mapped peer is its IPv4 form; no socket, no source', () => {
    expect(resolveSource('::ffff:198.51.100.1', undefined, none)).toBe('198.51.100.1');
    expect(resolveSource(undefined, '203.0.113.5', proxies)).toBeUndefined();
  });
});
