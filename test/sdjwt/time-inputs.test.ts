import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPresentation, decodeJwt, issueCredential, verifyPresentation } from '../../src/credentials/index.js';
import { createResolver } from '../../src/did/index.js';
import { HTTP_STATUS, isCharterError } from '../../src/errors.js';
import { issueSdJwtGrant, issueSdJwtVc, presentSdJwtVc, verifySdJwtGrant, verifySdJwtVc, type VerifySdJwtVcOptions } from '../../src/sdjwt/index.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { makeIssuer, removeTempDirs, tempDir } from '../helpers.js';
import { basePayload, craft } from './craft.js';
import { AUD, NONCE, grantPayload, nowS, statusFrom, withKb } from './kb-craft.js';

/**
 * Dates the caller has signed are read as issueCredential reads validFrom and validUntil (a valid Date,
 * years 0000-9999, else INVALID_ARGUMENT), and a key binding JWT out of its time is a stale presentation
 * (PRESENTATION_STALE / ISSUED_IN_FUTURE, HTTP 401) as a vp+jwt is, not an expired credential (403).
 */
const resolver = createResolver();
const issuer = makeIssuer();
const holder = makeIssuer('P-256');
const VCT = 'https://example.com/vct/Email';
const base = { issuer, subject: holder.did, vct: VCT, claims: { email: 'a@b.c' } };
afterAll(() => removeTempDirs());
const codes = (r: { reasons: { code: string }[] }) => [...new Set(r.reasons.map((x) => x.code))].sort();

async function failure(p: Promise<unknown>): Promise<{ name: string; code?: string; message: string } | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return { name: (e as Error).constructor.name, ...(isCharterError(e) ? { code: e.code } : {}), message: (e as Error).message };
  }
}

/** What issueCredential answers for the same date, the rule issueSdJwtVc follows. */
const credentialAnswer = (name: 'validFrom' | 'validUntil', d: unknown) =>
  failure(issueCredential({ issuer, subject: holder.did, type: 'ExampleCredential', claims: {}, [name]: d as Date }));

const BAD_DATES: [string, unknown][] = [
  ['Invalid Date', new Date(NaN)],
  ['a string', '2099-01-01'],
  ['an RFC 3339 string', '2099-01-01T00:00:00Z'],
  ['a number', 4_070_908_800_000],
  ['null', null],
  ['a date-like object', { getTime: () => 4_070_908_800_000 }],
  ['the year 10000', new Date('+010000-01-01T00:00:00Z')],
  ['the year -1', new Date(Date.UTC(-1, 0, 1))],
];

describe('issueSdJwtVc: validFrom and validUntil as issueCredential takes them', () => {
  it('refuses what is no valid Date in 0000-9999 with INVALID_ARGUMENT, as issueCredential does (never a raw TypeError)', async () => {
    for (const name of ['validFrom', 'validUntil'] as const) {
      for (const [what, d] of BAD_DATES) {
        const sd = await failure(issueSdJwtVc({ ...base, [name]: d as Date, ...(name === 'validFrom' ? { validUntil: new Date('9999-12-31T00:00:00Z') } : {}) }));
        expect([name, what, sd?.name, sd?.code]).toEqual([name, what, 'CharterError', 'INVALID_ARGUMENT']);
        expect([name, what, (await credentialAnswer(name, d))?.code]).toEqual([name, what, 'INVALID_ARGUMENT']);
      }
    }
  });

  it('an SD-JWT grant passes its validFrom through the same rule', async () => {
    const store = await openSqliteStore(join(tempDir(), 'grant.db'));
    try {
      const input = {
        grantee: holder.did,
        resources: ['profile/email'],
        actions: ['read'],
        purpose: 'x',
        validUntil: new Date(Date.now() + 60_000),
        baseUrl: 'https://owner.example',
      };
      for (const validFrom of ['yesterday', new Date(NaN), 1_800_000_000_000]) {
        const g = await failure(issueSdJwtGrant(store, issuer, { ...input, validFrom: validFrom as Date }));
        expect([String(validFrom), g?.name, g?.code]).toEqual([String(validFrom), 'CharterError', 'INVALID_ARGUMENT']);
      }
      expect((await issueSdJwtGrant(store, issuer, { ...input, validFrom: new Date() })).token).toContain('~');
    } finally {
      await store.close();
    }
  });

  it('valid Dates sign as NumericDates; an empty window (the same second) is refused', async () => {
    const from = new Date(Date.UTC(2030, 0, 1, 0, 0, 0, 100));
    const t = await issueSdJwtVc({ ...base, validFrom: from, validUntil: new Date(Date.UTC(2031, 0, 1)) });
    expect(decodeJwt(t.token.split('~')[0]!).payload).toMatchObject({ nbf: Date.UTC(2030, 0, 1) / 1000, exp: Date.UTC(2031, 0, 1) / 1000 });
    const edge = await issueSdJwtVc({ ...base, validUntil: new Date('9999-12-31T23:59:59Z') });
    expect(decodeJwt(edge.token.split('~')[0]!).payload.exp).toBe(Date.UTC(9999, 11, 31, 23, 59, 59) / 1000);
    const same = await failure(issueSdJwtVc({ ...base, validFrom: from, validUntil: new Date(from.getTime() + 800) }));
    expect(same?.code).toBe('INVALID_ARGUMENT');
  });
});

describe('presentSdJwtVc: now is a valid Date', () => {
  it('an Invalid Date, a number, a string or a year past 9999 is INVALID_ARGUMENT, and nothing is signed with iat null', async () => {
    const { token } = await issueSdJwtVc({ ...base, validUntil: new Date(Date.now() + 86_400_000) });
    for (const [what, now] of [['Invalid Date', new Date(NaN)], ['a number', Date.now()], ['a string', new Date().toISOString()], ['null', null], ...BAD_DATES.slice(5)] as [
      string,
      unknown,
    ][]) {
      const f = await failure(presentSdJwtVc(token, { holder, disclose: [], aud: AUD, nonce: NONCE, now: now as Date }));
      expect([what, f?.name, f?.code]).toEqual([what, 'CharterError', 'INVALID_ARGUMENT']);
    }
    const now = new Date(Date.now() - 10_000);
    const ok = await presentSdJwtVc(token, { holder, disclose: [], aud: AUD, nonce: NONCE, now });
    expect(decodeJwt(ok.split('~').at(-1)!).payload.iat).toBe(Math.floor(now.getTime() / 1000));
  });

  it('a bad now is refused even for a bearer credential (no KB-JWT to sign): the input is wrong either way', async () => {
    const { token } = await issueSdJwtVc({ ...base, keyBinding: false });
    const f = await failure(presentSdJwtVc(token, { holder, disclose: [], aud: AUD, nonce: NONCE, now: new Date(NaN) }));
    expect(f?.code).toBe('INVALID_ARGUMENT');
  });
});

describe('a key binding JWT out of its time is a stale presentation, as a vp+jwt', () => {
  const vc = (t: string, o: Partial<VerifySdJwtVcOptions> = {}) => verifySdJwtVc(t, { resolver, aud: AUD, nonce: NONCE, ...o });
  const bound = () => craft(issuer, basePayload(issuer, holder.did, { cnf: { jwk: holder.publicJwk } }));

  it('an hour old: PRESENTATION_STALE (401) for both formats', async () => {
    const { token } = await issueSdJwtVc({ ...base, validUntil: new Date(Date.now() + 86_400_000) });
    const kb = await presentSdJwtVc(token, { holder, disclose: [], aud: AUD, nonce: NONCE, now: new Date(Date.now() - 3_600_000) });
    const sd = await vc(kb);
    const cred = await issueCredential({ issuer, subject: holder.did, type: 'ExampleCredential', claims: { a: 1 } });
    const vp = await createPresentation({ holder, aud: AUD, nonce: NONCE, credentials: [cred.jwt], expiresInSeconds: 86_400 });
    const v = await verifyPresentation(vp, { resolver, aud: AUD, nonce: NONCE, now: new Date(Date.now() + 3_600_000), status: async () => [] });
    expect(codes(sd)).toEqual(['PRESENTATION_STALE']);
    expect(codes({ reasons: v.reasons.filter((r) => !r.ref) })).toEqual(codes(sd));
    expect(HTTP_STATUS[sd.reasons[0]!.code]).toBe(401);
  });

  it("past the KB-JWT's own exp: PRESENTATION_STALE; before its nbf: ISSUED_IN_FUTURE; never a credential code", async () => {
    for (const [extra, want] of [
      [{ exp: nowS() - 120 }, ['PRESENTATION_STALE']],
      [{ nbf: nowS() + 120 }, ['ISSUED_IN_FUTURE']],
      [{ iat: nowS() - 3600, exp: nowS() - 3000 }, ['PRESENTATION_STALE']],
      [{ iat: nowS() + 120 }, ['ISSUED_IN_FUTURE']],
      [{ exp: nowS() - 30 }, []],
      [{ nbf: nowS() + 30 }, []],
    ] as const) {
      const r = await vc(await withKb(holder, await bound(), extra));
      expect([extra, codes(r)]).toEqual([extra, [...want]]);
      expect(r.reasons.some((x) => x.code === 'CREDENTIAL_EXPIRED' || x.code === 'CREDENTIAL_NOT_YET_VALID')).toBe(false);
    }
  });

  it('maxKeyBindingAgeSeconds and skewSeconds move the line; the issued credential itself past exp is still CREDENTIAL_EXPIRED', async () => {
    const recent = await withKb(holder, await bound(), { iat: nowS() - 120 });
    expect(codes(await vc(recent, { maxKeyBindingAgeSeconds: 0 }))).toEqual(['PRESENTATION_STALE']);
    expect(codes(await vc(recent, { maxKeyBindingAgeSeconds: 0, skewSeconds: 300 }))).toEqual([]);
    const expired = await withKb(holder, await craft(issuer, basePayload(issuer, holder.did, { cnf: { jwk: holder.publicJwk }, exp: nowS() - 3600 })));
    expect(codes(await vc(expired))).toEqual(['CREDENTIAL_EXPIRED']);
  });

  it('a grant presented with a stale key binding is PRESENTATION_STALE too', async () => {
    const owner = issuer;
    const g = await verifySdJwtGrant(await withKb(holder, await craft(owner, grantPayload(owner, holder)), { iat: nowS() - 3600 }), {
      resolver,
      status: await statusFrom(resolver, owner),
      resource: 'profile/email',
      action: 'read',
      owner: owner.did,
      aud: AUD,
      nonce: NONCE,
    });
    expect(codes(g)).toEqual(['PRESENTATION_STALE']);
  });
});
