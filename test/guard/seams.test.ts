import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decide, type GuardDecision } from '../../src/guard/decide.js';
import type { GrantPolicy } from '../../src/guard/policy.js';
import type { Verifier } from '../../src/guard/verifier.js';
import { THUMBPRINT_URN } from '../../src/guard/signature.js';
import { requireAgent, requireGrant, requireMandate, requireSignature } from '../../src/http/guards.js';
import { verifyRequest } from '../../src/http/request.js';
import { jwkThumbprint } from '../../src/httpsig/index.js';
import { mandateToken } from '../../src/mandates/index.js';
import { issueSdJwtGrant } from '../../src/sdjwt/index.js';
import type { SdJwtStatusChecker } from '../../src/sdjwt/types.js';
import { makeIssuer, tamper } from '../helpers.js';
import { craft, disclosure, salt } from '../sdjwt/craft.js';
import { bound } from '../http/present.js';
import { API, openWorld, type World } from '../http/world.js';
import { ap2Payment, ap2World, viIntent, viPayment, viWorld, type Ap2World, type ViWorld } from './chains.js';
import { openPostgresStore } from '../../src/store/postgres/store.js';
import { dropSchemas, freshSchema, pgUrlOrReport } from '../store/fixtures/pg-env.js';
import { bearer, codes, oddSdGrant, sdGrant, sdPresent, signed, tokenStatusOf } from './seams-fixtures.js';

/**
 * The seams of the one decision pipeline (src/guard/decide.ts) between
 * features merged into it separately: a request signature next to each kind
 * of proof (vp+jwt grant and agent, SD-JWT grant, payment mandate chain),
 * grant terms carried by SD-JWT grants, nonces shared across proof kinds,
 * and concurrent replays. Each test looks for a "yes" where the answer must
 * be "no", and for anything used up or reserved by a refusal.
 */
const SITE = 'http://127.0.0.1:9999';
const EMAIL = `${SITE}/profile/email`;
const ORDERS = `${SITE}/orders`;
const PAY = `${SITE}/pay`;
const request = (url: string, headers: Record<string, string>, method = 'GET') => new Request(url, { method, headers });
const grantPolicy = (w: World, o: Partial<GrantPolicy> = {}): GrantPolicy => ({ kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did, ...o });
const http = (url = EMAIL, method = 'GET') => ({ kind: 'http' as const, method, url });

let w: World;
let vw: ViWorld;
let aw: Ap2World;
let tokenStatus: SdJwtStatusChecker;
/** A key the API knows (it may sign requests) that is no presenting holder's. */
const stranger = makeIssuer();

beforeAll(async () => {
  w = await openWorld();
  vw = await viWorld(new Date());
  aw = await ap2World(new Date());
  tokenStatus = tokenStatusOf(w);
}, 60_000);
afterAll(async () => {
  await w?.close();
});

describe('requireSignature next to a proof guard: the request must be signed by the presenting holder', () => {
  const sigGuard = () => requireSignature({ keys: { keys: [w.app.publicJwk, w.agent.publicJwk, w.alice.publicJwk, stranger.publicJwk] } });
  const grantGuards = () => [sigGuard(), requireGrant({ resource: 'profile/email', action: 'read', owner: w.alice.did })] as const;

  it("vp+jwt grant signed by a stranger, or by the grant owner: SIGNER_NOT_HOLDER (401), nothing used up; then the holder's own signature is allowed once", async () => {
    const v = w.verifier({ tokenStatus });
    const grant = await w.grant();
    const vp = await bound(w.app, [grant.jwt], { url: EMAIL });
    for (const by of [stranger, w.alice]) {
      const d = await verifyRequest(request(EMAIL, { ...(await signed(by, EMAIL)), ...bearer(vp) }), v, ...grantGuards());
      expect([d.ok, d.status, codes(d)]).toEqual([false, 401, ['SIGNER_NOT_HOLDER']]);
      // The holder is not named (it did not sign this request) and the signature is reported refused.
      expect(d.holder).toBeUndefined();
      expect(d.signature?.ok).toBe(false);
      expect(d.spend).toBeUndefined();
    }
    // A refusal for who signed uses nothing up: a thief pairing the presentation with its own key
    // cannot burn it for its holder.
    const ok = await verifyRequest(request(EMAIL, { ...(await signed(w.app, EMAIL)), ...bearer(vp) }), v, ...grantGuards());
    expect(codes(ok)).toEqual([]);
    expect(ok).toMatchObject({ ok: true, holder: w.app.did, signature: { ok: true } });
    // Now used: not again, whoever signs.
    for (const by of [w.app, stranger]) {
      const again = await verifyRequest(request(EMAIL, { ...(await signed(by, EMAIL)), ...bearer(vp) }), v, ...grantGuards());
      expect(again.ok).toBe(false);
      expect(codes(again)).toEqual([by === w.app ? 'REPLAY_DETECTED' : 'SIGNER_NOT_HOLDER']);
    }
  });

  it("the stranger's signature, unused by its SIGNER_NOT_HOLDER refusal, still never carries the holder's presentation", async () => {
    const v = w.verifier({ tokenStatus });
    const grant = await w.grant();
    const sig = await signed(stranger, EMAIL);
    for (let i = 0; i < 3; i++) {
      const d = await verifyRequest(request(EMAIL, { ...sig, ...bearer(await bound(w.app, [grant.jwt], { url: EMAIL })) }), v, ...grantGuards());
      expect(codes(d)).toEqual(['SIGNER_NOT_HOLDER']);
    }
  });

  it('SD-JWT grant signed by a stranger: SIGNER_NOT_HOLDER, its KB-JWT nonce not used; signed by the grantee: allowed once', async () => {
    const v = w.verifier({ tokenStatus });
    const g = await sdGrant(w);
    const p = await sdPresent(g.token, { url: EMAIL, holder: w.app });
    const d = await verifyRequest(request(EMAIL, { ...(await signed(stranger, EMAIL)), ...bearer(p) }), v, ...grantGuards());
    expect([d.status, codes(d), d.holder]).toEqual([401, ['SIGNER_NOT_HOLDER'], undefined]);
    const ok = await verifyRequest(request(EMAIL, { ...(await signed(w.app, EMAIL)), ...bearer(p) }), v, ...grantGuards());
    expect(codes(ok)).toEqual([]);
    expect(ok).toMatchObject({ ok: true, holder: w.app.did, grant: { format: 'dc+sd-jwt' } });
    const again = await verifyRequest(request(EMAIL, { ...(await signed(w.app, EMAIL)), ...bearer(p) }), v, ...grantGuards());
    expect(codes(again)).toEqual(['REPLAY_DETECTED']);
  });

  it('the KB-JWT typ is read as the verifier reads it (RFC 7515 §4.1.9): any case, application/ optional; anything else is INVALID_TYP before any signature', async () => {
    const v = w.verifier({ tokenStatus });
    const g = await sdGrant(w);
    const guard = requireGrant({ resource: 'profile/email', action: 'read', owner: w.alice.did });
    /** The presentation with its KB-JWT re-signed by the grantee under header `typ`. */
    const withTyp = async (typ: unknown) => {
      const p = await sdPresent(g.token, { url: EMAIL, holder: w.app });
      const cut = p.lastIndexOf('~') + 1;
      const payload = JSON.parse(Buffer.from(p.slice(cut).split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
      const header = Buffer.from(JSON.stringify({ alg: w.app.signer.alg, typ })).toString('base64url');
      const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
      const sig = Buffer.from(await w.app.signer.sign(new TextEncoder().encode(`${header}.${body}`))).toString('base64url');
      return `${p.slice(0, cut)}${header}.${body}.${sig}`;
    };
    for (const typ of ['kb+jwt', 'KB+JWT', 'application/kb+jwt', 'Application/KB+jwt']) {
      const d = await verifyRequest(request(EMAIL, bearer(await withTyp(typ))), v, guard);
      expect([typ, codes(d)]).toEqual([typ, []]);
    }
    for (const typ of ['jwt', 'kb+jwt ', 'application/kb+jwt; x=1', 'kb-jwt', 'vp+jwt', '', 7, null]) {
      const d = await verifyRequest(request(EMAIL, bearer(await withTyp(typ))), v, guard);
      expect([typ, d.status, codes(d)]).toEqual([typ, 401, ['INVALID_TYP']]);
    }
  });

  it("an SD-JWT grant whose cnf key is not in the grantee's DID document proves no holder: HOLDER_MISMATCH, with or without a request signature", async () => {
    // The owner bound the grant to the app's DID but to the stranger's key: the KB-JWT is the stranger's to sign.
    const v = w.verifier({ tokenStatus });
    const g = await issueSdJwtGrant(w.home.store, w.alice, {
      grantee: w.app.did,
      resources: ['profile/email'],
      actions: ['read'],
      purpose: 'seam tests',
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: w.server.url,
      holderKey: stranger.publicJwk,
    });
    const p = await sdPresent(g.token, { url: EMAIL, holder: stranger });
    const d = await verifyRequest(request(EMAIL, { ...(await signed(stranger, EMAIL)), ...bearer(p) }), v, ...grantGuards());
    expect([d.status, codes(d)]).toEqual([403, ['HOLDER_MISMATCH']]);
    // Without requireSignature the key binding alone would have named the grantee as the caller.
    const alone = await verifyRequest(request(EMAIL, bearer(await sdPresent(g.token, { url: EMAIL, holder: stranger }))), v, grantGuards()[1]);
    expect([alone.status, codes(alone), alone.holder]).toEqual([403, ['HOLDER_MISMATCH'], undefined]);
    // Bound to the grantee's own key (the default), the grantee is the holder.
    const own = await issueSdJwtGrant(w.home.store, w.alice, {
      grantee: w.app.did,
      resources: ['profile/email'],
      actions: ['read'],
      purpose: 'seam tests',
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: w.server.url,
    });
    const ok = await verifyRequest(request(EMAIL, bearer(await sdPresent(own.token, { url: EMAIL, holder: w.app }))), v, grantGuards()[1]);
    expect([ok.status, ok.holder]).toEqual([200, w.app.did]);
  });

  it('an agent signed for by another key: SIGNER_NOT_HOLDER reserves no budget, however often it is tried', async () => {
    const v = w.verifier({ tokenStatus });
    // 50 USD a transaction, 100 USD over the budget's period: two payments fit, and only if nothing else is held.
    const creds = [w.agentIdentity, await w.mandate()];
    const guards = [sigGuard(), requireAgent({ action: 'purchase', amount: () => '50 USD', trust: { principals: [w.principal.did] } })] as const;
    for (const by of [stranger, w.app, w.alice, stranger, w.app]) {
      const d = await verifyRequest(
        request(ORDERS, { ...(await signed(by, ORDERS, 'POST')), ...bearer(await bound(w.agent, creds, { method: 'POST', url: ORDERS })) }, 'POST'),
        v,
        ...guards,
      );
      expect([d.status, codes(d), d.spend]).toEqual([401, ['SIGNER_NOT_HOLDER'], undefined]);
    }
    for (let i = 0; i < 2; i++) {
      const d = await verifyRequest(
        request(ORDERS, { ...(await signed(w.agent, ORDERS, 'POST')), ...bearer(await bound(w.agent, creds, { method: 'POST', url: ORDERS })) }, 'POST'),
        v,
        ...guards,
      );
      expect(codes(d)).toEqual([]);
      await d.spend!.commit();
    }
    // The budget is really counted (this test could fail): a third payment does not fit.
    const over = await verifyRequest(
      request(ORDERS, { ...(await signed(w.agent, ORDERS, 'POST')), ...bearer(await bound(w.agent, creds, { method: 'POST', url: ORDERS })) }, 'POST'),
      v,
      ...guards,
    );
    expect(codes(over)).toEqual(['BUDGET_EXCEEDED']);
  });
});

describe("requireMandate next to requireSignature: the signing key must be the chain's agent key", () => {
  const viGuards = () =>
    [
      requireMandate({ profile: 'verifiable-intent', trust: { issuers: [vw.issuer.publicJwk] } }),
      requireSignature({ keys: { keys: [vw.agent.publicJwk, vw.user.publicJwk, stranger.publicJwk, w.agent.publicJwk] } }),
    ] as const;
  const viToken = async (intent: Awaited<ReturnType<typeof viIntent>>, amount = '100', nonce?: string) =>
    mandateToken('verifiable-intent', await viPayment(vw, intent, { amount, aud: API, now: new Date(), ...(nonce ? { nonce } : {}) }));
  const agentUrn = () => THUMBPRINT_URN + jwkThumbprint(vw.agent.publicJwk);

  it('Verifiable Intent: signed by the agent key, allowed (the holder is its thumbprint URN); by the user, a stranger or a DID agent: SIGNER_NOT_HOLDER, nothing used or held', async () => {
    const v = w.verifier();
    const intent = await viIntent(vw, new Date(), { cumulative: { amount: '300', currency: 'USD', period: 'MONTHLY' } });
    const token = await viToken(intent, '150');
    // The user signed L2 and is the chain's principal, but did not make this request.
    for (const by of [vw.user, stranger, w.agent]) {
      for (let i = 0; i < 2; i++) {
        const d = await verifyRequest(request(PAY, { ...(await signed(by, PAY, 'POST')), ...bearer(await viToken(intent, '150')) }, 'POST'), v, ...viGuards());
        expect([d.status, codes(d), d.spend, d.holder]).toEqual([401, ['SIGNER_NOT_HOLDER'], undefined, undefined]);
      }
    }
    const bad = await verifyRequest(request(PAY, { ...(await signed(stranger, PAY, 'POST')), ...bearer(token) }, 'POST'), v, ...viGuards());
    expect(codes(bad)).toEqual(['SIGNER_NOT_HOLDER']);
    // Six refusals of 150 USD held nothing: two payments of 150 fit the 300 USD month.
    const ok = await verifyRequest(request(PAY, { ...(await signed(vw.agent, PAY, 'POST')), ...bearer(token) }, 'POST'), v, ...viGuards());
    expect(codes(ok)).toEqual([]);
    expect(ok).toMatchObject({ ok: true, holder: agentUrn(), signature: { ok: true } });
    await ok.spend!.commit();
    const second = await verifyRequest(request(PAY, { ...(await signed(vw.agent, PAY, 'POST')), ...bearer(await viToken(intent, '150')) }, 'POST'), v, ...viGuards());
    expect(codes(second)).toEqual([]);
    await second.spend!.commit();
    const third = await verifyRequest(request(PAY, { ...(await signed(vw.agent, PAY, 'POST')), ...bearer(await viToken(intent, '150')) }, 'POST'), v, ...viGuards());
    expect(codes(third)).toEqual(['BUDGET_EXCEEDED']);
    // The chain's nonce was used by the allowed request: never again.
    const again = await verifyRequest(request(PAY, { ...(await signed(vw.agent, PAY, 'POST')), ...bearer(token) }, 'POST'), v, ...viGuards());
    expect(codes(again)).toEqual(['REPLAY_DETECTED']);
  });

  it('AP2: signed by the agent key, allowed; by the root (the user) or a stranger: SIGNER_NOT_HOLDER', async () => {
    const v = w.verifier();
    const guards = [
      requireMandate({ profile: 'ap2', trust: { issuers: [aw.root.publicJwk], merchants: [aw.merchant.publicJwk] } }),
      requireSignature({ keys: { keys: [aw.agent.publicJwk, aw.root.publicJwk, stranger.publicJwk] } }),
    ] as const;
    const token = mandateToken('ap2', await ap2Payment(aw, { minor: 1500, aud: API, now: new Date() }));
    for (const by of [aw.root, stranger]) {
      const d = await verifyRequest(request(PAY, { ...(await signed(by, PAY, 'POST')), ...bearer(token) }, 'POST'), v, ...guards);
      expect([d.status, codes(d)]).toEqual([401, ['SIGNER_NOT_HOLDER']]);
    }
    const ok = await verifyRequest(request(PAY, { ...(await signed(aw.agent, PAY, 'POST')), ...bearer(token) }, 'POST'), v, ...guards);
    expect(codes(ok)).toEqual([]);
    expect(ok.holder).toBe(THUMBPRINT_URN + jwkThumbprint(aw.agent.publicJwk));
    await ok.spend?.commit();
  });

  it('proofs of another kind on a mandate route, and a mandate chain on a grant route, are never allowed', async () => {
    const v = w.verifier({ tokenStatus });
    const grant = await w.grant();
    const vp = await bound(w.app, [grant.jwt], { method: 'POST', url: PAY });
    const sd = await sdPresent((await sdGrant(w)).token, { url: PAY, method: 'POST', holder: w.app });
    for (const token of [vp, sd, `${vp}~`, '', 'e30', Buffer.from('[]').toString('base64url'), Buffer.from('null').toString('base64url')]) {
      const d = await verifyRequest(request(PAY, { ...(await signed(w.app, PAY, 'POST')), ...(token ? bearer(token) : {}) }, 'POST'), v, ...viGuards());
      expect(d.ok, token.slice(0, 30)).toBe(false);
      expect(d.status).toBe(401);
    }
    const intent = await viIntent(vw, new Date());
    const chain = mandateToken('ap2', await ap2Payment(aw, { minor: 100, aud: API, now: new Date() }));
    for (const token of [await viToken(intent), chain]) {
      const d = await verifyRequest(
        request(EMAIL, { ...(await signed(w.app, EMAIL)), ...bearer(token) }),
        v,
        requireSignature({ keys: { keys: [w.app.publicJwk] } }),
        requireGrant({ resource: 'profile/email', action: 'read', owner: w.alice.did }),
      );
      expect([d.ok, d.status]).toEqual([false, 401]);
    }
    // Through decide() directly, with the mandate as an object and as odd types: refused, never thrown.
    for (const proof of [await viPayment(vw, intent, { amount: '1', aud: API, now: new Date() }), 42, { l1: 1 }, ['x'], null]) {
      const d = await decide(v, proof, grantPolicy(w), http());
      expect([d.ok, d.status]).toEqual([false, 401]);
    }
  });
});

describe('SD-JWT grant terms through decide(): the declared use must fit, and the holder cannot hide them', () => {
  const terms = { purpose: ['research'], processing: 'on-device' } as const;
  let v: Verifier;
  beforeAll(() => {
    v = w.verifier({ tokenStatus });
  });
  const present = (token: string, disclose = ['grant.resources.0', 'grant.actions.0']) => sdPresent(token, { url: EMAIL, holder: w.app, disclose });
  const run = async (token: string, use: Partial<GrantPolicy>, disclose?: string[]) => decide(v, await present(token, disclose), grantPolicy(w, use), http());

  it('purpose marketing: PURPOSE_NOT_ALLOWED (403); no purpose declared: PURPOSE_NOT_ALLOWED; research on-device: allowed; research elsewhere: PROCESSING_NOT_ALLOWED', async () => {
    const g = await sdGrant(w, { terms: { purpose: [...terms.purpose], processing: terms.processing } });
    const cases: [Partial<GrantPolicy>, number, string[]][] = [
      [{ purpose: 'marketing', processing: 'on-device' }, 403, ['PURPOSE_NOT_ALLOWED']],
      [{ processing: 'on-device' }, 403, ['PURPOSE_NOT_ALLOWED']],
      [{}, 403, ['PURPOSE_NOT_ALLOWED', 'PROCESSING_NOT_ALLOWED']],
      [{ purpose: 'research', processing: 'trusted-execution' }, 403, ['PROCESSING_NOT_ALLOWED']],
      [{ purpose: 'research' }, 403, ['PROCESSING_NOT_ALLOWED']],
      [{ purpose: 'x-research', processing: 'on-device' }, 403, ['PURPOSE_NOT_ALLOWED']],
      [{ purpose: 'research-ext', processing: 'on-device' }, 403, ['PURPOSE_NOT_ALLOWED']],
      [{ purpose: 'research', processing: 'on-device' }, 200, []],
    ];
    for (const [use, status, want] of cases) {
      const d = await run(g.token, use);
      expect([d.status, codes(d)], JSON.stringify(use)).toEqual([status, want]);
      // A refusal on the merits still names the (authenticated) holder; it reserves nothing.
      expect(d.spend).toBeUndefined();
    }
  });

  it('issueSdJwtGrant never makes terms (or purpose, constraints) disclosable; they travel in clear', async () => {
    const g = await sdGrant(w, { terms: { purpose: ['research'], processing: 'on-device' } });
    expect(g.disclosable.filter((p) => !/^grant\.(resources|actions)\.\d+$/.test(p))).toEqual([]);
    const payload = JSON.parse(Buffer.from(g.token.split('~')[0]!.split('.')[1]!, 'base64url').toString()) as { grant: Record<string, unknown> };
    expect(payload.grant.terms).toEqual({ purpose: ['research'], processing: 'on-device' });
    expect(Object.keys(payload.grant)).not.toContain('_sd');
    for (const disclosable of [['terms'], ['purpose'], ['constraints'], ['grant.terms'], ['resources', 'terms']]) {
      await expect(
        issueSdJwtGrant(w.home.store, w.alice, {
          grantee: w.app.did,
          resources: ['profile/email'],
          actions: ['read'],
          purpose: 'p',
          terms: { purpose: ['research'] },
          validUntil: new Date(Date.now() + 86_400_000),
          baseUrl: w.server.url,
          disclosable: disclosable as never,
        }),
        JSON.stringify(disclosable),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
  });

  it('withholding every permission but one still leaves the terms applied', async () => {
    const g = await sdGrant(w, { terms: { purpose: ['research'], processing: 'on-device' } });
    expect(codes(await run(g.token, { purpose: 'marketing', processing: 'on-device' }, ['grant.resources.0', 'grant.actions.0']))).toEqual(['PURPOSE_NOT_ALLOWED']);
    expect(codes(await run(g.token, { purpose: 'marketing', processing: 'on-device' }, []))).toEqual(expect.arrayContaining(['PURPOSE_NOT_ALLOWED', 'GRANT_SCOPE']));
  });

  it('a grant whose terms an owner signed as selectively disclosable: withheld, it is refused; it never allows a use outside them', async () => {
    const grant = { resources: ['profile/email'], actions: ['read'], purpose: 'seam tests', terms: { purpose: ['research'], processing: 'on-device' } };
    for (const disclosable of [
      ['grant.terms'],
      ['grant.terms.processing'],
      ['grant.terms.purpose'],
      ['grant.terms.purpose', 'grant.terms.processing'],
      ['grant.terms', 'grant.resources.0'],
    ]) {
      const odd = await oddSdGrant(w, grant, disclosable);
      // The holder withholds every disclosure of the terms (it discloses only the permissions).
      const show = disclosable.includes('grant.resources.0') ? ['grant.resources.0'] : [];
      for (const use of [
        { purpose: 'marketing', processing: 'on-device' },
        {},
        { purpose: 'research' },
        { processing: 'trusted-execution' as const, purpose: 'research' },
      ] as Partial<GrantPolicy>[]) {
        const d = await decide(v, await sdPresent(odd.token, { url: EMAIL, holder: w.app, disclose: show }), grantPolicy(w, use), http());
        expect([d.ok, d.status, codes(d)], `${disclosable.join(',')} ${JSON.stringify(use)}`).toEqual([false, 401, expect.arrayContaining(['DISCLOSURE_INVALID'])]);
        expect(d.holder).toBeUndefined();
      }
      // Shown, they are refused too: the same grant could be presented without them next time.
      for (const use of [
        { purpose: 'marketing', processing: 'on-device' },
        { purpose: 'research', processing: 'on-device' },
      ] as Partial<GrantPolicy>[]) {
        const shown = await decide(v, await sdPresent(odd.token, { url: EMAIL, holder: w.app, disclose: ['grant'] }), grantPolicy(w, use), http());
        expect([shown.ok, codes(shown)], `${disclosable.join(',')} shown`).toEqual([false, expect.arrayContaining(['DISCLOSURE_INVALID'])]);
      }
    }
  });

  it('a grant disclosable only as a whole (terms inside it): withheld, no grant; shown, its terms apply', async () => {
    const odd = await oddSdGrant(w, { resources: ['profile/email'], actions: ['read'], purpose: 'seam tests', terms: { purpose: ['research'], processing: 'on-device' } }, [
      'grant',
    ]);
    const as = async (disclose: string[], use: Partial<GrantPolicy>) => decide(v, await sdPresent(odd.token, { url: EMAIL, holder: w.app, disclose }), grantPolicy(w, use), http());
    expect((await as([], { purpose: 'marketing', processing: 'on-device' })).ok).toBe(false);
    expect(codes(await as(['grant'], { purpose: 'marketing', processing: 'on-device' }))).toEqual(['PURPOSE_NOT_ALLOWED']);
    expect(codes(await as(['grant'], {}))).toEqual(['PURPOSE_NOT_ALLOWED', 'PROCESSING_NOT_ALLOWED']);
    expect(codes(await as(['grant'], { purpose: 'research', processing: 'on-device' }))).toEqual([]);
  });

  it('property: whatever an issuer made disclosable and a holder withheld, a grant is allowed only for a use inside its terms, and only with its restrictions in clear', async () => {
    const RESTRICTIONS = ['grant.terms', 'grant.terms.purpose', 'grant.terms.purpose.0', 'grant.terms.processing', 'grant.purpose', 'grant.constraints'];
    const PERMISSIONS = ['grant.resources.0', 'grant.actions.0'];
    const USES: Partial<GrantPolicy>[] = [
      { purpose: 'research', processing: 'on-device' },
      { purpose: 'marketing', processing: 'on-device' },
      { purpose: 'research' },
      { processing: 'on-device' },
      {},
    ];
    const grant = {
      resources: ['profile/email'],
      actions: ['read'],
      purpose: 'seam tests',
      constraints: {},
      terms: { purpose: ['research'], processing: 'on-device' },
    };
    await fc.assert(
      fc.asyncProperty(
        fc.subarray([...RESTRICTIONS, ...PERMISSIONS]),
        fc.subarray([...RESTRICTIONS, ...PERMISSIONS]),
        fc.constantFrom(...USES),
        async (disclosable, shown, use) => {
          const odd = await oddSdGrant(w, grant, disclosable);
          const disclose = shown.filter((p) => disclosable.some((d) => d === p || d.startsWith(`${p}.`) || p.startsWith(`${d}.`)));
          const d = await decide(v, await sdPresent(odd.token, { url: EMAIL, holder: w.app, disclose }), grantPolicy(w, use), http());
          const inClear = disclosable.every((p) => PERMISSIONS.includes(p));
          const permitted = PERMISSIONS.every((p) => !disclosable.includes(p) || disclose.includes(p));
          const inside = use.purpose === 'research' && use.processing === 'on-device';
          expect(d.ok, JSON.stringify({ disclosable, disclose, use, reasons: codes(d) })).toBe(inClear && permitted && inside);
          if (!inClear) expect(codes(d)).toContain('DISCLOSURE_INVALID');
        },
      ),
      { numRuns: Number(process.env.SEAM_RUNS ?? 40) },
    );
  }, 60_000);

  it('a hand-made grant whose terms hide behind a digest, with or without the disclosure: refused; a decoy digest in the grant is refused too', async () => {
    // Built on a real grant of alice's (its status entry and cnf), re-signed by alice with the terms moved behind "_sd".
    const real = await sdGrant(w, { terms: { purpose: ['research'], processing: 'on-device' } });
    const payload = JSON.parse(Buffer.from(real.token.split('~')[0]!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    const termsDisclosure = disclosure([salt(), 'terms', { purpose: ['research'], processing: 'on-device' }]);
    const hidden = { ...payload, grant: { resources: ['profile/email'], actions: ['read'], purpose: 'seam tests', _sd: [termsDisclosure.digest] } };
    const decoy = { ...payload, grant: { resources: ['profile/email'], actions: ['read'], purpose: 'seam tests', _sd: [disclosure([salt(), 'x', 1]).digest] } };
    const header = { typ: 'dc+sd-jwt' };
    const tokens = {
      withheld: await craft(w.alice, hidden, [], header),
      shown: await craft(w.alice, hidden, [termsDisclosure.encoded], header),
      decoy: await craft(w.alice, decoy, [], header),
    };
    // A digest in the grant object could be a withheld restriction: the grant is not taken as it stands, whatever the use.
    for (const [name, token] of Object.entries(tokens)) {
      for (const use of [{ purpose: 'marketing' }, { purpose: 'research', processing: 'on-device' }] as Partial<GrantPolicy>[]) {
        const p = await sdPresent(token, { url: EMAIL, holder: w.app, disclose: name === 'shown' ? ['grant.terms'] : [] });
        if (name === 'shown') expect(p.split('~')).toContain(termsDisclosure.encoded);
        const d = await decide(v, p, grantPolicy(w, use), http());
        expect([d.ok, codes(d)], `${name} ${JSON.stringify(use)}`).toEqual([false, expect.arrayContaining(['DISCLOSURE_INVALID'])]);
      }
    }
    // The control: the same hand-made grant with the terms in clear is allowed for a use inside them.
    const clear = await craft(
      w.alice,
      { ...payload, grant: { resources: ['profile/email'], actions: ['read'], purpose: 'seam tests', terms: { purpose: ['research'], processing: 'on-device' } } },
      [],
      header,
    );
    expect(
      codes(await decide(v, await sdPresent(clear, { url: EMAIL, holder: w.app, disclose: [] }), grantPolicy(w, { purpose: 'research', processing: 'on-device' }), http())),
    ).toEqual([]);
  });

  it('a holder cannot strip the terms from the issuer-signed part, nor replace them with a disclosure of its own', async () => {
    const g = await sdGrant(w, { terms: { purpose: ['research'], processing: 'on-device' } });
    const [jwt, ...rest] = g.token.split('~');
    const stripped = [tamper(jwt!, 1, (p) => void delete (p.grant as Record<string, unknown>).terms), ...rest].join('~');
    const d = await decide(v, await sdPresent(stripped, { url: EMAIL, holder: w.app, disclose: ['grant'] }), grantPolicy(w, { purpose: 'marketing' }), http());
    expect([d.ok, d.status, codes(d)]).toEqual([false, 401, ['INVALID_SIGNATURE']]);
    // A disclosure the issuer never referenced ("terms" = anything goes) is refused, not merged.
    const p = await present(g.token);
    const parts = p.split('~');
    const kb = parts.pop()!;
    const forged = [...parts, disclosure([salt(), 'terms', { processing: 'any' }]).encoded, kb].join('~');
    const f = await decide(v, forged, grantPolicy(w, { purpose: 'marketing' }), http());
    expect([f.ok, f.status]).toEqual([false, 401]);
    expect(codes(f)).toEqual(expect.arrayContaining(['DISCLOSURE_INVALID']));
  });
});

describe('one nonce, several proof kinds (challenge mode): used once across kinds', () => {
  it('a nonce answered by an SD-JWT KB-JWT cannot be answered again by a vp+jwt or a mandate chain, and the other way round', async () => {
    const v = w.verifier({ tokenStatus, nonces: 'challenge' });
    const g = await sdGrant(w);
    const grant = await w.grant();
    const intent = await viIntent(vw, new Date());
    const sd = async (nonce: string) => decide(v, await sdPresent(g.token, { url: EMAIL, holder: w.app, nonce }), grantPolicy(w), http());
    const vp = async (nonce: string) => decide(v, await bound(w.app, [grant.jwt], { url: EMAIL, nonce }), grantPolicy(w), http());
    const pay = async (nonce: string) =>
      decide(
        v,
        await viPayment(vw, intent, { amount: '10', aud: API, now: new Date(), nonce }),
        { kind: 'mandate', profile: 'verifiable-intent', trust: { issuers: [vw.issuer.publicJwk] } },
        http(PAY, 'POST'),
      );
    const kinds = { sd, vp, pay };
    for (const [first, second] of [
      ['sd', 'vp'],
      ['vp', 'sd'],
      ['sd', 'pay'],
      ['pay', 'sd'],
      ['vp', 'pay'],
      ['pay', 'vp'],
    ] as const) {
      const { nonce } = await v.issueNonce();
      const a = await kinds[first](nonce);
      expect(codes(a), `${first} first`).toEqual([]);
      await a.spend?.release();
      const b = await kinds[second](nonce);
      expect([b.status, codes(b)], `${second} after ${first}`).toEqual([401, ['REPLAY_DETECTED']]);
      expect(b.spend).toBeUndefined();
    }
    // A nonce this verifier never issued: refused in every kind.
    for (const k of Object.values(kinds)) expect(codes(await k(`made-up-${randomUUID()}`))).toEqual(['NONCE_MISMATCH']);
  });

  it("a mandate chain's nonce is used once (iat mode): REPLAY_DETECTED, even through another transport's binding", async () => {
    const v = w.verifier();
    const intent = await viIntent(vw, new Date());
    const chain = await viPayment(vw, intent, { amount: '10', aud: API, now: new Date() });
    const policy = { kind: 'mandate' as const, profile: 'verifiable-intent' as const, trust: { issuers: [vw.issuer.publicJwk] } };
    expect(codes(await decide(v, chain, policy, http(PAY, 'POST')))).toEqual([]);
    for (const binding of [http(PAY, 'POST'), { kind: 'none' as const }, { kind: 'claims' as const, claims: { mcp: { tool: 'pay', args: '{}' } } }]) {
      expect(codes(await decide(v, chain, policy, binding)), binding.kind).toEqual(['REPLAY_DETECTED']);
    }
    // As its Bearer wire form, too.
    expect(codes(await decide(v, mandateToken('verifiable-intent', chain), policy, http(PAY, 'POST')))).toEqual(['REPLAY_DETECTED']);
  });
});

describe('a replayed signature next to a fresh presentation', () => {
  it('SIGNATURE_REPLAYED, no spend reserved; the presentation that rode it is used up (fail closed)', async () => {
    const v = w.verifier();
    const creds = [w.agentIdentity, await w.mandate()];
    const guards = [
      requireSignature({ keys: { keys: [w.agent.publicJwk] } }),
      requireAgent({ action: 'purchase', amount: () => '50 USD', trust: { principals: [w.principal.did] } }),
    ] as const;
    const vp = () => bound(w.agent, creds, { method: 'POST', url: ORDERS });
    const sig = await signed(w.agent, ORDERS, 'POST');
    const first = await verifyRequest(request(ORDERS, { ...sig, ...bearer(await vp()) }, 'POST'), v, ...guards);
    expect(codes(first)).toEqual([]);
    await first.spend!.commit();
    const rode: string[] = [];
    for (let i = 0; i < 4; i++) {
      const p = await vp();
      rode.push(p);
      const d = await verifyRequest(request(ORDERS, { ...sig, ...bearer(p) }, 'POST'), v, ...guards);
      expect([d.status, codes(d), d.spend, d.signature?.ok]).toEqual([401, ['SIGNATURE_REPLAYED'], undefined, false]);
    }
    // Four replays of 50 USD held nothing: the second 50 of the 100 USD budget still fits.
    const second = await verifyRequest(request(ORDERS, { ...(await signed(w.agent, ORDERS, 'POST')), ...bearer(await vp()) }, 'POST'), v, ...guards);
    expect(codes(second)).toEqual([]);
    await second.spend!.release();
    // The presentations that came with a replayed signature were authentic, so they are spent.
    const reuse = await verifyRequest(request(ORDERS, { ...(await signed(w.agent, ORDERS, 'POST')), ...bearer(rode[0]!) }, 'POST'), v, ...guards);
    expect(codes(reuse)).toEqual(['REPLAY_DETECTED']);
  });

  it('the same with a payment mandate chain: SIGNATURE_REPLAYED, nothing reserved on its cumulative limit', async () => {
    const v = w.verifier();
    const intent = await viIntent(vw, new Date(), { cumulative: { amount: '200', currency: 'USD', period: 'MONTHLY' } });
    const guards = [
      requireMandate({ profile: 'verifiable-intent', trust: { issuers: [vw.issuer.publicJwk] } }),
      requireSignature({ keys: { keys: [vw.agent.publicJwk] } }),
    ] as const;
    const token = async () => mandateToken('verifiable-intent', await viPayment(vw, intent, { amount: '200', aud: API, now: new Date() }));
    const sig = await signed(vw.agent, PAY, 'POST');
    const first = await verifyRequest(request(PAY, { ...sig, ...bearer(await token()) }, 'POST'), v, ...guards);
    expect(codes(first)).toEqual([]);
    await first.spend!.release();
    for (let i = 0; i < 3; i++) {
      const d = await verifyRequest(request(PAY, { ...sig, ...bearer(await token()) }, 'POST'), v, ...guards);
      expect([codes(d), d.spend]).toEqual([['SIGNATURE_REPLAYED'], undefined]);
    }
    const ok = await verifyRequest(request(PAY, { ...(await signed(vw.agent, PAY, 'POST')), ...bearer(await token()) }, 'POST'), v, ...guards);
    expect(codes(ok)).toEqual([]);
    await ok.spend!.release();
  });
});

describe('a token re-spelt with non-zero pad bits in its signature (the same bytes, another string)', () => {
  const B64U = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  /** Every other spelling of a compact JWS whose signature decodes to the same bytes. */
  const aliases = (jwt: string) => {
    const i = B64U.indexOf(jwt.at(-1)!);
    const sig = (t: string) => Buffer.from(t.split('.')[2]!, 'base64url');
    return [1, 2, 3, 4, 8, 15].map((f) => jwt.slice(0, -1) + B64U[i ^ f]!).filter((t) => t !== jwt && sig(t).equals(sig(jwt)));
  };

  it('an agent presentation: MALFORMED_JWT (401) for each alias, concurrently, nothing reserved or used up; the original is then allowed once', async () => {
    const v = w.verifier();
    const guard = requireAgent({ action: 'purchase', amount: () => '50 USD', trust: { principals: [w.principal.did] } });
    const vp = await bound(w.agent, [w.agentIdentity, await w.mandate()], { method: 'POST', url: ORDERS });
    const spelt = aliases(vp);
    expect(spelt.length).toBeGreaterThan(0);
    const refused = await Promise.all(spelt.map((t) => verifyRequest(request(ORDERS, bearer(t), 'POST'), v, guard)));
    for (const d of refused) expect([d.status, codes(d), d.spend, d.holder]).toEqual([401, ['MALFORMED_JWT'], undefined, undefined]);
    // Nothing was used up or held: the 100 USD budget still takes two orders of 50, and the original's jti is fresh.
    const first = await verifyRequest(request(ORDERS, bearer(vp), 'POST'), v, guard);
    expect(codes(first)).toEqual([]);
    await first.spend!.commit();
    expect(codes(await verifyRequest(request(ORDERS, bearer(vp), 'POST'), v, guard))).toEqual(['REPLAY_DETECTED']);
    const second = await verifyRequest(request(ORDERS, bearer(await bound(w.agent, [w.agentIdentity, await w.mandate()], { method: 'POST', url: ORDERS })), 'POST'), v, guard);
    expect(codes(second)).toEqual([]);
    await second.spend!.release();
  });

  it('a grant re-spelt inside an authentic presentation: MALFORMED_JWT (401), its jti not used up; the grant as issued is allowed', async () => {
    const v = w.verifier();
    const guard = requireGrant({ resource: 'profile/email', action: 'read', owner: w.alice.did });
    const grant = (await w.grant()).jwt;
    const spelt = aliases(grant);
    expect(spelt.length).toBeGreaterThan(0);
    for (const inner of spelt) {
      const vp = await bound(w.app, [inner]);
      // The presentation is signed by its holder, but the credential in it does not decode: refused as a
      // forged grant would be (401), naming no holder and using nothing up, so the same bytes again get
      // the same answer, not REPLAY_DETECTED.
      for (let i = 0; i < 2; i++) {
        const d = await verifyRequest(request(EMAIL, bearer(vp)), v, guard);
        expect([d.ok, d.status, d.holder, codes(d)]).toEqual([false, 401, undefined, ['MALFORMED_JWT', 'GRANT_MISSING']]);
      }
    }
    const ok = await verifyRequest(request(EMAIL, bearer(await bound(w.app, [grant]))), v, guard);
    expect(codes(ok)).toEqual([]);
  });
});

describe('two verifiers of one audience in different freshness modes, sharing one store', () => {
  // A migration between 'iat' and 'challenge' mode, or two instances configured differently: a proof
  // carrying both a jti and an issued nonce is used up under both keys, so it is accepted once.
  const pair = () => ({ iat: w.verifier({ tokenStatus }), challenge: w.verifier({ tokenStatus, nonces: 'challenge' }) });

  it('a vp+jwt with a jti and an issued nonce: allowed by one mode, then a replay in the other, in either order', async () => {
    const g = (await w.grant()).jwt;
    for (const first of ['iat', 'challenge'] as const) {
      const v = pair();
      const second = first === 'iat' ? 'challenge' : 'iat';
      const vp = await bound(w.app, [g], { url: EMAIL, nonce: (await v.challenge.issueNonce()).nonce });
      expect(codes(await decide(v[first], vp, grantPolicy(w), http()))).toEqual([]);
      expect(codes(await decide(v[second], vp, grantPolicy(w), http()))).toEqual(['REPLAY_DETECTED']);
      expect(codes(await decide(v[first], vp, grantPolicy(w), http()))).toEqual(['REPLAY_DETECTED']);
    }
  });

  it('the same vp+jwt sent to both at once, N times: at most one allowed', async () => {
    const v = pair();
    const vp = await bound(w.app, [(await w.grant()).jwt], { url: EMAIL, nonce: (await v.challenge.issueNonce()).nonce });
    const ds = await Promise.all(Array.from({ length: 8 }, (_, i) => decide(i % 2 ? v.iat : v.challenge, vp, grantPolicy(w), http())));
    expect(ds.filter((d) => d.ok).length).toBeLessThanOrEqual(1);
    for (const d of ds.filter((x) => !x.ok)) expect(codes(d)).toEqual(['REPLAY_DETECTED']);
  });

  it('an SD-JWT presentation (its KB-JWT nonce issued by the challenge verifier): accepted once across both modes', async () => {
    const g = await sdGrant(w);
    for (const first of ['iat', 'challenge'] as const) {
      const v = pair();
      const second = first === 'iat' ? 'challenge' : 'iat';
      const p = await sdPresent(g.token, { url: EMAIL, holder: w.app, nonce: (await v.challenge.issueNonce()).nonce });
      expect(codes(await decide(v[first], p, grantPolicy(w), http()))).toEqual([]);
      expect(codes(await decide(v[second], p, grantPolicy(w), http()))).toEqual(['REPLAY_DETECTED']);
    }
  });

  it('in iat mode a nonce is not used up: presentations carrying one verifier-given nonce, each with its own jti, are each accepted once', async () => {
    const v = pair();
    const g = (await w.grant()).jwt;
    const [a, b] = [await bound(w.app, [g], { url: EMAIL, nonce: 'session-nonce' }), await bound(w.app, [g], { url: EMAIL, nonce: 'session-nonce' })];
    expect(codes(await decide(v.iat, a, grantPolicy(w), http()))).toEqual([]);
    expect(codes(await decide(v.iat, b, grantPolicy(w), http()))).toEqual([]);
    expect(codes(await decide(v.iat, a, grantPolicy(w), http()))).toEqual(['REPLAY_DETECTED']);
  });

  it('a vp+jwt without a nonce is used up once in iat mode, and is no proof in challenge mode', async () => {
    const v = pair();
    const vp = await bound(w.app, [(await w.grant()).jwt], { url: EMAIL });
    expect(codes(await decide(v.iat, vp, grantPolicy(w), http()))).toEqual([]);
    expect((await decide(v.challenge, vp, grantPolicy(w), http())).ok).toBe(false);
    expect(codes(await decide(v.iat, vp, grantPolicy(w), http()))).toEqual(['REPLAY_DETECTED']);
  });
});

describe('races: N concurrent identical requests, one nonce', () => {
  const N = 8;
  const oneOk = (ds: GuardDecision[], replay: string) => {
    expect(ds.filter((d) => d.ok)).toHaveLength(1);
    expect(ds.filter((d) => !d.ok).map(codes)).toEqual(Array(N - 1).fill([replay]));
  };

  it('one signature nonce on a signature-only route: exactly one allowed', async () => {
    const v = w.verifier();
    const g = requireSignature({ keys: { keys: [w.agent.publicJwk] } });
    const sig = await signed(w.agent, ORDERS);
    oneOk(await Promise.all(Array.from({ length: N }, () => verifyRequest(request(ORDERS, sig), v, g))), 'SIGNATURE_REPLAYED');
  });

  it('one KB-JWT nonce (one SD-JWT presentation): exactly one allowed, in iat and in challenge mode', async () => {
    const g = await sdGrant(w);
    const p = await sdPresent(g.token, { url: EMAIL, holder: w.app });
    oneOk(await Promise.all(Array.from({ length: N }, () => decide(w.verifier({ tokenStatus }), p, grantPolicy(w), http()))), 'REPLAY_DETECTED');
    const cv = w.verifier({ tokenStatus, nonces: 'challenge' });
    const c = await sdPresent(g.token, { url: EMAIL, holder: w.app, nonce: (await cv.issueNonce()).nonce });
    oneOk(await Promise.all(Array.from({ length: N }, () => decide(cv, c, grantPolicy(w), http()))), 'REPLAY_DETECTED');
  });

  it('one signature and one SD-JWT presentation together: exactly one allowed', async () => {
    const v = w.verifier({ tokenStatus });
    const g = await sdGrant(w);
    const headers = { ...(await signed(w.app, EMAIL)), ...bearer(await sdPresent(g.token, { url: EMAIL, holder: w.app })) };
    const guards = [requireSignature({ keys: { keys: [w.app.publicJwk] } }), requireGrant({ resource: 'profile/email', action: 'read', owner: w.alice.did })] as const;
    oneOk(await Promise.all(Array.from({ length: N }, () => verifyRequest(request(EMAIL, headers), v, ...guards))), 'REPLAY_DETECTED');
  });

  it('one signature nonce under N fresh agent presentations: one allowed, one spend reserved', async () => {
    const v = w.verifier();
    const creds = [w.agentIdentity, await w.mandate()];
    const guards = [
      requireSignature({ keys: { keys: [w.agent.publicJwk] } }),
      requireAgent({ action: 'purchase', amount: () => '50 USD', trust: { principals: [w.principal.did] } }),
    ] as const;
    const sig = await signed(w.agent, ORDERS, 'POST');
    const vps = await Promise.all(Array.from({ length: N }, () => bound(w.agent, creds, { method: 'POST', url: ORDERS })));
    const ds = await Promise.all(vps.map((p) => verifyRequest(request(ORDERS, { ...sig, ...bearer(p) }, 'POST'), v, ...guards)));
    oneOk(ds, 'SIGNATURE_REPLAYED');
    expect(ds.filter((d) => d.spend)).toHaveLength(1);
    await ds.find((d) => d.ok)!.spend!.commit();
  });

  it('one mandate chain: exactly one payment allowed and reserved', async () => {
    const v = w.verifier();
    const intent = await viIntent(vw, new Date(), { cumulative: { amount: '1000', currency: 'USD', period: 'MONTHLY' } });
    const chain = await viPayment(vw, intent, { amount: '100', aud: API, now: new Date() });
    const ds = await Promise.all(
      Array.from({ length: N }, () => decide(v, chain, { kind: 'mandate', profile: 'verifiable-intent', trust: { issuers: [vw.issuer.publicJwk] } }, { kind: 'none' })),
    );
    oneOk(ds, 'REPLAY_DETECTED');
    expect(ds.filter((d) => d.spend)).toHaveLength(1);
  });
});

const pgUrl = pgUrlOrReport('pipeline seams on postgres');
describe.runIf(pgUrl)('races on PostgreSQL: four verifier instances on their own connections, one store', () => {
  const schemas = new Set<string>();
  afterAll(() => dropSchemas(pgUrl!, schemas));
  const N = 12;

  it('one signature nonce, one KB-JWT nonce, one mandate nonce: exactly one allowed across instances, each decision receipted', async () => {
    const schema = freshSchema('seams');
    schemas.add(schema);
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore(pgUrl!, { schema, poolSize: 2 })));
    try {
      const vs = stores.map((store) => w.verifier({ store, tokenStatus, receipts: { signer: w.operator } }));
      const on = (i: number) => vs[i % vs.length]!;
      const oneOk = (ds: GuardDecision[], replay: string) => {
        expect(ds.filter((d) => d.ok)).toHaveLength(1);
        expect(ds.filter((d) => !d.ok).map(codes)).toEqual(Array(N - 1).fill([replay]));
        expect(ds.every((d) => typeof d.receipt === 'string')).toBe(true);
      };
      const sig = await signed(w.agent, ORDERS);
      const g = requireSignature({ keys: { keys: [w.agent.publicJwk] } });
      oneOk(await Promise.all(Array.from({ length: N }, (_, i) => verifyRequest(request(ORDERS, sig), on(i), g))), 'SIGNATURE_REPLAYED');

      const p = await sdPresent((await sdGrant(w)).token, { url: EMAIL, holder: w.app });
      oneOk(await Promise.all(Array.from({ length: N }, (_, i) => decide(on(i), p, grantPolicy(w), http()))), 'REPLAY_DETECTED');

      const intent = await viIntent(vw, new Date(), { cumulative: { amount: '1000', currency: 'USD', period: 'MONTHLY' } });
      const chain = await viPayment(vw, intent, { amount: '100', aud: API, now: new Date() });
      const paid = await Promise.all(
        Array.from({ length: N }, (_, i) => decide(on(i), chain, { kind: 'mandate', profile: 'verifiable-intent', trust: { issuers: [vw.issuer.publicJwk] } }, { kind: 'none' })),
      );
      oneOk(paid, 'REPLAY_DETECTED');
      expect(paid.filter((d) => d.spend)).toHaveLength(1);
      await paid.find((d) => d.ok)!.spend!.release();

      // One signature under N fresh agent presentations: one allowed, one spend reserved.
      const creds = [w.agentIdentity, await w.mandate()];
      const guards = [
        requireSignature({ keys: { keys: [w.agent.publicJwk] } }),
        requireAgent({ action: 'purchase', amount: () => '50 USD', trust: { principals: [w.principal.did] } }),
      ] as const;
      const orderSig = await signed(w.agent, ORDERS, 'POST');
      const vps = await Promise.all(Array.from({ length: N }, () => bound(w.agent, creds, { method: 'POST', url: ORDERS })));
      const orders = await Promise.all(vps.map((vp, i) => verifyRequest(request(ORDERS, { ...orderSig, ...bearer(vp) }, 'POST'), on(i), ...guards)));
      oneOk(orders, 'SIGNATURE_REPLAYED');
      expect(orders.filter((d) => d.spend)).toHaveLength(1);
      await orders.find((d) => d.ok)!.spend!.release();
      await Promise.all(vs.map((x) => x.receipts!.flush()));
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  }, 60_000);
});
