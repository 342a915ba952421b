import { BlockList, isIP } from 'node:net';

export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'reserved';

/*
 * IPv4 ranges from the IANA IPv4 Special-Purpose Address Registry (RFC 6890).
 * IPv6 is classified from its bits (classify6): IPv6 forms that embed an IPv4
 * address are classified by that address, and the rest by the IANA IPv6
 * Special-Purpose Address Registry, outside 2000::/3 (the only global unicast
 * space IANA has allocated) nothing is public.
 */
const loopback4 = new BlockList();
loopback4.addSubnet('127.0.0.0', 8, 'ipv4');

const linkLocal4 = new BlockList();
linkLocal4.addSubnet('169.254.0.0', 16, 'ipv4');

const private4 = new BlockList();
for (const [a, p] of [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['100.64.0.0', 10],
] as const)
  private4.addSubnet(a, p, 'ipv4');

const reserved4 = new BlockList();
for (const [a, p] of [
  ['0.0.0.0', 8],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  // RFC 7526: the 6to4 relay anycast prefix (deprecated); whoever answers it is not a chosen host.
  ['192.88.99.0', 24],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  reserved4.addSubnet(a, p, 'ipv4');
}

const private6 = new BlockList();
// RFC 4193 unique local addresses, and RFC 3879 site-local (deprecated, still routed inside some sites).
private6.addSubnet('fc00::', 7, 'ipv6');
private6.addSubnet('fec0::', 10, 'ipv6');

const linkLocal6 = new BlockList();
linkLocal6.addSubnet('fe80::', 10, 'ipv6');

/** Special-purpose blocks inside 2000::/3 that are not globally reachable hosts (IANA IPv6 registry). */
const reserved6 = new BlockList();
for (const [a, p] of [
  // IETF protocol assignments (RFC 2928): Teredo 2001::/32 (RFC 4380; the client's IPv4 is obfuscated in
  // the last 32 bits, the server's in bits 32-63, so the host reached cannot be told), benchmarking,
  // ORCHID, AMT, AS112: none is a web server.
  ['2001::', 23],
  ['2001:db8::', 32], // documentation (RFC 3849)
  ['3fff::', 20], // documentation (RFC 9637)
  ['5f00::', 16], // SRv6 SIDs (RFC 9602)
] as const)
  reserved6.addSubnet(a, p, 'ipv6');

function classify4(address: string): AddressClass {
  if (loopback4.check(address, 'ipv4')) return 'loopback';
  if (linkLocal4.check(address, 'ipv4')) return 'link-local';
  if (private4.check(address, 'ipv4')) return 'private';
  if (reserved4.check(address, 'ipv4')) return 'reserved';
  return 'public';
}

/** The 16 bytes of an IPv6 address that isIP accepted (a zone id, "%eth0", is dropped). */
function bytes6(address: string): Uint8Array {
  let a = address.replace(/%.*$/, '');
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (dotted) {
    const [o0, o1, o2, o3] = dotted.slice(1).map(Number) as [number, number, number, number];
    a = `${a.slice(0, dotted.index)}${((o0 << 8) | o1).toString(16)}:${((o2 << 8) | o3).toString(16)}`;
  }
  const [head, tail] = a.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...h, ...Array<string>(tail === undefined ? 0 : 8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 255;
  });
  return out;
}

const v4At = (b: Uint8Array, at: readonly number[]) => at.map((i) => b[i]).join('.');
const zero = (b: Uint8Array, from: number, to: number) => b.subarray(from, to).every((x) => x === 0);
const hex = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;

function classify6(address: string): AddressClass {
  const b = bytes6(address);
  const clean = address.replace(/%.*$/, '');
  if (zero(b, 0, 16)) return 'reserved'; // :: unspecified
  if (zero(b, 0, 15) && b[15] === 1) return 'loopback'; // ::1
  // IPv4 carried in IPv6: the IPv4 address is what a translator or the kernel ends up reaching.
  const low = v4At(b, [12, 13, 14, 15]);
  if (zero(b, 0, 10) && hex(b, 10) === 0xffff) return classify4(low); // ::ffff:0:0/96 mapped (RFC 4291 §2.5.5.2)
  if (zero(b, 0, 8) && hex(b, 8) === 0xffff && zero(b, 10, 12)) return classify4(low); // ::ffff:0:0:0/96 translated (RFC 2765 §2.1, SIIT)
  if (zero(b, 0, 12)) return classify4(low); // ::/96 IPv4-compatible (RFC 4291 §2.5.5.1, deprecated)
  if (hex(b, 0) === 0x64 && hex(b, 2) === 0xff9b) {
    if (zero(b, 4, 12)) return classify4(low); // 64:ff9b::/96 well-known NAT64 prefix (RFC 6052 §2.1)
    // Anything else in 64:ff9b::/32, notably the local-use 64:ff9b:1::/48 (RFC 8215): the IPv4 address
    // sits where the operator's prefix length puts it (RFC 6052 §2.2), which cannot be known here.
    return 'reserved';
  }
  if (hex(b, 0) === 0x2002) return classify4(v4At(b, [2, 3, 4, 5])); // 2002::/16 6to4 (RFC 3056 §2)
  if (linkLocal6.check(clean, 'ipv6')) return 'link-local';
  if (private6.check(clean, 'ipv6')) return 'private';
  if (reserved6.check(clean, 'ipv6')) return 'reserved';
  // Outside 2000::/3 (RFC 4291 §2.4; IANA IPv6 Address Space): multicast ff00::/8, discard 100::/64, unassigned space.
  return (b[0]! & 0xe0) === 0x20 ? 'public' : 'reserved';
}

/** Classifies an IP literal for SSRF checks; anything unparsable counts as reserved. */
export function classifyAddress(address: string): AddressClass {
  const v = isIP(address);
  if (v === 4) return classify4(address);
  if (v === 6) return classify6(address);
  return 'reserved';
}

export interface AddressPolicy {
  allowLoopback?: boolean;
  allowPrivate?: boolean;
}

export function addressAllowed(address: string, policy: AddressPolicy): boolean {
  const c = classifyAddress(address);
  if (c === 'public') return true;
  if (c === 'loopback') return policy.allowLoopback === true;
  if (c === 'private' || c === 'link-local') return policy.allowPrivate === true;
  return false;
}

/**
 * `localhost`, a `*.localhost` name (RFC 6761 §6.3), 127.0.0.0/8 or ::1: a
 * host only this machine reaches. A name is judged by its spelling only; a
 * fetch still checks every address it resolves to.
 */
export function isLoopbackHostname(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  return isIP(h) !== 0 && classifyAddress(h) === 'loopback';
}
