import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CharterError } from '../../src/errors.js';
import type { CharterResolver, DIDDocument } from '../../src/did/types.js';
import { createStatusChecker, encodeBitstring, MIN_LIST_SIZE } from '../../src/status/index.js';
import { decodeJwt, issueCredential, signJwt, verifyCredential } from '../../src/credentials/index.js';
import type { Credential, Issuer } from '../../src/credentials/types.js';
import { createDidWeb, didKeyRef, documentResolver, resolveDidJwk, resolveDidKey } from '../../src/did/index.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { serve } from '../helpers.js';

/**
 * A did:web issuer whose document names the did:key that signs its status list
 * (Bitstring Status List §2.2; Charter takes a list only from the credential's
 * issuer). Matching the signer needs the issuer's document: when it cannot be
 * had (an outage, a resolver that throws), the answer is STATUS_UNAVAILABLE
 * (retry), never the decided STATUS_INVALID "someone other than the issuer",
 * and never a pass. A document that was read and does not name the key is
 * still STATUS_INVALID.
 */
const V2 = 'https://www.w3.org/ns/credentials/v2';
const docs = new Map<string, DIDDocument>();
const base = documentResolver(async (did) => docs.get(did) ?? (did.startsWith('did:key:') ? resolveDidKey(did) : resolveDidJwk(did)), { cacheTtlMs: 0 });

let srv: Awaited<ReturnType<typeof serve>>;
const served = new Map<string, string>();
beforeAll(async () => {
  srv = await serve((req, res) => {
    const jwt = served.get(req.url ?? '');
    if (jwt === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'application/vc+jwt' }).end(jwt);
  });
});
afterAll(() => srv.close());

let n = 0;
/** A did:web issuer (own key k0) whose document also lists `listKey` for assertions when `names` is true. */
async function world(names = true) {
  const own = generateKeyPair('Ed25519');
  const lk = generateKeyPair('Ed25519');
  const listSigner: Issuer = { ...didKeyRef('key', lk.publicJwk), signer: createSigner(lk.privateJwk) };
  const web = createDidWeb({ domain: `outage-${++n}.example`, publicJwk: own.publicJwk });
  const did = web.did;
  const methods = [
    { id: `${did}#k0`, type: 'JsonWebKey2020', controller: did, publicKeyJwk: own.publicJwk },
    { id: `${did}#k1`, type: 'JsonWebKey2020', controller: did, publicKeyJwk: lk.publicJwk },
  ];
  docs.set(did, {
    ...web.document,
    verificationMethod: names ? methods : [methods[0]!],
    assertionMethod: names ? [methods[0]!.id, methods[1]!.id] : [methods[0]!.id],
    authentication: [methods[0]!.id],
  } as DIDDocument);
  const path = `/outage/${n}`;
  const url = srv.url + path;
  const payload = {
    '@context': [V2],
    id: url,
    type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer: listSigner.did,
    validFrom: new Date(Date.now() - 3_600_000).toISOString(),
    credentialSubject: { id: `${url}#list`, type: 'BitstringStatusList', statusPurpose: 'revocation', encodedList: encodeBitstring(new Uint8Array(MIN_LIST_SIZE / 8)) },
  };
  served.set(path, await signJwt({ typ: 'vc+jwt', cty: 'vc' }, payload, listSigner.signer, listSigner.kid));
  const issuer = { did, kid: `${did}#k0`, signer: createSigner(own.privateJwk) } as Issuer;
  const { jwt } = await issueCredential({
    issuer,
    subject: 'did:example:subject',
    type: 'ExampleCredential',
    claims: {},
    credentialStatus: { type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '7', statusListCredential: url },
  });
  return { did, jwt };
}

/** `base`, except that resolve(did) of the issuer fails with `fail()` while `down.on`; resolveKey keeps working. */
function flaky(did: string, fail: () => Promise<never>) {
  const down = { on: true };
  const resolver: CharterResolver = {
    resolveKey: (d, k, r) => base.resolveKey(d, k, r),
    resolve: (d) => (down.on && d === did ? fail() : base.resolve(d)),
    clear: (d) => base.clear(d),
  };
  return { resolver, down };
}

const outages: [string, () => Promise<never>][] = [
  [
    'CharterError UNREACHABLE',
    async () => {
      throw new CharterError('UNREACHABLE', 'did:web host down');
    },
  ],
  [
    'CharterError DID_RESOLUTION_FAILED',
    async () => {
      throw new CharterError('DID_RESOLUTION_FAILED', 'timed out');
    },
  ],
  [
    'CharterError DID_NOT_FOUND (a 404 for now)',
    async () => {
      throw new CharterError('DID_NOT_FOUND', 'gone for now');
    },
  ],
  [
    'CharterError STORE_UNAVAILABLE',
    async () => {
      throw new CharterError('STORE_UNAVAILABLE', 'cache store down');
    },
  ],
  [
    'a plain Error',
    async () => {
      throw new Error('ECONNRESET');
    },
  ],
  ['a rejected promise with no Error', () => Promise.reject('socket hang up')],
  [
    'a TypeError from a broken resolver',
    async () => {
      throw new TypeError('cannot read properties of undefined');
    },
  ],
];

describe('status list signer match when the issuer document cannot be had', () => {
  it.each(outages)('%s: STATUS_UNAVAILABLE, not STATUS_INVALID; the same checker passes once the document is back', async (_name, fail) => {
    const { did, jwt } = await world();
    const { resolver, down } = flaky(did, fail);
    const status = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
    const v = await verifyCredential(jwt, { resolver, status });
    expect(v.ok).toBe(false);
    expect(v.reasons.map((r) => r.code)).toEqual(['STATUS_UNAVAILABLE']);
    down.on = false;
    const again = await verifyCredential(jwt, { resolver, status });
    expect(again.reasons).toEqual([]);
    expect(again.ok).toBe(true);
  });

  it('the checker alone (no verifyCredential around it) says STATUS_UNAVAILABLE for an outage', async () => {
    const { did, jwt } = await world();
    const { resolver } = flaky(did, async () => {
      throw new CharterError('UNREACHABLE', 'down');
    });
    const status = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
    const credential = decodeJwt(jwt).payload as unknown as Credential;
    const reasons = await status(credential, { issuer: did, now: new Date() });
    expect(reasons.map((r) => r.code)).toEqual(['STATUS_UNAVAILABLE']);
  });

  it('a document that was read and does not name the signing key is still STATUS_INVALID', async () => {
    const { jwt } = await world(false);
    const status = createStatusChecker({ resolver: base, allowLoopback: true, allowHttp: true });
    const v = await verifyCredential(jwt, { resolver: base, status });
    expect(v.reasons.map((r) => r.code)).toEqual(['STATUS_INVALID']);
    expect(v.reasons[0]!.message).toMatch(/someone other than the credential issuer/);
  });

  it('a healthy issuer document that names the signer verifies', async () => {
    const { jwt } = await world();
    const status = createStatusChecker({ resolver: base, allowLoopback: true, allowHttp: true });
    const v = await verifyCredential(jwt, { resolver: base, status });
    expect(v.reasons).toEqual([]);
    expect(v.ok).toBe(true);
  });
});

describe('Bitstring status checker with a caller source that gives no text', () => {
  it.each([
    ['undefined', undefined],
    ['an object', {}],
    ['an array', []],
    ['a number', 42],
  ])('source resolving %s: STATUS_UNAVAILABLE, no TypeError', async (_name, value) => {
    const { jwt } = await world();
    const status = createStatusChecker({ resolver: base, allowLoopback: true, allowHttp: true, source: async () => value as never });
    const v = await verifyCredential(jwt, { resolver: base, status });
    expect(v.reasons.map((r) => r.code)).toEqual(['STATUS_UNAVAILABLE']);
    expect(v.reasons[0]!.message).toMatch(/source gave no text/);
  });
});
