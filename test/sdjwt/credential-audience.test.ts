import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { verifySdJwtVc } from '../../src/sdjwt/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { createVerifier, decide } from '../../src/guard/index.js';
import { makeIssuer, removeTempDirs, tempDir } from '../helpers.js';
import { craft, disclosure, salt } from './craft.js';
import { AUD, NONCE, grantPayload, grantVerifier, nowS, statusFrom, withKb } from './kb-craft.js';

/**
 * RFC 7519 §4.1.3: a credential naming an audience (`aud`) is accepted only
 * by a verifier it names. The vc+jwt verifier always applied it; an SD-JWT
 * VC or SD-JWT grant restricted to another verifier was accepted by any, since
 * only the key binding JWT's `aud` was read. Attacked here in every form the
 * claim can take: a string, an array, a disclosure, a malformed value, a
 * near-miss spelling, no verifier identity at all, and through the guard.
 */
const resolver = createResolver();
const owner = makeIssuer();
const grantee = makeIssuer('P-256');
const OTHER = 'did:web:only-this-other-verifier.example';
const codes = (r: { reasons: { code: string }[] }) => [...new Set(r.reasons.map((x) => x.code))].sort();
afterAll(removeTempDirs);

const grant = grantVerifier(resolver, owner, grantee);
const restricted = async (aud: unknown) => withKb(grantee, await craft(owner, grantPayload(owner, grantee, { aud })));

describe('SD-JWT: the credential audience (RFC 7519 §4.1.3)', () => {
  it('a grant restricted to another verifier is refused, as a string or an array', async () => {
    for (const aud of [OTHER, [OTHER], [OTHER, 'did:web:third.example']]) {
      const d = await grant(await restricted(aud));
      expect([aud, d.ok, codes(d)]).toEqual([aud, false, ['AUDIENCE_MISMATCH']]);
    }
  });

  it('a grant naming this verifier (alone or among others) is allowed', async () => {
    for (const aud of [AUD, [AUD], [OTHER, AUD]]) {
      const d = await grant(await restricted(aud));
      expect([aud, d.reasons]).toEqual([aud, []]);
    }
  });

  it('names are compared exactly: case, whitespace and a trailing slash are other audiences', async () => {
    for (const aud of [AUD.toUpperCase(), ` ${AUD}`, `${AUD}/`, `${AUD}#key-1`]) {
      expect([aud, codes(await grant(await restricted(aud)))]).toEqual([aud, ['AUDIENCE_MISMATCH']]);
    }
  });

  it('an aud of the wrong type names no verifier and is refused', async () => {
    for (const aud of [null, 5, true, {}, [], [AUD, 5], [[AUD]], { 0: AUD }]) {
      const d = await grant(await restricted(aud));
      expect([aud, d.ok, codes(d)]).toEqual([aud, false, ['INVALID_CREDENTIAL']]);
    }
  });

  it('a disclosed aud binds like a plain one', async () => {
    for (const [aud, want] of [
      [OTHER, ['AUDIENCE_MISMATCH']],
      [[OTHER], ['AUDIENCE_MISMATCH']],
      [AUD, []],
    ] as const) {
      const d = disclosure([salt(), 'aud', aud]);
      const t = await craft(owner, grantPayload(owner, grantee, { _sd: [d.digest] }));
      expect([aud, codes(await grant(await withKb(grantee, t.slice(0, -1) + '~' + d.encoded + '~')))]).toEqual([aud, want]);
    }
  });

  it('a generic SD-JWT VC restricted to another verifier is refused, and one naming an audience needs the verifier to say who it is', async () => {
    const vc = (aud: unknown) =>
      craft(owner, { iss: owner.did, sub: grantee.did, vct: 'https://example.com/vct/X', iat: nowS(), exp: nowS() + 600, cnf: { jwk: grantee.publicJwk }, aud });
    expect(codes(await verifySdJwtVc(await withKb(grantee, await vc(OTHER)), { resolver, aud: AUD, nonce: NONCE }))).toEqual(['AUDIENCE_MISMATCH']);
    expect((await verifySdJwtVc(await withKb(grantee, await vc(AUD)), { resolver, aud: AUD, nonce: NONCE })).reasons).toEqual([]);
    // A holder checking what it holds (no key binding, no verifier identity): a restricted credential is not "valid" in general.
    const held = await verifySdJwtVc(await vc(OTHER), { resolver, allowMissingKeyBinding: true });
    expect(codes(held)).toEqual(['AUDIENCE_MISMATCH']);
    expect((await verifySdJwtVc(await vc(AUD), { resolver, allowMissingKeyBinding: true, aud: AUD })).reasons).toEqual([]);
  });

  it('the guard refuses a grant restricted to another verifier, and allows one naming it', async () => {
    const store = await openSqliteStore(join(tempDir(), 'guard.db'));
    try {
      const tokenStatus = await statusFrom(resolver, owner);
      const v = createVerifier({ aud: AUD, store, resolver, tokenStatus, publicOrigin: 'https://api.example' });
      const url = 'https://api.example/profile/email';
      const policy = { kind: 'grant', resource: 'profile/email', action: 'read', owner: owner.did } as const;
      const present = async (aud: unknown, nonce: string) => withKb(grantee, await craft(owner, grantPayload(owner, grantee, { aud })), { nonce, htm: 'GET', htu: url });
      const denied = await decide(v, await present(OTHER, 'guard-aud-1'), policy, { kind: 'http', method: 'GET', url });
      expect([denied.ok, codes(denied)]).toEqual([false, ['AUDIENCE_MISMATCH']]);
      const allowed = await decide(v, await present([OTHER, AUD], 'guard-aud-2'), policy, { kind: 'http', method: 'GET', url });
      expect(allowed.reasons).toEqual([]);
      expect(allowed.ok).toBe(true);
    } finally {
      await store.close();
    }
  });
});
