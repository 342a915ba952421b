import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { signJwt } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { createResolver } from '../../src/did/index.js';
import {
  issueSdJwtVc,
  presentSdJwtVc,
  verifySdJwtVc,
  assertSdJwtVc,
  createTokenStatusChecker,
  allocateTokenStatus,
  setTokenStatus,
  type VerifySdJwtVcOptions,
} from '../../src/sdjwt/index.js';
import { libSigner } from '../../src/sdjwt/issue.js';
import { sdJwtHasher } from '../../src/sdjwt/hash.js';
import { makeIssuer } from '../helpers.js';
import { basePayload, craft, disclosure, salt, withHeader } from './craft.js';
import { statusWorld, type StatusWorld } from '../status/token-world.js';

const resolver = createResolver();
const VCT = 'https://example.com/vct/Profile';
const AUD = 'did:web:verifier.example';
const NONCE = 'n-0S6_WzA2Mj';
const claims = { email: 'bob@example.com', name: 'Bob', address: { street: 'Main St 1', city: 'Springfield', country: 'US' }, nationalities: ['US', 'DE', 'FR'] };
const DISCLOSABLE = ['email', 'name', 'address', 'address.street', 'address.city', 'nationalities.0', 'nationalities.1', 'nationalities.2'];

let issuer: Issuer;
let holder: Issuer;
let issued: string;

const verify = (token: string, o: Partial<VerifySdJwtVcOptions> = {}) => verifySdJwtVc(token, { resolver, aud: AUD, nonce: NONCE, ...o });
const codes = async (token: string, o: Partial<VerifySdJwtVcOptions> = {}) => (await verify(token, o)).reasons.map((r) => r.code);
const present = (disclose: string[], o: Partial<Parameters<typeof presentSdJwtVc>[1]> = {}) => presentSdJwtVc(issued, { holder, disclose, aud: AUD, nonce: NONCE, ...o });
const sha = (s: string) => createHash('sha256').update(s).digest('base64url');

beforeAll(async () => {
  issuer = makeIssuer();
  holder = makeIssuer('P-256');
  issued = (await issueSdJwtVc({ issuer, subject: holder.did, vct: VCT, claims, disclosable: DISCLOSABLE, validUntil: new Date(Date.now() + 86_400_000) })).token;
});

describe('SD-JWT VC: issue, present, verify', () => {
  it('issues dc+sd-jwt with kid the issuer DID URL, _sd_alg sha-256, cnf the holder DID authentication key', () => {
    const [jwt, ...rest] = issued.split('~');
    const [h, p] = jwt!
      .split('.')
      .slice(0, 2)
      .map((s) => JSON.parse(Buffer.from(s!, 'base64url').toString()) as Record<string, unknown>);
    expect(h).toEqual({ typ: 'dc+sd-jwt', kid: issuer.kid, alg: 'EdDSA' });
    expect(p).toMatchObject({ iss: issuer.did, sub: holder.did, vct: VCT, _sd_alg: 'sha-256', cnf: { jwk: holder.publicJwk } });
    expect(p).not.toHaveProperty('email');
    expect(rest).toHaveLength(DISCLOSABLE.length + 1);
    expect(rest.at(-1)).toBe('');
  });

  it('a presentation reveals only what was chosen (a parent reveals its children) and verifies with its key binding', async () => {
    const v = await verify(await present(['address', 'nationalities.1']));
    expect(v.reasons).toEqual([]);
    expect(v).toMatchObject({ ok: true, issuer: issuer.did, subject: holder.did, vct: VCT, holderKey: holder.publicJwk, keyBinding: { aud: AUD, nonce: NONCE } });
    expect(v.claims).toMatchObject({ address: claims.address, nationalities: ['DE'] });
    expect(v.claims).not.toHaveProperty('email');
    expect(v.claims).not.toHaveProperty('_sd');
    expect(v.claims).not.toHaveProperty('_sd_alg');
    expect(v.disclosed).toEqual(['address', 'address.city', 'address.street', 'nationalities.1']);
  });

  it('a key-bound credential without a KB-JWT is refused, unless explicitly allowed (issuance-time check)', async () => {
    expect(await codes(issued)).toEqual(['KEY_BINDING_INVALID']);
    const v = await verify(issued, { allowMissingKeyBinding: true, nonce: undefined });
    expect(v.ok).toBe(true);
    expect(v.keyBinding).toBeUndefined();
    expect(v.claims).toMatchObject(claims);
    await expect(assertSdJwtVc(issued, { resolver })).rejects.toMatchObject({ code: 'KEY_BINDING_INVALID' });
  });

  it('refuses a KB-JWT over other bytes (sd_hash), by another key, for another aud or nonce, stale or from the future', async () => {
    const p = await present(['email', 'name']);
    const [jwt, d1, , kb] = p.split('~');
    expect(await codes([jwt, d1, kb].join('~'))).toEqual(['KEY_BINDING_INVALID']); // a disclosure dropped after signing
    expect(await codes(p, { aud: 'did:web:other.example' })).toEqual(['AUDIENCE_MISMATCH']);
    expect(await codes(p, { nonce: 'another' })).toEqual(['NONCE_MISMATCH']);
    expect(await codes(p, { aud: undefined, nonce: undefined })).toEqual(['AUDIENCE_MISMATCH', 'NONCE_MISMATCH']);
    expect(await codes(await present(['email'], { now: new Date(Date.now() - 600_000) }))).toEqual(['PRESENTATION_STALE']);
    expect(await codes(await present(['email'], { now: new Date(Date.now() + 600_000) }))).toEqual(['ISSUED_IN_FUTURE']);
    expect(await codes(await present(['email'], { now: new Date(Date.now() - 280_000) }))).toEqual([]);

    // the same presentation, key-bound by someone else (the peer library signs whatever it is given)
    const mallory = makeIssuer('P-256');
    const forged = await new SDJwtVcInstance({ hasher: sdJwtHasher, kbSigner: libSigner(mallory.signer), kbSignAlg: 'ES256' }).present(
      issued,
      { email: true },
      {
        kb: { payload: { aud: AUD, nonce: NONCE, iat: Math.floor(Date.now() / 1000) } },
      },
    );
    expect(await codes(forged)).toEqual(['KEY_BINDING_INVALID']);
    await expect(presentSdJwtVc(issued, { holder: mallory, disclose: ['email'], aud: AUD, nonce: NONCE })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('refuses a KB-JWT of the wrong typ, with an alg that does not fit the cnf key, or with no iat', async () => {
    const presented = (await present(['email'])).replace(/[^~]+$/, '');
    const kb = (header: Record<string, unknown>, payload: Record<string, unknown>) => signJwt(header, payload, holder.signer, holder.kid);
    const good = { aud: AUD, nonce: NONCE, iat: Math.floor(Date.now() / 1000), sd_hash: sha(presented) };
    expect(await codes(presented + (await kb({ typ: 'kb+jwt' }, good)))).toEqual([]);
    expect(await codes(presented + (await kb({ typ: 'JWT' }, good)))).toEqual(['INVALID_TYP']);
    expect(await codes(presented + (await kb({ typ: 'kb+jwt' }, { ...good, iat: undefined })))).toEqual(['KEY_BINDING_INVALID']);
    expect(await codes(presented + (await kb({ typ: 'kb+jwt' }, { ...good, iat: String(good.iat) })))).toEqual(['KEY_BINDING_INVALID']);
    const edKb = await signJwt({ typ: 'kb+jwt' }, good, makeIssuer().signer, 'x');
    expect(await codes(presented + edKb)).toEqual(['ALG_KEY_MISMATCH']);
    expect(await codes(presented.slice(0, -1) + '~' + (await kb({ typ: 'kb+jwt' }, good)), { allowMissingKeyBinding: true })).toEqual([]);
  });

  it('a bearer credential (no cnf) verifies without key binding only when the verifier allows it, and refuses one', async () => {
    const bearer = (await issueSdJwtVc({ issuer, subject: holder.did, vct: VCT, claims, disclosable: ['email'], keyBinding: false })).token;
    expect(await codes(bearer)).toEqual(['KEY_BINDING_INVALID']);
    expect(await codes(bearer, { allowMissingKeyBinding: true, nonce: undefined })).toEqual([]);
    const p = await presentSdJwtVc(bearer, { holder, disclose: [], aud: AUD, nonce: NONCE });
    expect(p.endsWith('~')).toBe(true);
    const kb = await signJwt({ typ: 'kb+jwt' }, { aud: AUD, nonce: NONCE, iat: Math.floor(Date.now() / 1000), sd_hash: sha(p) }, holder.signer, holder.kid);
    expect(await codes(p + kb)).toEqual(['KEY_BINDING_INVALID']);
  });
});

/**
 * The hand-made tokens of the next two blocks carry no `cnf` (bearer credentials), to test other rules;
 * key binding is required by default and tested above, so these verify with allowMissingKeyBinding.
 */
const verifyBearer = (token: string, o: Partial<VerifySdJwtVcOptions> = {}) => verify(token, { allowMissingKeyBinding: true, nonce: undefined, ...o });
const bearerCodes = async (token: string, o: Partial<VerifySdJwtVcOptions> = {}) => (await verifyBearer(token, o)).reasons.map((r) => r.code);

describe('SD-JWT VC: the issuer-signed JWT', () => {
  const verify = verifyBearer;
  const codes = bearerCodes;
  it('refuses alg none or unknown, an unknown crit, a wrong typ; accepts the legacy vc+sd-jwt typ', async () => {
    const t = await craft(issuer, basePayload(issuer, holder.did));
    expect(await codes(t)).toEqual([]);
    expect(await codes(withHeader(t, (h) => (h.alg = 'none')))).toEqual(['UNSUPPORTED_ALG']);
    expect(await codes(withHeader(t, (h) => (h.alg = 'HS256')))).toEqual(['UNSUPPORTED_ALG']);
    expect(await codes(withHeader(t, (h) => (h.crit = ['exp'])))).toEqual(['UNKNOWN_CRITICAL']);
    expect(await codes(await craft(issuer, basePayload(issuer, holder.did), [], { typ: 'JWT' }))).toEqual(['INVALID_TYP']);
    expect(await codes(await craft(issuer, basePayload(issuer, holder.did), [], { typ: 'vc+sd-jwt' }))).toEqual([]);
  });

  it('refuses an alg that does not fit the key, a changed payload, a kid of another DID, an untrusted non-DID issuer', async () => {
    const t = await craft(issuer, basePayload(issuer, holder.did));
    expect(await codes(withHeader(t, (h) => (h.alg = 'ES256')))).toEqual(['ALG_KEY_MISMATCH']);
    const [jwt, ...rest] = t.split('~');
    const [h, , s] = jwt!.split('.');
    const changed = Buffer.from(JSON.stringify({ ...basePayload(issuer, holder.did), vct: 'https://example.com/vct/Admin' })).toString('base64url');
    expect(await codes([[h, changed, s].join('.'), ...rest].join('~'))).toEqual(['INVALID_SIGNATURE']);
    expect(await codes(withHeader(t, (h) => (h.kid = holder.kid)))).toEqual(['KID_MISMATCH']);
    expect(await codes(await craft(issuer, { ...basePayload(issuer, holder.did), iss: 'https://issuer.example' }))).toEqual(['UNTRUSTED_ISSUER']);
    expect(await codes(await craft(issuer, { ...basePayload(issuer, holder.did), vct: 7 }))).toEqual(['INVALID_CREDENTIAL']);
  });

  it('refuses an _sd_alg other than sha-256 unless configured', async () => {
    const t512 = await new SDJwtVcInstance({ signer: libSigner(issuer.signer), signAlg: 'EdDSA', hasher: sdJwtHasher, hashAlg: 'sha-512', saltGenerator: salt }).issue(
      { ...basePayload(issuer, holder.did), _sd_alg: undefined, email: 'x@y.z' } as never,
      { _sd: ['email'] } as never,
      { header: { typ: 'dc+sd-jwt', kid: issuer.kid } },
    );
    expect(await codes(t512)).toEqual(['UNSUPPORTED_ALG']);
    const v = await verify(t512, { sdAlgs: ['sha-256', 'sha-512'] });
    expect(v.reasons).toEqual([]);
    expect(v.claims?.email).toBe('x@y.z');
    expect(await codes(await craft(issuer, basePayload(issuer, holder.did, { _sd_alg: 'md5' })), { sdAlgs: ['sha-256', 'md5' as never] })).toEqual(['UNSUPPORTED_ALG']);
  });

  it("applies exp and nbf with Charter's skew (60 s by default), and refuses time claims of the wrong type", async () => {
    const now = Math.floor(Date.now() / 1000);
    const at = async (extra: Record<string, unknown>, o: Partial<VerifySdJwtVcOptions> = {}) => codes(await craft(issuer, basePayload(issuer, holder.did, extra)), o);
    expect(await at({ exp: now - 30 })).toEqual([]);
    expect(await at({ exp: now - 90 })).toEqual(['CREDENTIAL_EXPIRED']);
    expect(await at({ exp: now - 30 }, { skewSeconds: 0 })).toEqual(['CREDENTIAL_EXPIRED']);
    expect(await at({ nbf: now + 30 })).toEqual([]);
    expect(await at({ nbf: now + 90 })).toEqual(['CREDENTIAL_NOT_YET_VALID']);
    expect(await at({ iat: now + 90 })).toEqual(['ISSUED_IN_FUTURE']);
    expect(await at({ exp: String(now + 3600) })).toEqual(['INVALID_CREDENTIAL']);
    expect(await at({ nbf: null })).toEqual(['INVALID_CREDENTIAL']);
    // a disclosed iat is a time claim too (SD-JWT VC §3.2.2.2 allows disclosing it)
    const iat = disclosure([salt(), 'iat', 'yesterday']);
    expect(await codes(await craft(issuer, basePayload(issuer, holder.did, { iat: undefined, _sd: [iat.digest] }), [iat.encoded]))).toEqual(['INVALID_CREDENTIAL']);
  });

  it('refuses a status claim when no status checker is configured (fail closed)', async () => {
    const t = await craft(issuer, basePayload(issuer, holder.did, { status: { status_list: { idx: 1, uri: 'https://example.com/statuslists/1' } } }));
    expect(await codes(t)).toEqual(['STATUS_UNAVAILABLE']);
  });

  it('with requireStatus, refuses a token whose status is missing, or was made disclosable and withheld', async () => {
    const status = disclosure([salt(), 'status', { status_list: { idx: 1, uri: 'https://example.com/statuslists/1' } }]);
    const withheld = await craft(issuer, basePayload(issuer, holder.did, { _sd: [status.digest] }));
    // the withheld digest looks like a decoy: only the policy can catch it
    expect(await codes(withheld)).toEqual([]);
    expect(await codes(withheld, { requireStatus: true })).toEqual(['STATUS_INVALID']);
    expect(await codes(await craft(issuer, basePayload(issuer, holder.did)), { requireStatus: true })).toEqual(['STATUS_INVALID']);
  });

  it('refuses what is not an SD-JWT: a plain JWT, an empty disclosure, an oversized token', async () => {
    const t = await craft(issuer, basePayload(issuer, holder.did));
    expect(await codes(t.slice(0, -1))).toEqual(['MALFORMED_JWT']);
    expect(await codes(t + '~')).toEqual(['MALFORMED_JWT']);
    expect(await codes(t, { maxBytes: 100 })).toEqual(['INPUT_TOO_LARGE']);
  });
});

describe('SD-JWT VC: disclosures (RFC 9901 §7.1)', () => {
  const verify = verifyBearer;
  const codes = bearerCodes;
  const bearer = (extra: Record<string, unknown>, disclosures: string[]) => craft(issuer, basePayload(issuer, holder.did, extra), disclosures);

  it('processes object, array and nested disclosures, and drops undisclosed digests and decoys', async () => {
    const street = disclosure([salt(), 'street', 'Main St 1']);
    const address = disclosure([salt(), 'address', { _sd: [street.digest, sha('decoy')], city: 'Springfield' }]);
    const de = disclosure([salt(), 'DE']);
    const v = await verify(
      await bearer({ _sd: [address.digest, sha('withheld')], nat: ['US', { '...': de.digest }, { '...': sha('x') }] }, [street.encoded, address.encoded, de.encoded]),
    );
    expect(v.reasons).toEqual([]);
    expect(v.claims).toMatchObject({ address: { city: 'Springfield', street: 'Main St 1' }, nat: ['US', 'DE'] });
    expect(v.disclosed).toEqual(['address', 'address.street', 'nat.1']);
  });

  it('refuses a disclosure whose value nests too deep (claims: 32 levels, JSON: 64); 20 levels are processed', async () => {
    // Written out by hand: JSON.stringify itself cannot go 20,000 levels down.
    const deep = (n: number) => {
      const encoded = Buffer.from(`["${salt()}","x",${'['.repeat(n)}${']'.repeat(n)}]`).toString('base64url');
      return { encoded, digest: createHash('sha256').update(encoded).digest('base64url') };
    };
    for (const n of [64, 1000, 20_000]) {
      const d = deep(n);
      expect(await codes(await bearer({ _sd: [d.digest] }, [d.encoded])), String(n)).toEqual(['DISCLOSURE_INVALID']);
    }
    const ok = deep(20);
    expect(await codes(await bearer({ _sd: [ok.digest] }, [ok.encoded]))).toEqual([]);
  });

  it('refuses a disclosure no digest references, and the same disclosure twice', async () => {
    const email = disclosure([salt(), 'email', 'a@b.c']);
    const stray = disclosure([salt(), 'admin', true]);
    expect(await codes(await bearer({ _sd: [email.digest] }, [email.encoded]))).toEqual([]);
    expect(await codes(await bearer({ _sd: [email.digest] }, [email.encoded, stray.encoded]))).toEqual(['DISCLOSURE_INVALID']);
    expect(await codes(await bearer({ _sd: [email.digest] }, [email.encoded, email.encoded]))).toEqual(['DISCLOSURE_INVALID']);
  });

  it('refuses a digest that appears twice, in the payload or through a disclosure', async () => {
    const email = disclosure([salt(), 'email', 'a@b.c']);
    expect(await codes(await bearer({ _sd: [email.digest, email.digest] }, [email.encoded]))).toEqual(['DISCLOSURE_INVALID']);
    expect(await codes(await bearer({ _sd: [email.digest], other: { _sd: [email.digest] } }, [email.encoded]))).toEqual(['DISCLOSURE_INVALID']);
    const loop = disclosure([salt(), 'x', { _sd: [sha('self')] }]);
    const inner = disclosure([salt(), 'inner', { _sd: [loop.digest] }]);
    expect(await codes(await bearer({ _sd: [inner.digest, loop.digest] }, [inner.encoded, loop.encoded]))).toEqual(['DISCLOSURE_INVALID']);
  });

  it('refuses reserved names (_sd, ...), never-disclosable claims (status, exp, cnf, vct, iss, nbf) and a name already present', async () => {
    for (const name of ['_sd', '...', 'status', 'exp', 'cnf', 'vct', 'iss', 'nbf']) {
      const d = disclosure([salt(), name, name === '_sd' ? [] : { x: 1 }]);
      expect(await codes(await bearer({ _sd: [d.digest] }, [d.encoded])), name).toEqual(['DISCLOSURE_INVALID']);
    }
    const dup = disclosure([salt(), 'sub', 'did:example:someone-else']);
    expect(await codes(await bearer({ _sd: [dup.digest] }, [dup.encoded]))).toEqual(['DISCLOSURE_INVALID']);
    // a nested "status" is an ordinary claim
    const nested = disclosure([salt(), 'status', 'married']);
    expect(await codes(await bearer({ person: { _sd: [nested.digest] } }, [nested.encoded]))).toEqual([]);
  });

  it('refuses the wrong shape for the place: an element disclosure in _sd, a property disclosure in an array, "..." with company', async () => {
    const element = disclosure([salt(), 'DE']);
    const property = disclosure([salt(), 'email', 'a@b.c']);
    expect(await codes(await bearer({ _sd: [element.digest] }, [element.encoded]))).toEqual(['DISCLOSURE_INVALID']);
    expect(await codes(await bearer({ nat: [{ '...': property.digest }] }, [property.encoded]))).toEqual(['DISCLOSURE_INVALID']);
    // RFC 9901 §7.1: "..." beside another member is no digest but an ordinary element, so the disclosure is unreferenced
    expect(await codes(await bearer({ nat: [{ '...': element.digest, extra: 1 }] }, [element.encoded]))).toEqual(['DISCLOSURE_INVALID']);
    expect(await codes(await bearer({ _sd: 'not-an-array' }, []))).toEqual(['DISCLOSURE_INVALID']);
    expect(await codes(await bearer({ _sd: [42] }, []))).toEqual(['DISCLOSURE_INVALID']);
  });

  it('refuses malformed disclosures: not base64url, not JSON, not a 2- or 3-element array, a non-string salt or name', async () => {
    const enc = (s: string) => Buffer.from(s).toString('base64url');
    for (const bad of ['a+b/', enc('not json'), enc('{"a":1}'), enc('["s"]'), enc('["s","n","v","w"]'), enc('[1,"n","v"]'), enc('["s",2,"v"]')]) {
      expect(await codes(await bearer({}, [bad])), bad).toEqual(['DISCLOSURE_INVALID']);
    }
  });

  it('keeps a claim named __proto__ as a claim (no prototype is replaced)', async () => {
    const d = disclosure([salt(), '__proto__', { polluted: true }]);
    const v = await verify(await bearer({ _sd: [d.digest] }, [d.encoded]));
    expect(v.reasons).toEqual([]);
    expect(Object.prototype.hasOwnProperty.call(v.claims, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(v.claims)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('SD-JWT VC: issuing refuses what would mislead a verifier', () => {
  it('reserved claim names, paths that name no claim, a non-DID subject, an issuer key that is not a DID URL', async () => {
    const base = { issuer, subject: holder.did, vct: VCT, claims: { email: 'a@b.c' } };
    for (const bad of [
      { ...base, claims: { vct: 'x' } },
      { ...base, claims: { status: {} } },
      { ...base, claims: { nested: { _sd: [] } } },
      { ...base, claims: JSON.parse('{"__proto__": {"x": 1}}') as Record<string, unknown> },
      { ...base, disclosable: ['emial'] },
      { ...base, disclosable: ['email.x'] },
      { ...base, subject: 'bob' },
      { ...base, issuer: { ...issuer, kid: 'key-1' } },
      { ...base, validFrom: new Date(Date.now() + 10_000), validUntil: new Date() },
    ]) {
      await expect(issueSdJwtVc(bad)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    await expect(presentSdJwtVc(issued, { holder, disclose: ['phone'], aud: AUD, nonce: NONCE })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(presentSdJwtVc(await present(['email']), { holder, aud: AUD, nonce: NONCE })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('SD-JWT VC: invariants (fast-check)', () => {
  const paths = ['email', 'name', 'address', 'address.street', 'address.city', 'nationalities.0', 'nationalities.1', 'nationalities.2'];
  /** What a verifier should see for a chosen set: each path, everything under it, and the parents needed to reach it. */
  function expected(chosen: string[]): string[] {
    const out = new Set<string>();
    for (const p of chosen) for (const q of paths) if (q === p || q.startsWith(p + '.')) out.add(q);
    for (const q of [...out]) if (q.startsWith('address.')) out.add('address');
    return [...out].sort();
  }

  it('any subset of disclosable claims round-trips: it verifies, and exactly its closure is disclosed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.subarray(paths), async (chosen) => {
        const v = await verify(await present(chosen));
        expect(v.reasons).toEqual([]);
        expect(v.disclosed).toEqual(expected(chosen));
        for (const p of v.disclosed!) {
          const get = (o: unknown, path: string) => path.split('.').reduce<unknown>((a, k) => (a as Record<string, unknown>)?.[k], o);
          // leaves carry their issued value; the parent `address` carries only the children chosen (and country, always in clear)
          if (p !== 'address' && !p.startsWith('nationalities')) expect(get(v.claims, p)).toEqual(get(claims, p));
        }
        if (v.disclosed!.includes('address'))
          expect(Object.keys(v.claims!.address as object).sort()).toEqual(
            [
              'country',
              ...expected(chosen)
                .filter((q) => q.startsWith('address.'))
                .map((q) => q.slice(8)),
            ].sort(),
          );
        expect(v.claims?.nationalities).toEqual(claims.nationalities.filter((_, i) => chosen.includes(`nationalities.${i}`)));
      }),
      { numRuns: 40 },
    );
  });

  it('changing any one character of any disclosure is refused', async () => {
    const bearer = (await issueSdJwtVc({ issuer, subject: holder.did, vct: VCT, claims, disclosable: DISCLOSABLE, keyBinding: false })).token;
    const parts = bearer.split('~');
    const B64U = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: parts.length - 2 }), fc.nat(), fc.integer({ min: 1, max: 63 }), async (which, pos, shift) => {
        const d = parts[which]!;
        const i = pos % d.length;
        const c = B64U[(B64U.indexOf(d[i]!) + shift) % 64]!;
        const tampered = [...parts.slice(0, which), d.slice(0, i) + c + d.slice(i + 1), ...parts.slice(which + 1)].join('~');
        const v = await verify(tampered);
        expect(v.ok).toBe(false);
        expect(v.reasons.map((r) => r.code)).toContain('DISCLOSURE_INVALID');
      }),
      { numRuns: 100 },
    );
    // and with a key binding, the same change breaks sd_hash as well
    const p = await present(['email']);
    const [jwt, d1, kb] = p.split('~');
    const flipped = d1!.slice(0, 5) + (d1![5] === 'A' ? 'B' : 'A') + d1!.slice(6);
    expect(await codes([jwt, flipped, kb].join('~'))).toEqual(['DISCLOSURE_INVALID', 'KEY_BINDING_INVALID']);
  });
});

describe('SD-JWT VC with a Token Status List over loopback HTTP', () => {
  let w: StatusWorld;
  beforeAll(async () => {
    w = await statusWorld();
  });
  afterAll(() => w.close());

  it('verifies while valid, CREDENTIAL_REVOKED after revocation (on refresh), and checks only authentic tokens', async () => {
    const owner = w.issuer();
    const id = 'urn:uuid:status-test';
    const { status_list } = await allocateTokenStatus(w.store, { issuerDid: owner.did, baseUrl: w.url, credentialId: id });
    const vc = await issueSdJwtVc({ issuer: owner, id, subject: holder.did, vct: VCT, claims, disclosable: ['email'], status: status_list });
    const p = await presentSdJwtVc(vc.token, { holder, disclose: ['email'], aud: AUD, nonce: NONCE });
    const status = createTokenStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
    const v = await verify(p, { status });
    expect(v.reasons).toEqual([]);
    expect(v.status).toEqual(status_list);
    await setTokenStatus(w.store, id, true, w.issuerFor);
    await status.refresh(status_list.uri);
    expect(await codes(p, { status })).toEqual(['CREDENTIAL_REVOKED']);
    const hits = w.hits();
    expect(await codes(p, { status, nonce: 'wrong' })).toEqual(['NONCE_MISMATCH']);
    expect(w.hits()).toBe(hits);
  });
});
