import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
import { createDidWeb, createResolver, didWebToUrl, safeFetch } from '../../src/did/index.js';
import { generateKeyPair } from '../../src/keys/index.js';
import { createStatusChecker } from '../../src/status/index.js';
import { sendAccessReport } from '../../src/audit/index.js';
import { verifyTools } from '../../src/home/net.js';
import { isCharterError } from '../../src/errors.js';
import { makeIssuer, serve } from '../helpers.js';

/**
 * allowHttp (set with allowLoopback by the guard, --allow-loopback and CHARTER_ALLOW_LOOPBACK=1) is for
 * testing against this machine. Plain http to any other host lets an on-path party answer in its place:
 * forge a public did:web issuer's keys, a status list, or read an access report. Here DNS names public-looking
 * hosts to a loopback server playing that party; it must never be asked anything over http.
 */
const MAPPED: Record<string, string> = { 'issuer.example': '127.0.0.1', 'lists.example': '127.0.0.1', 'evil.localhost': '93.184.215.14' };
const realLookup = dns.lookup;
beforeAll(() => {
  (dns as { lookup: unknown }).lookup = (host: string, opts: unknown, cb?: unknown) => {
    const callback = (typeof opts === 'function' ? opts : cb) as (...a: unknown[]) => void;
    const address = MAPPED[host];
    if (address === undefined) return (realLookup as (...a: unknown[]) => void)(host, opts, cb);
    const all = typeof opts === 'object' && opts !== null && (opts as { all?: boolean }).all;
    process.nextTick(() => (all ? callback(null, [{ address, family: 4 }]) : callback(null, address, 4)));
  };
  syncBuiltinESMExports();
});
afterAll(() => {
  dns.lookup = realLookup;
  syncBuiltinESMExports();
});

const local = { allowLoopback: true, allowHttp: true };
const forged = generateKeyPair().publicJwk;
let hits: string[] = [];
let srv: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  // Answers every plain-http request with a did:web document for whatever DID the Host names: the forger.
  srv = await serve((req, res) => {
    hits.push(`${req.method} ${req.headers.host}${req.url}`);
    const path = req.url === '/.well-known/did.json' ? '' : (req.url ?? '').replace(/\/did\.json$/, '').replace(/\//g, ':');
    let body = '{}';
    try {
      body = JSON.stringify(createDidWeb({ domain: `did:web:${String(req.headers.host).replace(':', '%3A')}${path}`, publicJwk: forged }).document);
    } catch {
      // A Host no did:web can name (an IPv6 literal): any 200 will do.
    }
    res.writeHead(200, { 'content-type': 'application/did+json' }).end(body);
  });
});
afterAll(() => srv.close());

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'RESOLVED';
  } catch (e) {
    return isCharterError(e) ? e.code : `OTHER ${(e as Error).message}`;
  }
}

describe('didWebToUrl: plain http only for a loopback host', () => {
  it('a public name stays https with allowHttp; loopback names and addresses go over http', () => {
    expect(didWebToUrl('did:web:issuer.example', { allowHttp: true })).toBe('https://issuer.example/.well-known/did.json');
    expect(didWebToUrl('did:web:issuer.example%3A8443:users:alice', { allowHttp: true })).toBe('https://issuer.example:8443/users/alice/did.json');
    // Looks numeric-ish or loopback-ish by text, is neither: a name.
    expect(didWebToUrl('did:web:127.example.net', { allowHttp: true })).toBe('https://127.example.net/.well-known/did.json');
    expect(didWebToUrl('did:web:localhost.example.com', { allowHttp: true })).toMatch(/^https:/);
    expect(didWebToUrl('did:web:localhost%3A8080', { allowHttp: true })).toBe('http://localhost:8080/.well-known/did.json');
    expect(didWebToUrl('did:web:LOCALHOST%3A8080:a', { allowHttp: true })).toMatch(/^http:\/\/localhost:8080\/a\/did\.json$/i);
    expect(didWebToUrl('did:web:agent.localhost%3A8080', { allowHttp: true })).toBe('http://agent.localhost:8080/.well-known/did.json');
    expect(didWebToUrl('did:web:127.0.0.1%3A8080', { allowHttp: true })).toBe('http://127.0.0.1:8080/.well-known/did.json');
    expect(didWebToUrl('did:web:127.1.2.3', { allowHttp: true })).toBe('http://127.1.2.3/.well-known/did.json');
    // A private address is not this machine: https, even for local testing.
    expect(didWebToUrl('did:web:10.0.0.5%3A8080', { allowHttp: true })).toBe('https://10.0.0.5:8080/.well-known/did.json');
    expect(didWebToUrl('did:web:localhost%3A8080')).toBe('https://localhost:8080/.well-known/did.json');
  });
});

describe('did:web resolution under allowLoopback: a public issuer is never read over plain http', () => {
  it('did:web:issuer.example (DNS points it at the on-path server) does not resolve, and the server is asked nothing over http', async () => {
    hits = [];
    const did = `did:web:issuer.example%3A${srv.port}`;
    for (const resolver of [createResolver({ ...local, cacheTtlMs: 0, timeoutMs: 2000 }), verifyTools({ allowLoopback: true }).resolver]) {
      expect(await code(resolver.resolve(did))).toBe('DID_RESOLUTION_FAILED');
      expect(await code(resolver.resolveKey(did, `${did}#key-1`, 'assertionMethod'))).toBe('DID_RESOLUTION_FAILED');
    }
    expect(hits).toEqual([]);
  });

  it('a loopback did:web still resolves over http: localhost and the 127.0.0.1 port form', async () => {
    hits = [];
    const resolver = createResolver({ ...local, cacheTtlMs: 0 });
    for (const did of [`did:web:localhost%3A${srv.port}`, `did:web:127.0.0.1%3A${srv.port}`, `did:web:127.0.0.1%3A${srv.port}:users:alice`]) {
      expect((await resolver.resolve(did)).id).toBe(did);
    }
    expect(hits).toHaveLength(3);
  });

  it('a *.localhost name that DNS answers with a public address is not loopback: refused before any connection', async () => {
    expect(await code(safeFetch(`http://evil.localhost:${srv.port}/.well-known/did.json`, { ...local, timeoutMs: 1000 }))).toBe('FORBIDDEN_ADDRESS');
    expect(await code(createResolver({ ...local, cacheTtlMs: 0, timeoutMs: 1000 }).resolve(`did:web:evil.localhost%3A${srv.port}`))).toBe('FORBIDDEN_ADDRESS');
  });
});

describe('safeFetch: allowHttp opens plain http to loopback only', () => {
  it('an http URL on a public name or address is FORBIDDEN_ADDRESS, GET or POST, whatever allowHttp says', async () => {
    hits = [];
    const post = { body: new Uint8Array([1]), contentType: 'application/jwt' };
    for (const opts of [local, { ...local, allowPrivate: true }, { ...local, post }]) {
      expect(await code(safeFetch(`http://issuer.example:${srv.port}/x`, { ...opts, timeoutMs: 1000 }))).toBe('FORBIDDEN_ADDRESS');
      expect(await code(safeFetch('http://93.184.215.14/x', { ...opts, timeoutMs: 1000 }))).toBe('FORBIDDEN_ADDRESS');
    }
    expect(await code(safeFetch('http://10.1.2.3/x', { ...local, allowPrivate: true, timeoutMs: 1000 }))).toBe('FORBIDDEN_ADDRESS');
    expect(hits).toEqual([]);
  });

  it('http to a loopback address or localhost still works with allowHttp and allowLoopback (and needs both)', async () => {
    for (const u of [`http://127.0.0.1:${srv.port}/a/did.json`, `http://localhost:${srv.port}/a/did.json`, `http://[::ffff:127.0.0.1]:${srv.port}/a/did.json`]) {
      expect((await safeFetch(u, local)).status).toBe(200);
      expect(await code(safeFetch(u, { allowLoopback: true }))).toBe('FORBIDDEN_ADDRESS');
    }
  });
});

describe('status lists and access reports under allowLoopback: no plain http to a public name', () => {
  it('a status list at http://lists.example is refused, not fetched from the on-path server', async () => {
    hits = [];
    const checker = createStatusChecker({ resolver: createResolver(local), ...local, timeoutMs: 1000 });
    expect(await code(checker.refresh(`http://lists.example:${srv.port}/status/1`))).toBe('FORBIDDEN_ADDRESS');
    expect(hits).toEqual([]);
  });

  it('an access report is not POSTed over plain http to the public name its grant names', async () => {
    hits = [];
    const b64 = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');
    const api = makeIssuer();
    const grant = `${b64({ alg: 'EdDSA', typ: 'vc+jwt' })}.${b64({
      '@context': ['https://www.w3.org/ns/credentials/v2'],
      id: 'urn:uuid:g1',
      type: ['VerifiableCredential', 'DataAccessGrant'],
      issuer: 'did:key:zX',
      credentialSubject: { id: api.did },
      credentialStatus: { type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '1', statusListCredential: `http://lists.example:${srv.port}/status/1` },
    })}.AAAA`;
    expect(await code(sendAccessReport(api, { grant, receipts: ['r'] }, { ...local, timeoutMs: 1000 }))).toBe('FORBIDDEN_ADDRESS');
    expect(hits).toEqual([]);
  });
});
