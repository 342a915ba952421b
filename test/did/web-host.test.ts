import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDidWeb, createResolver, didWebFromDomain, didWebToUrl } from '../../src/did/index.js';
import { generateKeyPair } from '../../src/keys/index.js';
import { isCharterError } from '../../src/errors.js';
import { serve } from '../helpers.js';

/*
 * did:web §3.1: the method-specific identifier MUST NOT include IP addresses.
 * The URL parser reads any host ending in a number as IPv4, so each spelling
 * below is one address under many DIDs. Only the canonical dotted quad of a
 * loopback, private or link-local address is kept, for local testing, and it
 * is still fetched only as the address policy allows.
 */
const code = async (p: () => unknown) => {
  try {
    await p();
    return 'NONE';
  } catch (e) {
    return isCharterError(e) ? e.code : 'OTHER';
  }
};

const NUMERIC_SPELLINGS = [
  // 93.184.216.34 and 127.0.0.1, spelt every way WHATWG URL accepts
  '1572395042',
  '0x5d.0xb8.0xd8.0x22',
  '0135.0270.0330.042',
  '0x5db8d822',
  '93.184.55330',
  '2130706433',
  '0x7f000001',
  '0x7F.1',
  '127.1',
  '127.0.1',
  '0177.0.0.1',
  '127.000.000.001',
  '0',
  '0x',
  // a name whose last label is a number is an address to the URL parser (and a failure there)
  'example.123',
  'example.0x1f',
  '1.2.3.4.5',
];
const PUBLIC_OR_RESERVED_QUADS = ['93.184.216.34', '8.8.8.8', '0.0.0.0', '255.255.255.255', '224.0.0.1', '192.0.2.1', '192.88.99.1'];

describe('did:web hosts that are IP addresses (did:web §3.1)', () => {
  let srv: Awaited<ReturnType<typeof serve>>;
  let requests = 0;
  let doc: ReturnType<typeof createDidWeb>;
  beforeAll(async () => {
    srv = await serve((_req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/did+json' }).end(JSON.stringify(doc.document));
    });
    doc = createDidWeb({ domain: `127.0.0.1:${srv.port}`, publicJwk: generateKeyPair().publicJwk });
  });
  afterAll(() => srv.close());
  const lenient = () => createResolver({ allowLoopback: true, allowPrivate: true, allowHttp: true, timeoutMs: 1000 });

  it('every numeric spelling that is not a dotted quad is INVALID_DID, with or without a port or path, under any policy', async () => {
    for (const host of NUMERIC_SPELLINGS) {
      for (const did of [`did:web:${host}`, `did:web:${host}%3A${srv.port}`, `did:web:${host}:users:alice`]) {
        expect([did, await code(() => didWebToUrl(did))]).toEqual([did, 'INVALID_DID']);
        expect([did, await code(() => lenient().resolve(did))]).toEqual([did, 'INVALID_DID']);
      }
    }
    expect(requests).toBe(0);
  });

  it('a dotted quad of a public or reserved address is INVALID_DID: no test setup needs one', async () => {
    for (const host of PUBLIC_OR_RESERVED_QUADS) {
      const did = `did:web:${host}`;
      expect([did, await code(() => didWebToUrl(did))]).toEqual([did, 'INVALID_DID']);
      expect([did, await code(() => lenient().resolve(did))]).toEqual([did, 'INVALID_DID']);
      expect([host, await code(() => didWebFromDomain(host))]).toEqual([host, 'INVALID_DID']);
      expect([host, await code(() => createDidWeb({ domain: host, publicJwk: generateKeyPair().publicJwk }))]).toEqual([host, 'INVALID_DID']);
    }
  });

  it('a loopback, private or link-local dotted quad is kept for local testing, behind the address policy', async () => {
    // README's local testing: did:web:127.0.0.1%3APORT with allowLoopback.
    expect((await createResolver({ allowLoopback: true, allowHttp: true }).resolve(doc.did)).id).toBe(doc.did);
    expect(await code(() => createResolver({ allowHttp: true }).resolve(doc.did))).toBe('FORBIDDEN_ADDRESS');
    expect(await code(() => createResolver({ allowHttp: true, allowPrivate: true }).resolve(doc.did))).toBe('FORBIDDEN_ADDRESS');
    for (const host of ['10.0.0.1', '192.168.1.1', '100.64.0.1', '169.254.169.254']) {
      expect([host, await code(() => createResolver().resolve(`did:web:${host}`))]).toEqual([host, 'FORBIDDEN_ADDRESS']);
      expect(new URL(didWebToUrl(`did:web:${host}`)).hostname).toBe(host);
    }
  });

  it('names with numeric labels before the last are domain names', () => {
    for (const host of ['123.example.com', '1.2.3.example', '0x7f.example.org', 'example.0xg', '3com.com']) {
      expect(new URL(didWebToUrl(`did:web:${host}`)).hostname).toBe(host);
    }
  });
});
