import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { addressAllowed, classifyAddress, safeFetch, type AddressClass } from '../../src/did/index.js';
import { isCharterError } from '../../src/errors.js';
import { serve } from '../helpers.js';
import type * as DnsModule from 'node:dns';

/** Names whose (simulated) AAAA answer is one IPv6 form; every other name resolves as usual. */
const AAAA: Record<string, string> = {
  'nat64-wk.evil.test': '64:ff9b::a9fe:a9fe',
  'nat64-local.evil.test': '64:ff9b:1::a9fe:a9fe',
  'siit.evil.test': '::ffff:0:a9fe:a9fe',
  'compat.evil.test': '::a9fe:a9fe',
  'sixtofour.evil.test': '2002:a9fe:a9fe::1',
  'sixtofour-loop.evil.test': '2002:7f00:1::1',
  'teredo.evil.test': '2001:0:4136:e378:8000:63bf:3fff:fdd2',
  'sitelocal.evil.test': 'fec0::1',
  'mixed.evil.test': '2606:4700::1111',
};
vi.mock('node:dns', async (importOriginal) => {
  const dns = await importOriginal<typeof DnsModule>();
  const lookup = (host: string, opts: unknown, cb?: unknown) => {
    const callback = (typeof opts === 'function' ? opts : cb) as (...a: unknown[]) => void;
    const options = (typeof opts === 'object' && opts !== null ? opts : {}) as { all?: boolean };
    const a = Object.hasOwn(AAAA, host) ? AAAA[host] : undefined;
    if (a === undefined) return (dns.lookup as (...a: unknown[]) => void)(host, opts, cb);
    // mixed.evil.test answers a public address and a mapped loopback one: one bad answer refuses the name.
    const list =
      host === 'mixed.evil.test'
        ? [
            { address: a, family: 6 },
            { address: '::ffff:127.0.0.1', family: 6 },
          ]
        : [{ address: a, family: 6 }];
    if (options.all) callback(null, list);
    else callback(null, list[0]!.address, 6);
  };
  return { ...dns, lookup, default: { ...dns, lookup } };
});

const CASES: [string, AddressClass][] = [
  // IPv4 special-purpose registry (RFC 6890)
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['10.1.2.3', 'private'],
  ['172.31.255.255', 'private'],
  ['100.64.0.1', 'private'],
  ['169.254.169.254', 'link-local'],
  ['0.0.0.0', 'reserved'],
  ['192.0.0.8', 'reserved'],
  ['192.88.99.1', 'reserved'], // 6to4 relay anycast (RFC 7526)
  ['198.18.0.1', 'reserved'],
  ['224.0.0.1', 'reserved'],
  ['255.255.255.255', 'reserved'],
  ['93.184.216.34', 'public'],
  ['172.32.0.1', 'public'],
  // IPv6 basics
  ['::1', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['::', 'reserved'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['febf::1', 'link-local'],
  ['fd00::1', 'private'],
  ['fc00::1', 'private'],
  ['ff02::1', 'reserved'],
  ['2606:4700::1111', 'public'],
  ['2a00:1450:4001::200e', 'public'],
  // IPv4-mapped ::ffff:0:0/96 (RFC 4291 §2.5.5.2), every spelling
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::FFFF:7F00:1', 'loopback'],
  ['0:0:0:0:0:ffff:7f00:1', 'loopback'],
  ['::ffff:0:0', 'reserved'],
  ['::ffff:a9fe:a9fe', 'link-local'],
  ['::ffff:5db8:d822', 'public'],
  // IPv4-translated ::ffff:0:0:0/96 (RFC 2765 SIIT)
  ['::ffff:0:7f00:1', 'loopback'],
  ['::ffff:0:127.0.0.1', 'loopback'],
  ['0:0:0:0:ffff:0:a00:1', 'private'],
  ['::ffff:0:a9fe:a9fe', 'link-local'],
  // IPv4-compatible ::/96 (RFC 4291 §2.5.5.1, deprecated)
  ['::7f00:1', 'loopback'],
  ['::127.0.0.1', 'loopback'],
  ['::a00:1', 'private'],
  ['::a9fe:a9fe', 'link-local'],
  ['::2', 'reserved'],
  // NAT64: the well-known prefix carries its IPv4 address where RFC 6052 puts it; the local-use /48 is refused
  ['64:ff9b::7f00:1', 'loopback'],
  ['64:ff9b::169.254.169.254', 'link-local'],
  ['64:ff9b::5db8:d822', 'public'],
  ['64:ff9b:1::7f00:1', 'reserved'],
  ['64:ff9b:1::5db8:d822', 'reserved'],
  ['64:ff9b:1:ffff::1', 'reserved'],
  ['64:ff9b::1:0:0:1', 'reserved'],
  // 6to4 2002::/16 (RFC 3056): the IPv4 address in bits 16-47
  ['2002:7f00:1::1', 'loopback'],
  ['2002:a00:1::', 'private'],
  ['2002:a9fe:a9fe::1', 'link-local'],
  ['2002:c058:6301::1', 'reserved'],
  ['2002:5db8:d822::1', 'public'],
  // Teredo 2001::/32 and the rest of 2001::/23 (IETF protocol assignments)
  ['2001::1', 'reserved'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'],
  ['2001:1ff::1', 'reserved'],
  ['2001:200::1', 'public'],
  // site-local (RFC 3879), documentation, SRv6, and everything outside 2000::/3
  ['fec0::1', 'private'],
  ['feff::1', 'private'],
  ['2001:db8::1', 'reserved'],
  ['3fff::1', 'reserved'],
  ['5f00::1', 'reserved'],
  ['100::1', 'reserved'],
  ['4000::1', 'reserved'],
  ['1::1', 'reserved'],
  ['e000::1', 'reserved'],
  // not an address at all
  ['', 'reserved'],
  ['localhost', 'reserved'],
  ['127.1', 'reserved'],
];

describe('classifyAddress: IPv6 forms that carry IPv4, and the IANA special-purpose registries (RFC 6890)', () => {
  for (const [address, expected] of CASES) {
    it(`${address || '(empty)'} is ${expected}`, () => expect(classifyAddress(address)).toBe(expected));
  }

  const octet = fc.integer({ min: 0, max: 255 });
  const v4 = fc.tuple(octet, octet, octet, octet);
  const hex = (a: number, b: number) => ((a << 8) | b).toString(16);
  it('every embedding of an IPv4 address classifies as the address itself (property)', () => {
    fc.assert(
      fc.property(v4, ([a, b, c, d]) => {
        const dotted = `${a}.${b}.${c}.${d}`;
        const forms = [
          `::ffff:${dotted}`,
          `::ffff:${hex(a, b)}:${hex(c, d)}`,
          `::ffff:0:${dotted}`,
          `::ffff:0:${hex(a, b)}:${hex(c, d)}`,
          `64:ff9b::${dotted}`,
          `2002:${hex(a, b)}:${hex(c, d)}::1`,
        ];
        // ::/96 minus :: and ::1 (RFC 4291 §2.5.5.1): 0.0.0.0/8 is reserved either way.
        if (a !== 0) forms.push(`::${dotted}`, `::${hex(a, b)}:${hex(c, d)}`);
        const expected = classifyAddress(dotted);
        return forms.every((f) => classifyAddress(f) === expected);
      }),
      { numRuns: 2000 },
    );
  });
  it('no policy allows through IPv6 what it refuses as IPv4 (property)', () => {
    const policies = [{}, { allowLoopback: true }, { allowPrivate: true }, { allowLoopback: true, allowPrivate: true }];
    fc.assert(
      fc.property(v4, ([a, b, c, d]) => {
        const dotted = `${a}.${b}.${c}.${d}`;
        const forms = [
          `::ffff:${dotted}`,
          `::ffff:0:${dotted}`,
          `64:ff9b::${dotted}`,
          `64:ff9b:1::${dotted}`,
          `2002:${hex(a, b)}:${hex(c, d)}::`,
          `2001:0:${hex(a, b)}:${hex(c, d)}::1`,
        ];
        return policies.every((p) => forms.every((f) => !addressAllowed(f, p) || addressAllowed(dotted, p)));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('safeFetch refuses those forms before connecting, as literals and as what a name resolves to', () => {
  let srv: Awaited<ReturnType<typeof serve>>;
  let requests = 0;
  beforeAll(async () => {
    srv = await serve((_req, res) => {
      requests++;
      res.end('{}');
    });
  });
  afterAll(() => srv.close());

  const code = async (p: Promise<unknown>) =>
    p.then(
      () => 'NONE',
      (e: unknown) => (isCharterError(e) ? e.code : 'OTHER'),
    );

  it('IPv6 literals embedding a loopback or private IPv4 address', async () => {
    for (const host of ['[::7f00:1]', '[::127.0.0.1]', '[::ffff:0:7f00:1]', '[2002:7f00:1::1]', '[64:ff9b:1::7f00:1]', '[2001::7f00:1]', '[fec0::1]', '[::a00:1]']) {
      expect([host, await code(safeFetch(`http://${host}:${srv.port}/`, { allowHttp: true, timeoutMs: 1000 }))]).toEqual([host, 'FORBIDDEN_ADDRESS']);
    }
    // Reserved forms stay refused however lenient the policy.
    for (const host of ['[64:ff9b:1::7f00:1]', '[2001::1]', '[::]', '[ff02::1]', '[100::1]']) {
      const all = { allowHttp: true, allowLoopback: true, allowPrivate: true, timeoutMs: 1000 };
      expect([host, await code(safeFetch(`http://${host}:${srv.port}/`, all))]).toEqual([host, 'FORBIDDEN_ADDRESS']);
    }
    expect(requests).toBe(0);
  });

  it('did:web names whose AAAA answer hides a link-local or loopback IPv4 address', async () => {
    // test/setup.ts loaded src/did before node:dns was mocked: load a fresh copy that sees the mock.
    vi.resetModules();
    const { createResolver } = await import('../../src/did/index.js');
    const fresh = await import('../../src/errors.js');
    const code = async (p: Promise<unknown>) =>
      p.then(
        () => 'NONE',
        (e: unknown) => (fresh.isCharterError(e) ? e.code : 'OTHER'),
      );
    const r = createResolver({ timeoutMs: 1000, cacheTtlMs: 0 });
    for (const host of Object.keys(AAAA)) {
      expect([host, await code(r.resolve(`did:web:${host}`))]).toEqual([host, 'FORBIDDEN_ADDRESS']);
    }
    // Teredo and the local-use NAT64 prefix are refused even where private and loopback addresses are allowed.
    const lenient = createResolver({ timeoutMs: 1000, cacheTtlMs: 0, allowLoopback: true, allowPrivate: true });
    for (const host of ['teredo.evil.test', 'nat64-local.evil.test']) expect([host, await code(lenient.resolve(`did:web:${host}`))]).toEqual([host, 'FORBIDDEN_ADDRESS']);
  });
});
