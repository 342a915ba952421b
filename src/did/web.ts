import { CharterError, shown } from '../errors.js';
import { assertVerifyUse, validatePublicJwk } from '../keys/index.js';
import type { PublicJwk } from '../keys/types.js';
import { classifyAddress, isLoopbackHostname } from './address.js';
import type { DIDDocument } from './types.js';

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(?:%3[Aa]\d{1,5})?$/;
const SEGMENT = /^[A-Za-z0-9._~%-]+$/;

function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * A path segment that stays one path segment once decoded: not a dot segment
 * (WHATWG URL reads %2e%2e as ".."), no "/", "\\", "?" or "#" that would move
 * the fetch to another path, a query or a fragment of the same host, and no
 * "%" left to be decoded a second time.
 */
function safeSegment(segment: string): boolean {
  const d = decoded(segment);
  // A "%" left after decoding ("%252e%252e" is "%2e%2e") would be decoded again by the URL parser or the server.
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  return SEGMENT.test(segment) && d !== undefined && d !== '.' && d !== '..' && !/[/\\?#%\u0000-\u001f\u007f]/.test(d);
}

/** An IPv4 address in its one canonical spelling: four decimal octets, no leading zeros. */
const DOTTED_QUAD = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * did:web §3.1: the method-specific identifier MUST NOT include IP addresses.
 * The WHATWG URL parser reads a host whose last label is a number (decimal,
 * octal "0177", hex "0x7f") as an IPv4 address, whatever the rest looks like
 * ("1572395042", "0x5d.0xb8.0xd8.0x22", "127.1" are all addresses), so a
 * host ending in a number is an IP address here too. Every such spelling is
 * refused except one: a dotted quad of a loopback, private or link-local
 * address, which no one on the public web can be identified by and which
 * local testing relies on (did:web:127.0.0.1%3A8080). Those still reach the
 * network only as the address policy allows (allowLoopback, allowPrivate);
 * a public or reserved address is never a did:web host. IPv6 literals never
 * were accepted (the HOST syntax has no brackets).
 */
function assertNotIpHost(host: string, did: string): void {
  const name = host.replace(/%3[Aa]\d{1,5}$/, '');
  const last = name.slice(name.lastIndexOf('.') + 1);
  if (!/^(?:\d+|0x[0-9a-f]*)$/i.test(last)) return;
  const c = DOTTED_QUAD.test(name) ? classifyAddress(name) : 'reserved';
  if (c === 'public' || c === 'reserved') {
    throw new CharterError('INVALID_DID', `did:web must name its host by domain name, not by IP address (did:web §3.1): ${did.slice(0, 80)}`);
  }
}

/** did:web method-specific id -> host and path segments, validated. */
function parse(did: string): { host: string; path: string[] } {
  if (typeof did !== 'string' || !did.startsWith('did:web:')) throw new CharterError('INVALID_DID', `not a did:web: ${shown(did, 80)}`);
  const [host, ...path] = did.slice('did:web:'.length).split(':');
  const port = host ? /%3[Aa](\d{1,5})$/.exec(host)?.[1] : undefined;
  if (!host || !HOST.test(host) || (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) || !path.every(safeSegment)) {
    throw new CharterError('INVALID_DID', `malformed did:web: ${did.slice(0, 80)}`);
  }
  assertNotIpHost(host, did);
  return { host, path };
}

/**
 * did:web spec §3.2 "Read": the https URL of the DID document. With
 * `allowHttp` (local testing), a loopback host (localhost, *.localhost,
 * 127.0.0.0/8) is read over plain http; every other host stays https, so the
 * testing flag never lets an on-path party answer for a public DID.
 */
export function didWebToUrl(did: string, opts: { allowHttp?: boolean } = {}): string {
  const { host, path } = parse(did);
  const h = decodeURIComponent(host);
  const scheme = opts.allowHttp && isLoopbackHostname(new URL(`http://${h}`).hostname) ? 'http' : 'https';
  return path.length === 0 ? `${scheme}://${h}/.well-known/did.json` : `${scheme}://${h}/${path.map(decodeURIComponent).join('/')}/did.json`;
}

/** did:web spec §3.1 "Create": the DID for a domain (`example.com` or `example.com:users:alice`). */
export function didWebFromDomain(domain: string): string {
  // A port right after the host must be percent-encoded (did:web §3.1).
  const did = `did:web:${domain.replace(/^([^:]+):(\d{1,5})(?=$|:)/, '$1%3A$2')}`;
  parse(did);
  return did;
}

export function createDidWeb(input: { domain: string; publicJwk: PublicJwk }): { did: string; document: DIDDocument; url: string; kid: string } {
  const did = input.domain.startsWith('did:web:') ? input.domain : didWebFromDomain(input.domain);
  // The document lists the key for assertionMethod and authentication: RFC 7517 §4.2-4.3, one marked for
  // encryption would lose its mark (validatePublicJwk drops it) and sign as the DID. INVALID_KEY.
  assertVerifyUse(input.publicJwk, 'the did:web key');
  const jwk = validatePublicJwk(input.publicJwk);
  const kid = `${did}#key-1`;
  const document: DIDDocument = {
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/suites/jws-2020/v1'],
    id: did,
    verificationMethod: [{ id: kid, type: 'JsonWebKey2020', controller: did, publicKeyJwk: jwk as never }],
    authentication: [kid],
    assertionMethod: [kid],
    capabilityInvocation: [kid],
    capabilityDelegation: [kid],
  };
  return { did, document, url: didWebToUrl(did), kid };
}
