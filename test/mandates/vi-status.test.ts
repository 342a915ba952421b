import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueViAction, issueViIntent, mandateToken, verifyMandateChain, type IssuedViIntent, type VerifyMandateOptions } from '../../src/mandates/index.js';
import { createResolver } from '../../src/did/index.js';
import { createTokenStatusChecker } from '../../src/status/token-checker.js';
import { encodeTokenStatusList, writeTokenStatus, TOKEN_STATUS, type StatusBits } from '../../src/status/token-codec.js';
import type { SdJwtStatusChecker } from '../../src/sdjwt/types.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { guardMandatePayment } from '../../src/guard/transaction.js';
import { requireMandate } from '../../src/http/guards.js';
import { verifyRequest } from '../../src/http/request.js';
import { guardTool, PRESENTATION_META, toolRefusal } from '../../src/integrations/mcp/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { serve, tempDir } from '../helpers.js';
import { checkoutJwt, freshParty, INSTRUMENT, MERCHANTS, signCompact, type Party } from './helpers.js';
import { NOW, T0 } from './worlds.js';

/*
 * Verifiable Intent: the card issuer's L1 is an SD-JWT VC, and a `status` claim in it (IETF Token Status List
 * §6.1) is how the issuer revokes the card credential. The VI reference verifier never reads it; Charter checks
 * it as verifySdJwtVc does: a chain with a status and no checker is STATUS_UNAVAILABLE, a checker's refusals
 * (revoked, suspended, unreachable list, list signed by someone else) join the decision, and a malformed status
 * is refused, never ignored. Lists are real Status List Tokens on a real HTTP server on 127.0.0.1.
 */

const codes = (d: { reasons: { code: string }[] }) => d.reasons.map((r) => r.code);
const disclosure = (name: string, value: unknown) => Buffer.from(JSON.stringify([randomBytes(16).toString('base64url'), name, value])).toString('base64url');
const digest = (d: string) => createHash('sha256').update(d).digest('base64url');
const part = (jwt: string, i: 0 | 1) => JSON.parse(Buffer.from(jwt.split('.')[i]!, 'base64url').toString('utf8')) as Record<string, unknown>;

const issuer = freshParty('issuer-key-1');
/** A second card issuer the verifier also pins: its lists never vouch for the first one's cards. */
const otherIssuer = freshParty('issuer-key-2');
const user = freshParty();
const agent = freshParty('agent-key-1');
const merchant = freshParty('merchant-key-1');
const PSP = 'https://network.example.com';

/** idx 3 revoked in every one-bit list; idx 5 suspended in the two-bit one. */
const REVOKED = 3;
const SUSPENDED = 5;
let base = '';
let closedUrl = '';
const hits = new Map<string, number>();
const served = new Map<string, string>();
let srv: Awaited<ReturnType<typeof serve>>;
const url = (path: string) => `${base}${path}`;
const fetched = (path: string) => hits.get(path) ?? 0;

/** A Status List Token (§5.1) for `path`, signed by `by` with its bare key (no kid: the verifier matches the key). */
async function list(path: string, by: Party, bits: StatusBits = 1, values: [number, number][] = [[REVOKED, TOKEN_STATUS.INVALID]]) {
  const bytes = new Uint8Array(16);
  for (const [i, v] of values) writeTokenStatus(bytes, bits, i, v);
  const iat = Math.min(T0, Math.floor(Date.now() / 1000)) - 60;
  served.set(
    path,
    await signCompact(
      { typ: 'statuslist+jwt' },
      { sub: url(path), iat, exp: T0 + 86_400, ttl: 300, status_list: { bits, lst: encodeTokenStatusList(bytes) } },
      { signer: by.signer },
    ),
  );
}

beforeAll(async () => {
  srv = await serve((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '';
    hits.set(path, fetched(path) + 1);
    const body = served.get(path);
    if (path === '/down' || body === undefined) return void res.writeHead(500).end();
    res.writeHead(200, { 'content-type': 'application/statuslist+jwt' }).end(body);
  });
  base = srv.url;
  await list('/issuer', issuer);
  await list('/issuer-2bit', issuer, 2, [[SUSPENDED, TOKEN_STATUS.SUSPENDED]]);
  await list('/other-issuer', otherIssuer);
  await list('/user', user);
  await list('/agent', agent);
  // A port nothing listens on: listened on, then closed.
  const gone = await serve(() => undefined);
  closedUrl = `${gone.url}/statuslists/1`;
  await gone.close();
});
afterAll(() => srv.close());

const checker = (): SdJwtStatusChecker => createTokenStatusChecker({ resolver: createResolver(), allowLoopback: true, allowHttp: true });
const ref = (path: string, idx: number) => ({ status_list: { idx, uri: url(path) } });

/** An L1 (credential-format §3) whose status is in clear, a presented disclosure, a withheld digest, or a digest inside it. */
async function l1With(t: number, status: { clear?: unknown; disclosed?: unknown; withheld?: unknown; inside?: unknown } = {}, by = issuer): Promise<string> {
  const email = disclosure('email', 'user@example.com');
  const shown = 'disclosed' in status ? [disclosure('status', status.disclosed)] : [];
  const hidden = 'withheld' in status ? [disclosure('status', status.withheld)] : [];
  const inner = 'inside' in status ? [disclosure('status_list', status.inside)] : [];
  const payload = {
    iss: 'https://issuer.example.com',
    sub: 'user-1',
    iat: t - 86_400,
    exp: t + 365 * 86_400,
    vct: 'https://credentials.mastercard.com/card',
    cnf: { jwk: user.publicJwk },
    pan_last_four: '1234',
    scheme: 'mastercard',
    card_id: INSTRUMENT.id,
    ...('clear' in status ? { status: status.clear } : {}),
    ...(inner.length > 0 ? { status: { _sd: inner.map(digest) } } : {}),
    _sd: [email, ...shown, ...hidden].map(digest),
    _sd_alg: 'sha-256',
  };
  return `${await signCompact({ typ: 'sd+jwt' }, payload, by)}~${[email, ...shown, ...inner].map((d) => `${d}~`).join('')}`;
}

/** Re-signs the issuer JWT of a `jwt~disclosures~` layer with `status` added. */
async function withStatus(layer: string, status: unknown, by: Party): Promise<string> {
  const jwt = layer.slice(0, layer.indexOf('~'));
  return (await signCompact(part(jwt, 0), { ...part(jwt, 1), status }, { signer: by.signer })) + layer.slice(jwt.length);
}

/** The user's autonomous L2 (one racquet, 100-400 USD), optionally carrying `status`. */
async function intentOf(l1: string, t: number, l2Status?: unknown): Promise<IssuedViIntent> {
  const it = await issueViIntent({
    issuer: user.issuer,
    l1,
    aud: 'https://agent.example.com',
    nonce: 'n-l2',
    now: new Date(t * 1000),
    autonomous: {
      agent: { jwk: agent.publicJwk, kid: agent.kid },
      instrument: INSTRUMENT,
      maxAmount: { amount: '400', currency: 'USD' },
      minAmount: { amount: '100', currency: 'USD' },
      payees: [MERCHANTS[0]!],
      merchants: MERCHANTS,
      lineItems: [{ id: 'line-1', acceptable: [{ id: 'BAB86345', title: 'Babolat Pure Aero' }], quantity: 1 }],
    },
  });
  if (l2Status === undefined) return it;
  const l2 = await withStatus(it.l2, l2Status, user);
  return { ...it, l2, base: l2.slice(0, l2.indexOf('~')) };
}

/** The whole autonomous chain at `t` (L1, L2, the agent's L3a for `PSP` with `nonce`), layers optionally carrying a status. */
async function chainOf(l1: string, t: number, o: { l2Status?: unknown; l3Status?: unknown; nonce?: string } = {}) {
  const intent = await intentOf(l1, t, o.l2Status);
  const co = await checkoutJwt(merchant, { iat: t, items: [{ id: 'BAB86345', quantity: 1 }], merchantObj: MERCHANTS[0] });
  const a = await issueViAction({
    signer: agent.signer,
    kid: agent.kid,
    iss: 'https://agent.example.com',
    intent,
    merchant: MERCHANTS[0]!,
    itemIds: ['BAB86345'],
    checkoutJwt: co,
    amount: { amount: '279.99', currency: 'USD' },
    instrument: INSTRUMENT,
    payment: { aud: PSP, nonce: o.nonce ?? 'n-l3a' },
    checkout: { aud: 'https://shop.example', nonce: 'n-l3b' },
    now: new Date(t * 1000),
  });
  const l3_payment = o.l3Status === undefined ? a.l3_payment : await withStatus(a.l3_payment, o.l3Status, agent);
  return { l1, l2: intent.l2, l3_payment, l2_payment_serialized: a.l2_payment_serialized };
}

const options = (over: Partial<VerifyMandateOptions> = {}): VerifyMandateOptions => ({
  profile: 'verifiable-intent',
  trust: { issuers: [issuer.publicJwk, otherIssuer.publicJwk], merchants: [merchant.publicJwk] },
  now: NOW,
  paymentAud: PSP,
  paymentNonce: 'n-l3a',
  ...over,
});

/** Verifies the autonomous chain over an L1 carrying `status` in clear, with a fresh checker (or `over`). */
async function verifyL1(status: unknown, over: Partial<VerifyMandateOptions> = { status: checker() }) {
  return verifyMandateChain(await chainOf(await l1With(T0, { clear: status }), T0), options(over));
}

describe('VI: the card issuer credential (L1) status (Token Status List), checked over HTTP', () => {
  it('a status naming a VALID entry of the issuer-signed list: ok, and the list was fetched', async () => {
    const before = fetched('/issuer');
    const d = await verifyL1(ref('/issuer', 0));
    expect(codes(d)).toEqual([]);
    expect(d.ok).toBe(true);
    expect(fetched('/issuer')).toBe(before + 1);
  });

  it('a revoked entry is CREDENTIAL_REVOKED on L1; a suspended one CREDENTIAL_SUSPENDED', async () => {
    const d = await verifyL1(ref('/issuer', REVOKED));
    expect([d.ok, codes(d)]).toEqual([false, ['CREDENTIAL_REVOKED']]);
    expect(d.reasons[0]!.ref).toBe('L1');
    expect(d.layers.find((l) => l.name === 'L1')!.checks.map((c) => c.code)).toEqual(['CREDENTIAL_REVOKED']);
    expect(d.links).toEqual([]);
    expect(codes(await verifyL1(ref('/issuer-2bit', SUSPENDED)))).toEqual(['CREDENTIAL_SUSPENDED']);
    expect(codes(await verifyL1(ref('/issuer-2bit', 0)))).toEqual([]);
  });

  it('a list that cannot be had (HTTP 500, a closed port) is STATUS_UNAVAILABLE: it never fails open', async () => {
    const before = fetched('/down');
    expect(codes(await verifyL1(ref('/down', 0)))).toEqual(['STATUS_UNAVAILABLE']);
    expect(fetched('/down')).toBe(before + 1);
    expect(codes(await verifyL1({ status_list: { idx: 0, uri: closedUrl } }))).toEqual(['STATUS_UNAVAILABLE']);
  });

  it("only the pinned key that verified L1 signs its list: another pinned issuer's list, or the user's, is STATUS_INVALID", async () => {
    expect(codes(await verifyL1(ref('/other-issuer', 0)))).toEqual(['STATUS_INVALID']);
    expect(codes(await verifyL1(ref('/user', 0)))).toEqual(['STATUS_INVALID']);
    // The other issuer's own card is checked against its own list.
    const l1 = await l1With(T0, { clear: ref('/other-issuer', REVOKED) }, otherIssuer);
    expect(codes(await verifyMandateChain(await chainOf(l1, T0), options({ status: checker() })))).toEqual(['CREDENTIAL_REVOKED']);
  });

  it('no checker: STATUS_UNAVAILABLE, telling the caller to pass status, and nothing is fetched', async () => {
    const before = fetched('/issuer');
    const d = await verifyL1(ref('/issuer', 0), {});
    expect([d.ok, codes(d)]).toEqual([false, ['STATUS_UNAVAILABLE']]);
    expect(d.reasons[0]!.message).toMatch(/pass status/);
    expect(fetched('/issuer')).toBe(before);
    // An L1 without status needs no checker.
    expect(codes(await verifyMandateChain(await chainOf(await l1With(T0), T0), options()))).toEqual([]);
  });

  it('immediate mode: the L1 status is checked there too', async () => {
    const l1 = await l1With(T0, { clear: ref('/issuer', REVOKED) });
    const co = await checkoutJwt(merchant, { iat: T0, items: [{ id: 'BAB86345', quantity: 1 }], merchantObj: MERCHANTS[0] });
    const im = await issueViIntent({
      issuer: user.issuer,
      l1,
      aud: PSP,
      nonce: 'n-im',
      now: new Date(T0 * 1000),
      immediate: { checkoutJwt: co, instrument: INSTRUMENT, payee: MERCHANTS[0]!, amount: { amount: '279.99', currency: 'USD' } },
    });
    expect(codes(await verifyMandateChain({ l1, l2: im.l2 }, options({ aud: PSP, nonce: 'n-im', status: checker() })))).toEqual(['CREDENTIAL_REVOKED']);
    expect(codes(await verifyMandateChain({ l1, l2: im.l2 }, options({ aud: PSP, nonce: 'n-im' })))).toEqual(['STATUS_UNAVAILABLE']);
  });

  it('status is checked last: a chain refused for something else fetches nothing', async () => {
    const before = fetched('/issuer');
    const forged = await l1With(T0, { clear: ref('/issuer', 0) }, freshParty('issuer-key-1'));
    expect(codes(await verifyMandateChain(await chainOf(forged, T0), options({ status: checker() })))).toEqual(['INVALID_SIGNATURE']);
    const l1 = await l1With(T0, { clear: ref('/issuer', 0) });
    const chain = await chainOf(l1, T0);
    expect(codes(await verifyMandateChain(chain, options({ status: checker(), paymentNonce: 'another' })))).toEqual(['NONCE_MISMATCH']);
    expect(fetched('/issuer')).toBe(before);
    // The same chain, bound to this verifier: now its list is read.
    expect(codes(await verifyMandateChain(chain, options({ status: checker() })))).toEqual([]);
    expect(fetched('/issuer')).toBe(before + 1);
  });

  it("a checker's answer is the decision's: a throw or a non-list is STATUS_UNAVAILABLE; it is told the L1 iss and the pinned key", async () => {
    const seen: unknown[] = [];
    const spy: SdJwtStatusChecker = async (status, ctx) => {
      seen.push({ status, issuer: ctx.issuer, keys: ctx.issuerKeys, now: ctx.now.getTime() });
      return [];
    };
    expect(codes(await verifyL1(ref('/issuer', 0), { status: spy }))).toEqual([]);
    expect(seen).toEqual([{ status: ref('/issuer', 0), issuer: 'https://issuer.example.com', keys: [issuer.publicJwk], now: NOW.getTime() }]);
    const throws: SdJwtStatusChecker = async () => {
      throw new Error('boom');
    };
    expect(codes(await verifyL1(ref('/issuer', 0), { status: throws }))).toEqual(['STATUS_UNAVAILABLE']);
    expect(codes(await verifyL1(ref('/issuer', 0), { status: (async () => 'fine') as unknown as SdJwtStatusChecker }))).toEqual(['STATUS_UNAVAILABLE']);
    await expect(verifyL1(ref('/issuer', 0), { status: 'yes' as unknown as SdJwtStatusChecker })).rejects.toThrow(TypeError);
  });
});

describe('VI: a malformed L1 status is refused, never ignored', () => {
  const lenient: SdJwtStatusChecker = async () => [];
  it.each([
    ['a string', 'revoked'],
    ['an array', [ref('/issuer', 0)]],
    ['null', null],
    ['an empty object', {}],
    ['status_list a string', { status_list: 'x' }],
    ['status_list an array', { status_list: [0, 'http://127.0.0.1/x'] }],
    ['a missing idx', { status_list: { uri: 'https://example.com/statuslists/1' } }],
    ['a negative idx', { status_list: { idx: -1, uri: 'https://example.com/statuslists/1' } }],
    ['a fractional idx', { status_list: { idx: 1.5, uri: 'https://example.com/statuslists/1' } }],
    ['idx as a string', { status_list: { idx: '0', uri: 'https://example.com/statuslists/1' } }],
    ['a missing uri', { status_list: { idx: 0 } }],
    ['a file: uri', { status_list: { idx: 0, uri: 'file:///etc/passwd' } }],
    ['an ftp: uri', { status_list: { idx: 0, uri: 'ftp://example.com/statuslists/1' } }],
    ['a uri that is no URL', { status_list: { idx: 0, uri: 'statuslists/1' } }],
  ])('%s: STATUS_INVALID with a checker, without one, and even with a checker that would pass anything', async (_, status) => {
    expect(codes(await verifyL1(status))).toEqual(['STATUS_INVALID']);
    expect(codes(await verifyL1(status, {}))).toEqual(['STATUS_INVALID']);
    expect(codes(await verifyL1(status, { status: lenient }))).toEqual(['STATUS_INVALID']);
  });

  it("a mechanism beside status_list is the checker's to refuse (Token Status List §6.1); without one, STATUS_UNAVAILABLE", async () => {
    const status = { ...ref('/issuer', 0), other_mechanism: { id: 1 } };
    expect(codes(await verifyL1(status))).toEqual(['STATUS_INVALID']);
    expect(codes(await verifyL1(status, {}))).toEqual(['STATUS_UNAVAILABLE']);
  });
});

describe('VI: status is never selectively disclosable (draft-ietf-oauth-sd-jwt-vc §3.2.2.2)', () => {
  const verify = async (status: Parameters<typeof l1With>[1], over: Partial<VerifyMandateOptions> = { status: checker() }) =>
    codes(await verifyMandateChain(await chainOf(await l1With(T0, status), T0), options(over)));

  it('a disclosed status, or a digest inside one, is INVALID_CREDENTIAL whatever it names (valid or revoked)', async () => {
    const before = fetched('/issuer');
    for (const idx of [0, REVOKED]) {
      expect(await verify({ disclosed: ref('/issuer', idx) })).toEqual(['INVALID_CREDENTIAL']);
      expect(await verify({ disclosed: ref('/issuer', idx) }, {})).toEqual(['INVALID_CREDENTIAL']);
      expect(await verify({ inside: { idx, uri: url('/issuer') } })).toEqual(['INVALID_CREDENTIAL']);
    }
    expect(fetched('/issuer')).toBe(before);
  });

  it('a withheld status looks like any withheld claim (RFC 9901 §4.2.5): requireStatus refuses an L1 without one in clear', async () => {
    expect(await verify({ withheld: ref('/issuer', REVOKED) }, { status: checker(), requireStatus: true })).toEqual(['STATUS_INVALID']);
    expect(await verify({}, { status: checker(), requireStatus: true })).toEqual(['STATUS_INVALID']);
    expect(await verify({ clear: ref('/issuer', 0) }, { status: checker(), requireStatus: true })).toEqual([]);
    expect(await verify({ clear: ref('/issuer', REVOKED) }, { status: checker(), requireStatus: true })).toEqual(['CREDENTIAL_REVOKED']);
    // Without requireStatus the verifier cannot tell it from the email §3.4 lets the holder withhold: the
    // chain is judged on what it shows (an issuer following SD-JWT VC never makes status disclosable).
    expect(await verify({ withheld: ref('/issuer', REVOKED) })).toEqual([]);
    await expect(verifyMandateChain(await chainOf(await l1With(T0), T0), options({ requireStatus: 'yes' as unknown as boolean }))).rejects.toThrow(TypeError);
  });
});

describe('VI: an L2 or L3 that names a status is checked against the key that signed it', () => {
  it('L2: a list signed by the user key decides (revoked: CREDENTIAL_REVOKED on L2); one signed by the card issuer is STATUS_INVALID', async () => {
    const l1 = await l1With(T0);
    const run = async (status: unknown, over: Partial<VerifyMandateOptions> = { status: checker() }) => {
      const d = await verifyMandateChain(await chainOf(l1, T0, { l2Status: status }), options(over));
      return [codes(d), d.reasons.map((r) => r.ref)];
    };
    expect(await run(ref('/user', 0))).toEqual([[], []]);
    expect(await run(ref('/user', REVOKED))).toEqual([['CREDENTIAL_REVOKED'], ['L2']]);
    expect(await run(ref('/issuer', 0))).toEqual([['STATUS_INVALID'], ['L2']]);
    expect(await run(ref('/user', 0), {})).toEqual([['STATUS_UNAVAILABLE'], ['L2']]);
    expect(await run({ status_list: { idx: -1, uri: url('/user') } })).toEqual([['STATUS_INVALID'], ['L2']]);
  });

  it('L3a: a list signed by the agent key decides; one signed by the user is STATUS_INVALID', async () => {
    const l1 = await l1With(T0);
    const run = async (status: unknown, over: Partial<VerifyMandateOptions> = { status: checker() }) =>
      codes(await verifyMandateChain(await chainOf(l1, T0, { l3Status: status }), options(over)));
    expect(await run(ref('/agent', 0))).toEqual([]);
    expect(await run(ref('/agent', REVOKED))).toEqual(['CREDENTIAL_REVOKED']);
    expect(await run(ref('/user', 0))).toEqual(['STATUS_INVALID']);
    expect(await run(ref('/agent', 0), {})).toEqual(['STATUS_UNAVAILABLE']);
    expect(await run('revoked')).toEqual(['STATUS_INVALID']);
  });

  it('every layer is checked: a valid L1 does not cover a revoked L2', async () => {
    const l1 = await l1With(T0, { clear: ref('/issuer', 0) });
    const d = await verifyMandateChain(await chainOf(l1, T0, { l2Status: ref('/user', REVOKED) }), options({ status: checker() }));
    expect(codes(d)).toEqual(['CREDENTIAL_REVOKED']);
    expect(d.reasons[0]!.ref).toBe('L2');
  });
});

describe("VI through the guard: the verifier's Token Status List checker (tokenStatus) reads L1's status", () => {
  const now = () => Math.floor(Date.now() / 1000);
  let n = 0;
  async function guarded(status: unknown, extra: Record<string, unknown> = {}) {
    const store = await openSqliteStore(join(tempDir('charter-vi-status-'), 'g.db'));
    try {
      const verifier = createVerifier({ aud: PSP, store, http: false, allowLoopback: true });
      const t = now();
      const chain = await chainOf(await l1With(t, status === undefined ? {} : { clear: status }), t, { nonce: `g-${n++}` });
      let ran = 0;
      const r = await guardMandatePayment(chain, { verifier, profile: 'verifiable-intent', trust: { issuers: [issuer.publicJwk] }, amount: '279.99 USD', ...extra }, () => ran++);
      return [r.ok, r.ok ? [] : codes(r as { reasons: { code: string }[] }), ran, r.ok ? 200 : (r as { status: number }).status];
    } finally {
      await store.close();
    }
  }

  it('guardMandatePayment: valid, paid; revoked, 403 CREDENTIAL_REVOKED; unreachable, 503 STATUS_UNAVAILABLE; malformed, 403 STATUS_INVALID; nothing runs unless allowed', async () => {
    expect(await guarded(ref('/issuer', 0))).toEqual([true, [], 1, 200]);
    expect(await guarded(ref('/issuer', REVOKED))).toEqual([false, ['CREDENTIAL_REVOKED'], 0, 403]);
    expect(await guarded(ref('/down', 0))).toEqual([false, ['STATUS_UNAVAILABLE'], 0, 503]);
    expect(await guarded({ status_list: { idx: '0', uri: url('/issuer') } })).toEqual([false, ['STATUS_INVALID'], 0, 403]);
    expect(await guarded(undefined, { requireStatus: true })).toEqual([false, ['STATUS_INVALID'], 0, 403]);
    expect(await guarded(undefined)).toEqual([true, [], 1, 200]);
  });

  it('requireMandate (the HTTP guard): a revoked card credential is refused, a valid one allowed', async () => {
    const store = await openSqliteStore(join(tempDir('charter-vi-status-http-'), 'h.db'));
    try {
      const verifier = createVerifier({ aud: PSP, store, publicOrigin: PSP, allowLoopback: true });
      const guard = requireMandate({ profile: 'verifiable-intent', trust: { issuers: [issuer.publicJwk] } });
      const pay = async (idx: number) => {
        const t = now();
        const chain = await chainOf(await l1With(t, { clear: ref('/issuer', idx) }), t, { nonce: `h-${n++}` });
        const req = new Request(`${PSP}/pay`, { method: 'POST', headers: { authorization: `Bearer ${mandateToken('verifiable-intent', chain)}` } });
        const d = await verifyRequest(req, verifier, guard);
        await d.spend?.release();
        return [d.status, codes(d)];
      };
      expect(await pay(REVOKED)).toEqual([403, ['CREDENTIAL_REVOKED']]);
      expect(await pay(0)).toEqual([200, []]);
    } finally {
      await store.close();
    }
  });

  it('requireStatus on requireMandate (HTTP) and guardTool (MCP): an L1 without a status in clear is refused; a non-boolean is a TypeError', async () => {
    const store = await openSqliteStore(join(tempDir('charter-vi-status-req-'), 'r.db'));
    try {
      const verifier = createVerifier({ aud: PSP, store, publicOrigin: PSP, allowLoopback: true });
      const trust = { issuers: [issuer.publicJwk] };
      const chainWith = async (status?: unknown) => {
        const t = now();
        return chainOf(await l1With(t, status === undefined ? {} : { clear: status }), t, { nonce: `r-${n++}` });
      };
      const overHttp = async (requireStatus: boolean, status?: unknown) => {
        const req = new Request(`${PSP}/pay`, { method: 'POST', headers: { authorization: `Bearer ${mandateToken('verifiable-intent', await chainWith(status))}` } });
        const d = await verifyRequest(req, verifier, requireMandate({ profile: 'verifiable-intent', trust, requireStatus }));
        await d.spend?.release();
        return [d.status, codes(d)];
      };
      expect(await overHttp(true)).toEqual([403, ['STATUS_INVALID']]);
      expect(await overHttp(true, ref('/issuer', 0))).toEqual([200, []]);
      expect(await overHttp(false)).toEqual([200, []]);
      const mcpVerifier = createVerifier({ aud: PSP, store, http: false, allowLoopback: true });
      let ran = 0;
      const tool = guardTool<{ amount: string }>(
        'pay',
        { verifier: mcpVerifier, mandate: { profile: 'verifiable-intent', trust, requireStatus: true }, amount: (a) => `${a.amount} USD` },
        () => {
          ran++;
          return { content: [{ type: 'text', text: 'paid' }] };
        },
      );
      const call = async (status?: unknown) => tool({ amount: '279.99' }, { _meta: { [PRESENTATION_META]: await chainWith(status) } });
      expect(toolRefusal(await call())?.code).toBe('STATUS_INVALID');
      expect(toolRefusal(await call(ref('/issuer', REVOKED)))?.code).toBe('CREDENTIAL_REVOKED');
      expect((await call(ref('/issuer', 0))).isError).toBeFalsy();
      expect(ran).toBe(1);
      expect(() => requireMandate({ profile: 'verifiable-intent', trust, requireStatus: 'yes' as unknown as boolean })).toThrow(TypeError);
      expect(() =>
        guardTool('pay', { verifier: mcpVerifier, mandate: { profile: 'verifiable-intent', trust, requireStatus: 1 as unknown as boolean } }, () => ({ content: [] })),
      ).toThrow(TypeError);
    } finally {
      await store.close();
    }
  });
});

describe('charter mandate verify reads the status too (no home needed)', () => {
  async function cli(chain: Record<string, unknown>, extra: string[] = []) {
    const { Readable } = await import('node:stream');
    const { writeFileSync } = await import('node:fs');
    const { runCli } = await import('../../src/cli/main.js');
    const dir = tempDir('charter-vi-status-cli-');
    writeFileSync(join(dir, 'chain.json'), JSON.stringify(chain));
    writeFileSync(join(dir, 'issuer.jwk'), JSON.stringify(issuer.publicJwk));
    let out = '';
    let code = 0;
    await runCli(
      [
        'mandate',
        'verify',
        join(dir, 'chain.json'),
        '--profile',
        'verifiable-intent',
        '--trust-issuer',
        join(dir, 'issuer.jwk'),
        '--now',
        NOW.toISOString(),
        '--payment-aud',
        PSP,
        '--payment-nonce',
        'n-l3a',
        '--json',
        ...extra,
      ],
      {
        stdout: (x) => (out += x + '\n'),
        stderr: () => undefined,
        env: {},
        stdin: Readable.from(['']),
        setExitCode: (c) => (code = c),
        openHome: () => Promise.reject(new Error('charter mandate verify opens no home')),
      },
    );
    return [code, codes(JSON.parse(out) as { reasons: { code: string }[] })];
  }

  it('a revoked card credential is exit 1 CREDENTIAL_REVOKED, a valid one exit 0; a loopback list needs --allow-loopback', async () => {
    expect(await cli(await chainOf(await l1With(T0, { clear: ref('/issuer', REVOKED) }), T0), ['--allow-loopback'])).toEqual([1, ['CREDENTIAL_REVOKED']]);
    expect(await cli(await chainOf(await l1With(T0, { clear: ref('/issuer', 0) }), T0), ['--allow-loopback'])).toEqual([0, []]);
    const [code, why] = await cli(await chainOf(await l1With(T0, { clear: ref('/issuer', 0) }), T0));
    expect([code === 0, why]).toEqual([false, ['STATUS_UNAVAILABLE']]);
    // --require-status: an L1 with no status in clear is refused; without the flag it passes.
    expect(await cli(await chainOf(await l1With(T0), T0), ['--require-status'])).toEqual([1, ['STATUS_INVALID']]);
    expect(await cli(await chainOf(await l1With(T0), T0))).toEqual([0, []]);
  });
});
