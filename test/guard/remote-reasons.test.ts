import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
import { generateKeyPair, createSigner } from '../../src/keys/index.js';
import { createPresentation, decodeJwt } from '../../src/credentials/index.js';
import { createResolver } from '../../src/did/index.js';
import { createVerifier, decide } from '../../src/guard/index.js';
import { requireGrant } from '../../src/http/guards.js';
import { verifyRequest } from '../../src/http/request.js';
import { refusalOf } from '../../src/http/refusal.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { makeIssuer, tempDir } from '../helpers.js';

/**
 * A client names did:web:<name> as its holder; the verifier resolves it and refuses. What goes back (the
 * problem body, WWW-Authenticate, the decision an MCP refusal is built from, the signed receipt) must not tell
 * "that name resolves to an internal address" (FORBIDDEN_ADDRESS) from "that name does not resolve": else any
 * client maps internal host names. The local caller keeps the precise reason in the nested decision.
 */
const MAPPED: Record<string, string | null> = { 'internal.corp': '10.0.0.5', 'loop.corp': '127.0.0.1', 'meta.corp': '169.254.169.254', 'nx.corp': null };
const realLookup = dns.lookup;
beforeAll(() => {
  (dns as { lookup: unknown }).lookup = (host: string, opts: unknown, cb?: unknown) => {
    const callback = (typeof opts === 'function' ? opts : cb) as (...a: unknown[]) => void;
    if (!(host in MAPPED)) return (realLookup as (...a: unknown[]) => void)(host, opts, cb);
    const address = MAPPED[host];
    const all = typeof opts === 'object' && opts !== null && (opts as { all?: boolean }).all;
    if (address === null) return process.nextTick(() => callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' })));
    process.nextTick(() => (all ? callback(null, [{ address, family: 4 }]) : callback(null, address, 4)));
  };
  syncBuiltinESMExports();
});
afterAll(() => {
  dns.lookup = realLookup;
  syncBuiltinESMExports();
});

let store: Awaited<ReturnType<typeof openSqliteStore>>;
beforeAll(async () => {
  store = await openSqliteStore(`${tempDir()}/s.db`);
});
afterAll(() => store.close());

/** A presentation by did:web:<host>, bound to GET http://api.example/x (or to nothing but its jti). */
async function presentationBy(host: string, bound = true): Promise<string> {
  const kp = generateKeyPair('Ed25519');
  const holder = { did: `did:web:${host}`, kid: `did:web:${host}#key-1`, signer: createSigner(kp.privateJwk) };
  return createPresentation({
    holder,
    credentials: [],
    aud: 'did:web:api.example',
    claims: { ...(bound ? { htm: 'GET', htu: 'http://api.example/x', htq: '' } : {}), jti: `urn:uuid:${crypto.randomUUID()}` },
  } as unknown as Parameters<typeof createPresentation>[0]);
}

const NAMES = ['internal.corp', 'loop.corp', 'meta.corp', 'nx.corp'];

describe('a refused address and an unresolvable name read alike to the remote party', () => {
  it('HTTP: the 401 problem body and WWW-Authenticate are the same for an internal name and one that does not resolve', async () => {
    const v = createVerifier({ aud: 'did:web:api.example', store, trustHostHeader: true, resolver: createResolver({ cacheTtlMs: 0, timeoutMs: 2000 }) });
    const guard = requireGrant<Request>({ resource: 'profile/email', action: 'read', anyOwner: true } as Parameters<typeof requireGrant<Request>>[0]);
    const answers: string[] = [];
    for (const host of NAMES) {
      const d = await verifyRequest(new Request('http://api.example/x', { headers: { authorization: `Bearer ${await presentationBy(host)}` } }), v, guard);
      expect(d.ok).toBe(false);
      const r = refusalOf(d as Parameters<typeof refusalOf>[0]);
      expect(r.status).toBe(401);
      expect(r.body.code).toBe('DID_RESOLUTION_FAILED');
      answers.push(JSON.stringify({ status: r.status, body: r.body, www: r.headers['www-authenticate'] }).replaceAll(host, 'HOST'));
    }
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).not.toMatch(/non-public|FORBIDDEN_ADDRESS|could not reach/);
  });

  it('the decision an MCP refusal or a direct caller gets, and the receipt that signs its codes, are the same too; the nested decision keeps the precise reason', async () => {
    const v = createVerifier({
      aud: 'did:web:api.example',
      store,
      http: false,
      resolver: createResolver({ cacheTtlMs: 0, timeoutMs: 2000 }),
      receipts: { signer: makeIssuer() },
    });
    const told: string[] = [];
    const precise: string[] = [];
    for (const host of NAMES) {
      const d = await decide(v, await presentationBy(host, false), { kind: 'presentation' } as Parameters<typeof decide>[2], { kind: 'none' } as Parameters<typeof decide>[3]);
      expect(d.ok).toBe(false);
      expect(d.receipt).toBeDefined();
      const receipt = decodeJwt(d.receipt!).payload as { reasons: string[]; status: number };
      told.push(JSON.stringify({ status: d.status, reasons: d.reasons, receipt: [receipt.status, receipt.reasons] }));
      precise.push(d.presentation?.reasons[0]?.code ?? 'NONE');
    }
    expect(new Set(told).size).toBe(1);
    expect(told[0]).toContain('DID_RESOLUTION_FAILED');
    expect(told[0]).not.toContain('FORBIDDEN_ADDRESS');
    expect(precise).toEqual(['FORBIDDEN_ADDRESS', 'FORBIDDEN_ADDRESS', 'FORBIDDEN_ADDRESS', 'DID_RESOLUTION_FAILED']);
  });
});

describe('Web Bot Auth: a Signature-Agent on an internal name reads as one that does not resolve', () => {
  it('the library decision for internal.corp and nx.corp is the same DIRECTORY_UNAVAILABLE, with the precise error as its cause', async () => {
    const { createDirectoryResolver } = await import('../../src/httpsig/index.js');
    const r = createDirectoryResolver({ timeoutMs: 2000 });
    const outcomes: string[] = [];
    for (const host of NAMES) {
      const e = (await r.resolve(`https://${host}`).catch((x: unknown) => x)) as { code?: string; message?: string };
      outcomes.push(`${e.code} ${e.message?.replaceAll(host, 'HOST')}`);
    }
    expect(new Set(outcomes)).toEqual(new Set(['DIRECTORY_UNAVAILABLE could not reach HOST']));
  });
});
