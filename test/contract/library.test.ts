import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as charter from '../../src/index.js';
import {
  createTokenStatusChecker,
  decodeTokenStatusList,
  issueSdJwtGrant,
  issueSdJwtVc,
  presentSdJwtVc,
  readTokenStatus,
  verifySdJwtGrant,
  verifySdJwtVc,
} from '../../src/sdjwt/index.js';
import { verifyMandateChain, hashAscii, jwkThumbprint as mandateThumbprint } from '../../src/mandates/index.js';
import { ERROR_CODES, toReason } from '../../src/errors.js';
import { guardTool, PRESENTATION_META, toolRefusal } from '../../src/integrations/mcp/index.js';
import { makeIssuer } from '../helpers.js';
import { openWorld, API, type World } from '../http/world.js';
import { bound } from '../http/present.js';
import { handReceipt } from '../audit/hand-receipt.js';
import { contained, hostile, hostileConstants, mutated, outcome, refused } from './hostile.js';

/**
 * The error contract of the library under hostile input (README "Error codes"): a verifier given
 * anything at all where a token, document or header goes refuses it (ok false, listed codes) or
 * throws a CharterError; a token changed after signing never passes; an option of the wrong kind
 * is a TypeError naming it or a CharterError, never an engine's TypeError or RangeError; and no
 * call hangs. Fixed seeds: a failure names its counterexample and runs again the same way.
 */

// CHARTER_FUZZ_SEED explores other inputs; the suite runs the fixed one.
const SEED = Number(process.env.CHARTER_FUZZ_SEED ?? 0x5eed);
const runs = (numRuns: number) => ({ numRuns, seed: SEED, endOnFailure: true });

let w: World;
let credential: string;
let presentation: string;
let grantVp: string;
let agentVp: string;
let sdjwt: string;
let receipt: string;
let sdGrant: string;
const resolver = charter.createResolver();
const alice = makeIssuer();
const bob = makeIssuer('P-256');

beforeAll(async () => {
  w = await openWorld();
  credential = (await charter.issueCredential({ issuer: alice, subject: bob.did, type: 'Membership', claims: { level: 1 } })).jwt;
  presentation = await charter.createPresentation({ holder: bob, credentials: [credential], aud: API, nonce: 'n' });
  grantVp = await bound(w.app, [(await w.grant()).jwt], { nonce: 'n' });
  agentVp = await charter.createAgentPresentation({ agent: w.agent, chain: [await w.mandate()], identity: w.agentIdentity, aud: API, nonce: 'n' });
  const issued = await issueSdJwtVc({ issuer: alice, subject: bob.did, vct: 'https://example.com/vct', claims: { email: 'a@example.com' }, disclosable: ['email'] });
  sdjwt = await presentSdJwtVc(issued.token, { holder: bob, disclose: ['email'], aud: API, nonce: 'n' });
  const g = await issueSdJwtGrant(w.home.store, w.alice, {
    grantee: w.app.did,
    resources: ['profile/email'],
    actions: ['read'],
    purpose: 'tests',
    constraints: {},
    validUntil: new Date(Date.now() + 86_400_000),
    baseUrl: w.server.url,
  });
  sdGrant = await presentSdJwtVc(g.token, { holder: w.app, disclose: g.disclosable, aud: API, nonce: 'n' });
  receipt = await handReceipt(alice, {
    sub: bob.did,
    grant: { id: 'urn:uuid:1', iss: alice.did },
    credentials: [{ h: 'x' }],
    policy: { kind: 'grant', resource: 'a', action: 'read', anyOwner: true },
  });
}, 60_000);
afterAll(async () => w?.close());

const grantOptions = () => ({ resolver: w.resolver, status: w.status, resource: 'profile/email', action: 'read', anyOwner: true, aud: API, nonce: 'n' }) as const;
const agentOptions = () => ({
  resolver: w.resolver,
  status: w.status,
  aud: API,
  nonce: 'n',
  action: 'purchase',
  amount: '1 USD',
  counterparty: API,
  trust: { principals: [w.principal.did] },
});

/** Every verifier, with the hostile value where its outside input goes. */
const verifiers: Array<[string, (v: unknown) => unknown]> = [
  ['verifyCredential', (v) => charter.verifyCredential(v as string, { resolver })],
  ['assertCredential', (v) => charter.assertCredential(v as string, { resolver })],
  ['decodeCredential', (v) => charter.decodeCredential(v as string)],
  ['verifyPresentation', (v) => charter.verifyPresentation(v as string, { resolver, aud: API, nonce: 'n' })],
  ['verifyGrant', (v) => charter.verifyGrant(v as string, grantOptions())],
  ['verifyAgent', (v) => charter.verifyAgent(v as string, agentOptions())],
  ['verifyReceipt', (v) => charter.verifyReceipt(v as string, { resolver, issuers: [alice.did] })],
  ['decodeReceipt', (v) => charter.decodeReceipt(v as string)],
  ['checkReceiptEvidence', (v) => charter.checkReceiptEvidence(v as string, { resolver, agent: bob.did, attester: alice.did })],
  ['verifyEvidence', (v) => charter.verifyEvidence(v)],
  ['scoreAgent', (v) => charter.scoreAgent(bob.did, [v as string], { resolver, status: w.status })],
  ['verifySdJwtVc', (v) => verifySdJwtVc(v as string, { resolver, aud: API, nonce: 'n' })],
  ['verifySdJwtGrant', (v) => verifySdJwtGrant(v as string, { ...grantOptions(), status: async () => [] })],
  ['verifyMandateChain', (v) => verifyMandateChain(v, { profile: 'verifiable-intent', trust: { issuers: [alice.publicJwk] } } as never)],
  ['verifyMandateChain ap2', (v) => verifyMandateChain(v, { profile: 'ap2', trust: { issuers: [alice.publicJwk] } } as never)],
  ['resolve', (v) => resolver.resolve(v as string)],
  ['resolveKey', (v) => resolver.resolveKey(v as string, undefined, 'assertionMethod')],
  ['resolveKey kid', (v) => resolver.resolveKey(alice.did, v as string, 'assertionMethod')],
  ['decodeBitstring', (v) => charter.decodeBitstring(v as string)],
  ['decodeTokenStatusList', (v) => decodeTokenStatusList(v as string)],
  ['multibaseToPublicJwk', (v) => charter.multibaseToPublicJwk(v as string)],
  ['validatePublicJwk', (v) => charter.validatePublicJwk(v)],
  ['importVerificationKey', (v) => charter.importVerificationKey(v as never)],
];

/** Calls whose argument a caller builds (a JWK it holds, a request its framework made, a proposal): misuse may be a TypeError naming it. */
const builders: Array<[string, (v: unknown) => unknown]> = [
  ['jwkThumbprint', (v) => charter.jwkThumbprint(v as never)],
  ['mandates jwkThumbprint', (v) => mandateThumbprint(v as never)],
  ['normalizeResource', (v) => charter.normalizeResource(v)],
  ['parseMoney', (v) => charter.parseMoney(v as string)],
  ['parseBudget', (v) => charter.parseBudget(v as string)],
  ['parseRate', (v) => charter.parseRate(v as string)],
  ['hashAscii', (v) => hashAscii(v as string)],
  ['verifyRequestSignature', (v) => charter.verifyRequestSignature(v as never, { keys: { keys: [] } })],
  ['verifyRequestSignature headers', (v) => charter.verifyRequestSignature({ method: 'GET', url: 'https://a.example/x', headers: v } as never, { keys: { keys: [] } })],
  ['verifyDirectoryResponse', (v) => charter.verifyDirectoryResponse(v as never)],
  [
    'verifyDirectoryResponse body',
    (v) => charter.verifyDirectoryResponse({ url: 'https://a.example/.well-known/http-message-signatures-directory', status: 200, headers: {}, body: v } as never),
  ],
  ['countVotes', (v) => charter.countVotes(v as never, [], { resolver, status: w.status } as never)],
  ['countVotes votes', (v) => charter.countVotes({} as never, [v as string], { resolver, status: w.status } as never)],
  ['proposalHash', (v) => charter.proposalHash(v as never)],
  ['verifyAuditLog', (v) => charter.verifyAuditLog(v as never, { resolver })],
  ['receiptOf', (v) => charter.receiptOf(v as never)],
  ['checkNarrowing', (v) => charter.checkNarrowing({ actions: ['buy'] } as never, v as never)],
];

describe('a verifier given anything where its input goes refuses it with a listed code', () => {
  it.each(verifiers)('%s: every hostile constant', async (name, call) => {
    const wrong: string[] = [];
    for (const [i, v] of hostileConstants().entries()) {
      const o = await outcome(() => call(v));
      if (o.kind === 'result' && (o.value as { ok?: unknown })?.ok === undefined) continue;
      try {
        refused(o, `${name}(#${i} ${typeof v})`);
      } catch (e) {
        wrong.push((e as Error).message);
      }
    }
    expect(wrong).toEqual([]);
  });

  it.each(builders)('%s: every hostile constant is refused or named as misuse', async (name, call) => {
    const wrong: string[] = [];
    for (const [i, v] of hostileConstants().entries()) {
      try {
        contained(await outcome(() => call(v)), `${name}(#${i} ${typeof v})`);
      } catch (e) {
        wrong.push((e as Error).message);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('any value from fast-check, at every verifier (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...verifiers), hostile, async ([name, call], v) => {
        const o = await outcome(() => call(v));
        if (o.kind === 'result' && (o.value as { ok?: unknown })?.ok === undefined) return;
        refused(o, name);
      }),
      runs(200),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...builders), hostile, async ([name, call], v) => contained(await outcome(() => call(v)), name)),
      runs(200),
    );
  });
});

describe('a token changed after signing never passes', () => {
  const cases: Array<[string, () => string, (t: string) => unknown]> = [
    ['credential', () => credential, (t) => charter.verifyCredential(t, { resolver })],
    ['presentation', () => presentation, (t) => charter.verifyPresentation(t, { resolver, aud: API, nonce: 'n' })],
    ['grant presentation', () => grantVp, (t) => charter.verifyGrant(t, grantOptions())],
    ['agent presentation', () => agentVp, (t) => charter.verifyAgent(t, agentOptions())],
    ['SD-JWT VC', () => sdjwt, (t) => verifySdJwtVc(t, { resolver, aud: API, nonce: 'n' })],
    [
      'SD-JWT grant',
      () => sdGrant,
      (t) =>
        verifySdJwtGrant(t, {
          resolver: w.resolver,
          status: createTokenStatusChecker({ resolver: w.resolver, allowLoopback: true, allowHttp: true }),
          resource: 'profile/email',
          action: 'read',
          owner: w.alice.did,
          aud: API,
          nonce: 'n',
        }),
    ],
    ['decision receipt', () => receipt, (t) => charter.verifyReceipt(t, { resolver, issuers: [alice.did] })],
  ];

  it.each(cases)('%s: the real one passes (so the property below has teeth)', async (_, token, verify) => {
    const o = await outcome(() => verify(token()));
    expect(o).toMatchObject({ kind: 'result', value: { ok: true } });
  });

  it.each(cases)('%s: mutated (property)', async (name, token, verify) => {
    await fc.assert(
      fc.asyncProperty(
        fc.constant(null).chain(() => mutated(token())),
        async (t) => {
          fc.pre(t !== token());
          refused(await outcome(() => verify(t)), name);
        },
      ),
      runs(60),
    );
  });
});

describe('an option of the wrong kind is a TypeError naming it or a CharterError, never an engine error', () => {
  const opt = <T extends object>(base: () => T, keys: Array<keyof T & string>) => fc.tuple(fc.constantFrom(...keys), hostile).map(([k, v]) => ({ ...base(), [k]: v }));
  const cases: Array<[string, fc.Arbitrary<unknown>, (o: never) => unknown]> = [
    [
      'verifyCredential',
      opt(() => ({ resolver }), ['resolver', 'now', 'skewSeconds', 'status', 'schemas', 'acceptV1', 'requireType', 'aud', 'maxBytes'] as never),
      (o) => charter.verifyCredential(credential, o),
    ],
    [
      'verifyPresentation',
      opt(() => ({ resolver, aud: API, nonce: 'n' }), ['resolver', 'aud', 'nonce', 'now', 'skewSeconds', 'maxAgeSeconds', 'status'] as never),
      (o) => charter.verifyPresentation(presentation, o),
    ],
    ['verifyGrant', opt(grantOptions, ['resolver', 'status', 'resource', 'action', 'aud', 'nonce', 'owner', 'grantee', 'now'] as never), (o) => charter.verifyGrant(grantVp, o)],
    [
      'verifyAgent',
      opt(agentOptions, ['resolver', 'status', 'aud', 'nonce', 'action', 'amount', 'counterparty', 'now', 'skewSeconds', 'maxAgeSeconds', 'trust', 'reputation'] as never),
      (o) => charter.verifyAgent(agentVp, o),
    ],
    [
      'verifySdJwtVc',
      opt(() => ({ resolver, aud: API, nonce: 'n' }), ['resolver', 'aud', 'nonce', 'status', 'trustedIssuers', 'maxKeyBindingAgeSeconds', 'sdAlgs', 'now'] as never),
      (o) => verifySdJwtVc(sdjwt, o),
    ],
    ['verifyReceipt', opt(() => ({ resolver, issuers: [alice.did] }), ['resolver', 'issuers'] as never), (o) => charter.verifyReceipt(receipt, o)],
    ['verifyEvidence', fc.record({ at: hostile, issuers: hostile, verifierKeys: hostile }, { requiredKeys: [] }), (o) => charter.verifyEvidence({}, o)],
    [
      'createResolver',
      fc.record({ maxBytes: hostile, cacheTtlMs: hostile, allowLoopback: hostile, timeoutMs: hostile }, { requiredKeys: [] }),
      (o) => charter.createResolver(o).resolve(alice.did),
    ],
    [
      'createVerifier',
      fc.record({ aud: hostile, store: hostile, resolver: hostile, status: hostile, skewSeconds: hostile }, { requiredKeys: [] }),
      (o) => charter.createVerifier(o),
    ],
    ['readTokenStatus', fc.tuple(hostile, hostile), ([bits, index]: [unknown, unknown]) => readTokenStatus(new Uint8Array(4), bits as never, index as never)],
    ['whole options', hostile, (o) => charter.verifyPresentation(presentation, o)],
    [
      'requireGrant',
      fc.record({ resource: hostile, action: hostile, owner: hostile, anyOwner: hostile, grantee: hostile, purpose: hostile }, { requiredKeys: [] }),
      (o) => charter.requireGrant(o),
    ],
    [
      'requireAgent',
      fc.record({ action: hostile, amount: hostile, counterparty: hostile, trust: hostile, reputation: hostile }, { requiredKeys: [] }),
      (o) => charter.requireAgent(o),
    ],
    [
      'requireSignature',
      fc.record({ keys: hostile, directories: hostile, cover: hostile, tag: hostile, maxAgeSeconds: hostile }, { requiredKeys: [] }),
      (o) => charter.requireSignature(o),
    ],
    ['requireMandate', fc.record({ profile: hostile, trust: hostile, amount: hostile, payee: hostile }, { requiredKeys: [] }), (o) => charter.requireMandate(o)],
    [
      'createStatusChecker',
      fc.record({ resolver: fc.oneof(fc.constant(resolver), hostile), allowLoopback: hostile, skewSeconds: hostile, maxBytes: hostile, cacheTtlMs: hostile }, { requiredKeys: [] }),
      (o) => charter.createStatusChecker(o),
    ],
    ['createStatusChecker whole', hostile, (o) => charter.createStatusChecker(o)],
    ['createTokenStatusChecker whole', hostile, (o) => createTokenStatusChecker(o)],
    [
      'createTokenStatusChecker',
      fc.record({ resolver: fc.oneof(fc.constant(resolver), hostile), allowLoopback: hostile, skewSeconds: hostile, maxBytes: hostile }, { requiredKeys: [] }),
      (o) => createTokenStatusChecker(o),
    ],
    [
      'createDirectoryResolver',
      fc.record({ allowLoopback: hostile, timeoutMs: hostile, maxBytes: hostile, cacheTtlMs: hostile }, { requiredKeys: [] }),
      (o) => charter.createDirectoryResolver(o),
    ],
    ['documentResolver', hostile, (o) => charter.documentResolver(async () => ({ id: 'did:web:a.example' }) as never, o).resolve('did:web:a.example')],
    [
      'verifyMandateChain',
      fc.record(
        { profile: hostile, trust: hostile, now: hostile, skewSeconds: hostile, aud: hostile, nonce: hostile, algorithms: hostile, calendarTimeZone: hostile },
        { requiredKeys: [] },
      ),
      (o) => verifyMandateChain('a.b.c', o),
    ],
    [
      'importAttestations',
      fc.record(
        { resolver: fc.oneof(fc.constant(resolver), hostile), status: hostile, now: hostile, skewSeconds: hostile, evidence: hostile, concurrency: hostile },
        { requiredKeys: [] },
      ),
      (o) => charter.importAttestations(w.home.store, ['a.b.c'], o),
    ],
    [
      'scoreAgent',
      fc.record(
        { resolver: fc.oneof(fc.constant(resolver), hostile), status: hostile, now: hostile, halfLifeDays: hostile, trustedAttesters: hostile, unknownWeight: hostile },
        { requiredKeys: [] },
      ),
      (o) => charter.scoreAgent(bob.did, [], o),
    ],
  ];

  it.each(cases)('%s (property)', async (name, options, call) => {
    await fc.assert(
      fc.asyncProperty(options, async (o) => {
        const out = await outcome(() => call(o as never));
        contained(out, name);
      }),
      runs(60),
    );
  });
});

describe('what fuzzing found, pinned', () => {
  it('readTokenStatus never reads past its list, at a fraction or at a width §4.1 does not define as VALID (0)', () => {
    const bytes = new Uint8Array([0xff, 0xff]);
    expect(readTokenStatus(bytes, 1, 15)).toBe(1);
    expect(readTokenStatus(bytes, 8, 1)).toBe(255);
    for (const [bits, index] of [
      [1, 16],
      [2, 8],
      [8, 2],
      [1, -1],
      [1, 1.5],
      [1, NaN],
      [1, Infinity],
      [3, 0],
      [0, 0],
      [1, '0'],
    ] as const) {
      expect(() => readTokenStatus(bytes, bits as never, index as never), `${bits}/${index}`).toThrow(expect.objectContaining({ code: 'STATUS_INVALID' }));
    }
  });

  it('verifyCredential: a status or schemas that is no function is named when the call starts, not only when a credential reaches it', async () => {
    for (const k of ['status', 'schemas'])
      for (const v of ['x', 1, {}, [], true]) await expect(charter.verifyCredential(credential, { resolver, [k]: v } as never), `${k}: ${String(v)}`).rejects.toThrow(TypeError);
  });

  it('a kid, an amount or a header value whose String() throws or never ends is refused with a code or named as misuse', async () => {
    const noString = Object.create(null) as object;
    const deep = hostileConstants().at(-1);
    for (const v of [noString, { toString: 1 }, deep]) {
      await expect(resolver.resolveKey(alice.did, v as never, 'assertionMethod')).rejects.toMatchObject({ code: 'KID_MISMATCH' });
      expect(() => charter.parseMoney(v as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      expect(() => charter.parseBudget(v as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      expect(() => charter.parseRate(v as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      const headers = { signature: v, 'signature-input': 'sig1=();keyid="k"' };
      await expect(charter.verifyRequestSignature({ method: 'GET', url: 'https://a.example/', headers } as never, { keys: { keys: [] } })).rejects.toThrow(/header "signature"/);
    }
    // Something thrown that is no Error (a status checker's, say) and whose String() throws still becomes a reason.
    expect(toReason(noString, 'STATUS_UNAVAILABLE')).toEqual({ code: 'STATUS_UNAVAILABLE', message: '[object]' });
  });

  it('hashAscii hashes ASCII text only: null is not the text "null"', () => {
    for (const v of [null, undefined, 0, ['a'], { toString: () => 'a' }]) expect(() => hashAscii(v as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(hashAscii('null')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('canonical JSON nests as deep as a reader accepts and no deeper (a stack overflow otherwise)', () => {
    const nest = (n: number) => JSON.parse('['.repeat(n) + ']'.repeat(n)) as unknown;
    expect(charter.proposalHash({ pool: 'p', action: 'x', args: nest(60) } as never)).toMatch(/^sha256-/);
    expect(() => charter.proposalHash({ a: nest(20_000) } as never)).toThrow(/nests at most 64 levels/);
  });

  it('checkNarrowing reads both authorities as a verifier reads a mandate', () => {
    expect(() => charter.checkNarrowing(null as never, { actions: ['a'], maxDelegationDepth: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => charter.checkNarrowing({ actions: ['a'], maxDelegationDepth: 0 }, { actions: 'a' } as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => charter.checkNarrowing({ actions: ['a'], maxDelegationDepth: 0 }, { actions: ['a'], maxDelegationDepth: 0, limits: { perTransaction: 'x' } } as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => charter.checkNarrowing({ actions: ['a'], maxDelegationDepth: 0 }, { actions: ['a'], maxDelegationDepth: 0 }, null as never)).toThrow(TypeError);
    expect(charter.checkNarrowing({ actions: ['a'], maxDelegationDepth: 1 }, { actions: ['a'], maxDelegationDepth: 0 })).toEqual([]);
  });

  it('the checkers, documentResolver, scoreAgent and verifyCredential name an option of the wrong kind when built or called', async () => {
    const odd = [Object.create(null) as object, { valueOf: () => 1, toString: 1 }, '10', -1, 1.5, NaN];
    for (const v of odd) {
      for (const k of ['maxBytes', 'maxBitsBytes', 'timeoutMs', 'defaultTtlMs'])
        expect(() => charter.createStatusChecker({ resolver, [k]: v } as never), k).toThrow(new RegExp(`createStatusChecker: ${k}`));
      for (const k of ['maxBytes', 'maxListBytes', 'timeoutMs'])
        expect(() => createTokenStatusChecker({ resolver, [k]: v } as never), k).toThrow(new RegExp(`createTokenStatusChecker: ${k}`));
      await expect(charter.scoreAgent(bob.did, [], { resolver, status: w.status, now: v } as never)).rejects.toThrow(/now must be a valid Date/);
      if (typeof v !== 'string') await expect(charter.verifyCredential(credential, { resolver, requireType: v } as never)).rejects.toThrow(/requireType must be a string/);
    }
    for (const v of [undefined, {}, null]) expect(() => charter.createStatusChecker(v as never)).toThrow(/createStatusChecker needs options.resolver/);
    expect(() => charter.documentResolver(async () => ({}) as never, null as never)).toThrow(/options must be an object/);
    expect(() => charter.documentResolver('load' as never)).toThrow(/needs a load function/);
  });

  it('verifyDirectoryResponse names a response that is no response, whatever it is', () => {
    for (const v of [null, undefined, 'https://a.example/', {}, { url: 'not a url', headers: {}, body: '' }, { url: 'https://a.example/', headers: {}, body: 5 }])
      expect(() => charter.verifyDirectoryResponse(v as never)).toThrow(/verifyDirectoryResponse needs the response/);
  });
});

/** Whether a promise resolved with `v` would wait on it (a proxy that throws when asked is not: it rejects). */
function thenable(v: unknown): boolean {
  try {
    return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
  } catch {
    return false;
  }
}

describe('the guard, the stores and DID documents under hostile input', () => {
  const EMAIL = `${API}/profile/email`;
  const policies = () =>
    [
      { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did },
      { kind: 'agent', action: 'purchase', amount: '1 USD', counterparty: API, trust: { principals: [w.principal.did] } },
      { kind: 'presentation' },
      { kind: 'mandate', profile: 'ap2', trust: { issuers: [alice.publicJwk] }, amount: '1 USD' },
    ] as const;

  it('decide: any presentation under every policy is a refusal with a listed code, never a throw (property)', async () => {
    const v = w.verifier();
    await fc.assert(
      fc.asyncProperty(hostile, fc.constantFrom(0, 1, 2, 3), async (proof, i) => {
        const o = await outcome(() => charter.decide(v, proof, policies()[i] as never, { kind: 'http', method: 'GET', url: EMAIL }));
        if (o.kind !== 'result' && o.kind !== 'own') throw new Error(`decide threw: ${JSON.stringify(o)}`);
        if (o.kind === 'result') refused(o, `decide ${policies()[i]!.kind}`);
      }),
      runs(100),
    );
  });

  it('decide: a policy or binding of any shape is refused, or named as misuse, never an engine error (property)', async () => {
    const v = w.verifier();
    await fc.assert(
      fc.asyncProperty(hostile, hostile, async (policy, binding) => {
        const o = await outcome(() => charter.decide(v, grantVp, policy as never, binding as never));
        contained(o, 'decide');
        if (o.kind === 'result') expect((o.value as { ok: boolean }).ok).toBe(false);
      }),
      runs(100),
    );
  });

  it('a DID document of any shape from a loader is DID_RESOLUTION_FAILED or another listed code, never an engine error (property)', async () => {
    const did = 'did:web:doc.example';
    const member = fc.oneof(hostile, fc.jsonValue({ maxDepth: 3 }));
    const document = fc.oneof(
      hostile,
      fc.record(
        {
          id: fc.oneof(fc.constant(did), member),
          verificationMethod: fc.oneof(
            fc.array(
              fc.record(
                { id: fc.oneof(fc.constant(`${did}#k`), member), type: member, controller: fc.oneof(fc.constant(did), member), publicKeyJwk: member, publicKeyMultibase: member },
                { requiredKeys: [] },
              ),
            ),
            member,
          ),
          assertionMethod: fc.oneof(fc.constant([`${did}#k`]), member),
          authentication: member,
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(document, fc.constantFrom(undefined, `${did}#k`, '#k'), async (doc, kid) => {
        // A promise of a thenable waits on it (Promises/A+): a loader that never answers is the loader's own hang.
        fc.pre(!thenable(doc));
        const r = charter.documentResolver(async () => doc as never);
        const o = await outcome(() => r.resolveKey(did, kid, 'assertionMethod'));
        if (o.kind === 'result') return; // a document that names a usable key for the kid is fine
        if (o.kind !== 'charter' && o.kind !== 'own') throw new Error(JSON.stringify(o));
      }),
      runs(150),
    );
  });

  it('importAttestations and acceptAccessReport: any token is skipped or refused with a listed code (property)', async () => {
    await fc.assert(
      fc.asyncProperty(hostile, async (v) => {
        const imported = await outcome(() => charter.importAttestations(w.home.store, [v as string], { resolver: w.resolver, status: w.status }));
        if (imported.kind === 'result') {
          const res = imported.value as { imported: unknown[]; skipped: Array<{ code: string }> };
          expect(res.imported).toEqual([]);
          for (const s of res.skipped) expect(ERROR_CODES).toContain(s.code);
        } else if (imported.kind !== 'charter' && imported.kind !== 'own') throw new Error(`importAttestations: ${JSON.stringify(imported)}`);
        const report = await outcome(() => charter.acceptAccessReport(w.home.store, v as string, { resolver: w.resolver, aud: charter.homeReportUrl(w.server.url) }));
        if (report.kind === 'result') refused(report, 'acceptAccessReport');
        else if (report.kind !== 'charter' && report.kind !== 'own') throw new Error(`acceptAccessReport: ${JSON.stringify(report)}`);
      }),
      runs(100),
    );
  });

  it('pinned: decide names a policy or binding that is none; a loaded document that is no JSON data is DID_RESOLUTION_FAILED', async () => {
    const v = w.verifier();
    const binding = { kind: 'http', method: 'GET', url: EMAIL } as const;
    for (const policy of [undefined, null, 'grant', {}, { kind: 'grants' }])
      await expect(charter.decide(v, grantVp, policy as never, binding)).rejects.toThrow(/decide: policy must be/);
    for (const b of [undefined, null, 'http', {}, { kind: 'HTTP' }])
      await expect(charter.decide(v, grantVp, policies()[0] as never, b as never)).rejects.toThrow(/decide: binding must be/);
    const did = 'did:web:doc.example';
    const cyclic: Record<string, unknown> = { id: did };
    cyclic.self = cyclic;
    for (const doc of [{ id: did, service: [{ id: `${did}#s`, f: () => 1 }] }, { id: did, n: 10n }, cyclic]) {
      await expect(charter.documentResolver(async () => doc as never).resolveKey(did, undefined, 'assertionMethod')).rejects.toMatchObject({ code: 'DID_RESOLUTION_FAILED' });
    }
  });

  it('an MCP tool guard given any arguments and any _meta refuses with a listed code and never runs the tool (property)', async () => {
    let ran = 0;
    const tool = guardTool('buy', { verifier: w.verifier({ http: false }), action: 'purchase', amount: () => '1 USD', trust: { principals: [w.principal.did] } }, () => {
      ran++;
      return { content: [] };
    });
    const meta = fc.oneof(
      hostile,
      fc.record(
        {
          [PRESENTATION_META]: fc.oneof(
            hostile,
            fc.constant(agentVp),
            fc.constant(null).chain(() => mutated(agentVp)),
          ),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(hostile, meta, async (args, _meta) => {
        const o = await outcome(() => tool(args as never, { _meta } as never));
        if (o.kind === 'own' || o.kind === 'misuse') return;
        if (o.kind !== 'result') throw new Error(`guardTool: ${JSON.stringify(o)}`);
        const refusal = toolRefusal(o.value);
        if (refusal === undefined || !ERROR_CODES.includes(refusal.code as never))
          throw new Error(`guardTool: no refusal with a listed code: ${JSON.stringify(o.value).slice(0, 300)}`);
      }),
      runs(100),
    );
    expect(ran).toBe(0);
  });
});
