import { describe, expect, it } from 'vitest';
import type { Issuer } from '../../src/credentials/types.js';
import { createResolver } from '../../src/did/index.js';
import { verifySdJwtVc } from '../../src/sdjwt/index.js';
import { makeIssuer } from '../helpers.js';
import { basePayload, craft, disclosure, salt } from './craft.js';
import { AUD, NONCE, grantPayload, grantVerifier, nowS, withKb } from './kb-craft.js';

/**
 * A presentation must prove who presents it: a plain `cnf` and a KB-JWT
 * signed with its key, unless the caller allows a missing key binding. A
 * `cnf`, `nbf` or `status` the issuer made disclosable is refused when it
 * arrives, and a grant refuses any top-level digest left undisclosed (it
 * could be one of them withheld).
 */
const resolver = createResolver();
const owner = makeIssuer();
const grantee = makeIssuer('P-256');
const thief = makeIssuer('P-256');
const codes = (r: { reasons: { code: string }[] }) => [...new Set(r.reasons.map((x) => x.code))].sort();

const grant = grantVerifier(resolver, owner, grantee);
const without = (p: Record<string, unknown>, ...keys: string[]) => Object.fromEntries(Object.entries(p).filter(([k]) => !keys.includes(k)));

describe('SD-JWT grant: key binding is required', () => {
  it('an honest grant presented with its key binding is allowed, and names the holder', async () => {
    const d = await grant(await withKb(grantee, await craft(owner, grantPayload(owner, grantee))));
    expect(d.reasons).toEqual([]);
    expect(d).toMatchObject({ ok: true, holder: grantee.did, grantee: grantee.did });
  });

  it('a bearer grant (no cnf) is refused, with or without a KB-JWT, whoever signs it', async () => {
    const bearer = await craft(owner, without(grantPayload(owner, grantee), 'cnf'));
    for (const t of [bearer, await withKb(grantee, bearer), await withKb(thief, bearer)]) {
      const d = await grant(t);
      expect(d.ok).toBe(false);
      expect(codes(d)).toEqual(['KEY_BINDING_INVALID']);
      expect(d.holder).toBeUndefined();
    }
    // also when the caller names no grantee: nothing else would stop it
    expect((await grant(bearer, { grantee: undefined })).ok).toBe(false);
  });

  it('a grant bound to a key but presented without a KB-JWT is refused', async () => {
    const d = await grant(await craft(owner, grantPayload(owner, grantee)));
    expect(codes(d)).toEqual(['KEY_BINDING_INVALID']);
    expect(d.holder).toBeUndefined();
  });

  it('a cnf made disclosable is refused: withheld (by a thief, with or without its own KB-JWT) or disclosed', async () => {
    const cnf = disclosure([salt(), 'cnf', { jwk: grantee.publicJwk }]);
    const t = await craft(owner, without(grantPayload(owner, grantee, { _sd: [cnf.digest] }), 'cnf'));
    for (const presented of [t, await withKb(thief, t)]) {
      const d = await grant(presented);
      expect(d.ok).toBe(false);
      expect(codes(d)).toContain('KEY_BINDING_INVALID');
      expect(d.holder).toBeUndefined();
    }
    const shown = t.slice(0, -1) + '~' + cnf.encoded + '~';
    expect(codes(await grant(await withKb(grantee, shown)))).toContain('DISCLOSURE_INVALID');
    expect(codes(await grant(shown, { allowMissingKeyBinding: true, nonce: undefined }))).toContain('DISCLOSURE_INVALID');
  });

  it('a digest inside cnf or status (its jwk, its status_list) is refused, disclosed or withheld', async () => {
    const jwk = disclosure([salt(), 'jwk', grantee.publicJwk]);
    const list = disclosure([salt(), 'status_list', { idx: 0, uri: 'https://owner.example/statuslists/1' }]);
    for (const [extra, d] of [
      [{ cnf: { _sd: [jwk.digest] } }, jwk],
      [{ status: { _sd: [list.digest] } }, list],
    ] as const) {
      const t = await craft(owner, grantPayload(owner, grantee, extra));
      for (const presented of [await withKb(grantee, t), await withKb(grantee, t.slice(0, -1) + '~' + d.encoded + '~')]) {
        expect(codes(await grant(presented))).toContain('DISCLOSURE_INVALID');
      }
    }
    // the same through an array element digest inside cnf
    const el = disclosure([salt(), 'x']);
    const t = await craft(owner, grantPayload(owner, grantee, { cnf: { jwk: grantee.publicJwk, extra: [{ '...': el.digest }] } }));
    expect(codes(await grant(await withKb(grantee, t)))).toContain('DISCLOSURE_INVALID');
  });

  it('an nbf made disclosable cannot be withheld to use a grant early, nor disclosed', async () => {
    const nbf = disclosure([salt(), 'nbf', nowS() + 86_400]);
    const t = await craft(owner, grantPayload(owner, grantee, { _sd: [nbf.digest] }));
    const withheld = await grant(await withKb(grantee, t));
    expect(withheld.ok).toBe(false);
    expect(codes(withheld)).toEqual(['DISCLOSURE_INVALID']);
    const shown = await grant(await withKb(grantee, t.slice(0, -1) + '~' + nbf.encoded + '~'));
    expect(shown.ok).toBe(false);
    expect(codes(shown)).toContain('DISCLOSURE_INVALID');
  });

  it('any undisclosed top-level digest of a grant is refused (a decoy cannot be told from a withheld claim); a disclosed one is not', async () => {
    const decoy = disclosure([salt(), 'decoy', 1]).digest;
    expect(codes(await grant(await withKb(grantee, await craft(owner, grantPayload(owner, grantee, { _sd: [decoy] })))))).toEqual(['DISCLOSURE_INVALID']);
    const note = disclosure([salt(), 'note', 'hello']);
    const t = await craft(owner, grantPayload(owner, grantee, { _sd: [note.digest] }));
    expect(codes(await grant(await withKb(grantee, t)))).toEqual(['DISCLOSURE_INVALID']);
    // Disclosed, a claim Charter does not read beside the grant is still refused (src/credentials/subjects.ts
    // unreadMembers): it could be a restriction; a registered claim disclosed is fine.
    expect(codes(await grant(await withKb(grantee, t.slice(0, -1) + '~' + note.encoded + '~')))).toEqual(['UNKNOWN_CONSTRAINT']);
    // (A registered claim Charter reads: the audience, naming this verifier; credential-audience.test.ts attacks it.)
    const aud = disclosure([salt(), 'aud', AUD]);
    const t2 = await craft(owner, grantPayload(owner, grantee, { _sd: [aud.digest] }));
    expect((await grant(await withKb(grantee, t2.slice(0, -1) + '~' + aud.encoded + '~'))).reasons).toEqual([]);
  });

  it('cnf of the wrong type is refused even when a missing key binding is allowed', async () => {
    for (const cnf of [null, 'did:key:z6Mk', {}, { jwk: 'x' }, { kid: grantee.kid }, [grantee.publicJwk]]) {
      const d = await grant(await craft(owner, grantPayload(owner, grantee, { cnf })), { allowMissingKeyBinding: true, nonce: undefined });
      expect([cnf, d.ok]).toEqual([cnf, false]);
    }
  });

  it('a grant with no sub names no grantee: refused', async () => {
    const d = await grant(await withKb(grantee, await craft(owner, without(grantPayload(owner, grantee), 'sub'))), { grantee: undefined });
    expect(codes(d)).toEqual(['INVALID_CREDENTIAL']);
  });

  it('allowMissingKeyBinding (the grantee checking what it received) accepts no KB-JWT, and then names no holder', async () => {
    for (const t of [await craft(owner, grantPayload(owner, grantee)), await craft(owner, without(grantPayload(owner, grantee), 'cnf'))]) {
      const d = await grant(t, { allowMissingKeyBinding: true, nonce: undefined });
      expect(d.reasons).toEqual([]);
      expect(d.holder).toBeUndefined();
    }
  });
});

describe('SD-JWT VC: key binding is required unless allowed', () => {
  const vc = (t: string, o: Parameters<typeof verifySdJwtVc>[1] | object = {}) => verifySdJwtVc(t, { resolver, aud: AUD, nonce: NONCE, ...o });
  const holder: Issuer = grantee;

  it('a bearer credential needs allowMissingKeyBinding; a withheld cnf reads as one', async () => {
    const bearer = await craft(owner, basePayload(owner, holder.did));
    expect(codes(await vc(bearer))).toEqual(['KEY_BINDING_INVALID']);
    expect((await vc(bearer, { allowMissingKeyBinding: true, nonce: undefined })).ok).toBe(true);
    const cnf = disclosure([salt(), 'cnf', { jwk: holder.publicJwk }]);
    const hidden = await craft(owner, basePayload(owner, holder.did, { _sd: [cnf.digest] }));
    expect(codes(await vc(hidden))).toEqual(['KEY_BINDING_INVALID']);
    expect(codes(await vc(await withKb(thief, hidden)))).toEqual(['KEY_BINDING_INVALID']);
    expect(codes(await vc(await withKb(holder, hidden.slice(0, -1) + '~' + cnf.encoded + '~')))).toContain('DISCLOSURE_INVALID');
  });

  it('a bound credential verifies with its KB-JWT and not without', async () => {
    const t = await craft(owner, basePayload(owner, holder.did, { cnf: { jwk: holder.publicJwk } }));
    expect((await vc(await withKb(holder, t))).reasons).toEqual([]);
    expect(codes(await vc(t))).toEqual(['KEY_BINDING_INVALID']);
    expect(codes(await vc(await withKb(thief, t)))).not.toEqual([]);
  });
});
