import type { NetworkInterfaceInfo } from 'node:os';

/**
 * The Host values a server bound to a wildcard address (0.0.0.0, ::) is
 * reached by: `address:port` for each of the machine's own addresses, IPv6
 * bracketed (RFC 9110 §7.2, RFC 3986 §3.2.2). Link-local IPv6 is left out
 * (a browser cannot name its zone), and so are host names: which names point
 * here is DNS's word, and trusting it is what DNS rebinding exploits.
 * 0.0.0.0 accepts IPv4 only; :: (dual stack) both.
 */
export function wildcardHosts(bound: string, port: number, interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string[] {
  if (bound !== '0.0.0.0' && bound !== '::') return [];
  const out: string[] = [];
  for (const info of Object.values(interfaces).flat()) {
    if (!info) continue;
    if (info.family === 'IPv4') out.push(`${info.address}:${port}`);
    else if (bound === '::' && !/^fe[89ab]/i.test(info.address)) out.push(`[${info.address.toLowerCase()}]:${port}`);
  }
  return [...new Set(out)];
}
