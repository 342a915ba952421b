import { BlockList, isIP } from 'node:net';

export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'reserved';

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

const linkLocal = new BlockList();
linkLocal.addSubnet('169.254.0.0', 16, 'ipv4');
linkLocal.addSubnet('fe80::', 10, 'ipv6');

const priv = new BlockList();
for (const [a, p] of [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['100.64.0.0', 10],
] as const)
  priv.addSubnet(a, p, 'ipv4');
priv.addSubnet('fc00::', 7, 'ipv6');

const reserved = new BlockList();
for (const [a, p] of [
  ['0.0.0.0', 8],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  reserved.addSubnet(a, p, 'ipv4');
}
for (const [a, p] of [
  ['::', 128],
  ['ff00::', 8],
  ['2001:db8::', 32],
  ['100::', 64],
] as const)
  reserved.addSubnet(a, p, 'ipv6');

/** IPv4 embedded in an IPv6 address (mapped ::ffff:a.b.c.d, or NAT64 64:ff9b::/96). */
function embeddedV4(addr: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  if (m) return m[1];
  const h = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(addr);
  if (h) {
    const hi = parseInt(h[1]!, 16);
    const lo = parseInt(h[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return undefined;
}

/** Classifies an IP literal for SSRF checks; anything unparsable counts as reserved. */
export function classifyAddress(address: string): AddressClass {
  const v = isIP(address);
  if (v === 0) return 'reserved';
  if (v === 6) {
    const v4 = embeddedV4(address);
    if (v4) return classifyAddress(v4);
  }
  const type = v === 4 ? 'ipv4' : 'ipv6';
  if (loopback.check(address, type)) return 'loopback';
  if (linkLocal.check(address, type)) return 'link-local';
  if (priv.check(address, type)) return 'private';
  if (reserved.check(address, type)) return 'reserved';
  return 'public';
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
