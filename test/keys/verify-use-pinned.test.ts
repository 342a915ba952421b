import { describe, expect, it } from 'vitest';
import { signJwt } from '../../src/credentials/index.js';
import { createResolver } from '../../src/did/index.js';
import { generateKeyPair, createSigner } from '../../src/keys/index.js';
import type { PublicJwk } from '../../src/keys/types.js';
import { issueSdJwtVc, presentSdJwtVc, verifySdJwtVc } from '../../src/sdjwt/index.js';
import { encodeTokenStatusList } from '../../src/status/token-codec.js';
import { createTokenStatusChecker, type TokenStatusContext } from '../../src/status/token-checker.js';
import { makeIssuer } from '../helpers.js';

/**
 * RFC 7517 §4.2 (`use`), §4.3 (`key_ops`): a JWK marked for encryption verifies no signature, the
 * JWK counterpart of a DID method listed only for keyAgreement (DID Core §5.3.3; did:jwk with
 * `use: "enc"`). test/keys/verify-use.test.ts holds DID documents, mandate anchors and HTTP message
 * signature keys to it; these are the other places a JWK reaches a signature check: an SD-JWT VC
 * issuer trusted by its keys (`trustedIssuers`, often an issuer metadata JWKS holding an encryption
 * key too), the holder key an SD-JWT VC binds (`cnf.jwk`), and the keys a Token Status List checker
 * trusts (`trustedListKeys`, and the JWK issuer's keys it is handed). Each is INVALID_KEY.
 */
const ISS = 'https://issuer.example';
const VCT = 'https://credentials.example/id';
const AUD = 'https://verifier.example';
const NONCE = 'n-1';
const NOT_FOR_SIGNING: Record<string, unknown>[] = [{ use: 'enc' }, { key_ops: ['deriveKey'] }, { key_ops: ['encrypt'] }, { use: 'enc', key_ops: ['verify'] }];
const label = (x: object) => JSON.stringify(x);
const now = () => Math.floor(Date.now() / 1000);
const resolver = createResolver();

/** An SD-JWT VC of a non-DID issuer signed with `signer` under `kid`, binding `cnf`. */
async function token(signer: ReturnType<typeof createSigner>, kid: string, cnf: object): Promise<string> {
  return `${await signJwt({ typ: 'dc+sd-jwt' }, { iss: ISS, vct: VCT, iat: now(), exp: now() + 600, cnf }, signer, kid)}~`;
}
const codes = (v: { reasons: readonly { code: string }[] }) => [...new Set(v.reasons.map((r) => r.code))];

describe('SD-JWT VC issuer keys (trustedIssuers)', () => {
  const enc = generateKeyPair('P-256');
  const sig = generateKeyPair('P-256');
  const holder = makeIssuer('P-256');

  it('a token signed with a trusted key marked for encryption is refused, by kid or without one; the signing key still verifies', async () => {
    for (const extra of NOT_FOR_SIGNING) {
      const byEnc = await token(createSigner(enc.privateJwk), 'enc-1', { jwk: holder.publicJwk });
      const opts = (keys: object[]) => ({ resolver, trustedIssuers: [{ iss: ISS, keys: keys as (PublicJwk & { kid?: string })[] }], allowMissingKeyBinding: true });
      // Named by kid: the key the kid names is for encryption.
      expect(codes(await verifySdJwtVc(byEnc, opts([{ ...enc.publicJwk, ...extra, kid: 'enc-1' }]))), label(extra)).toEqual(['INVALID_KEY']);
      // Beside a signing key in the same set (an issuer metadata JWKS): still no candidate.
      expect(
        codes(
          await verifySdJwtVc(
            byEnc,
            opts([
              { ...sig.publicJwk, kid: 'sig-1' },
              { ...enc.publicJwk, ...extra, kid: 'enc-1' },
            ]),
          ),
        ),
        label(extra),
      ).toEqual(['INVALID_KEY']);
      // Without kids, every trusted key is a candidate: but not one for encryption.
      const noKid = `${await signJwt({ typ: 'dc+sd-jwt' }, { iss: ISS, vct: VCT, iat: now(), exp: now() + 600 }, createSigner(enc.privateJwk), undefined as unknown as string)}~`;
      expect(codes(await verifySdJwtVc(noKid, opts([{ ...sig.publicJwk }, { ...enc.publicJwk, ...extra }]))), label(extra)).toEqual(['INVALID_SIGNATURE']);
      expect(codes(await verifySdJwtVc(noKid, opts([{ ...enc.publicJwk, ...extra }]))), label(extra)).toEqual(['INVALID_KEY']);
    }
    // A set holding what is no key at all is refused as before (a reason, never a crash).
    const byEnc0 = await token(createSigner(enc.privateJwk), 'enc-1', { jwk: holder.publicJwk });
    for (const junk of [null, 'key', 7, { kty: 'OKP', crv: 'Ed25519' }]) {
      const v = await verifySdJwtVc(byEnc0, { resolver, trustedIssuers: [{ iss: ISS, keys: [junk as never, { ...enc.publicJwk, kid: 'enc-1' }] }], allowMissingKeyBinding: true });
      expect([label({ junk }), codes(v)]).toEqual([label({ junk }), ['INVALID_KEY']]);
    }
    // The control: the same keys without the marks verify (so the refusals above are the marks').
    const byEnc = await token(createSigner(enc.privateJwk), 'enc-1', { jwk: holder.publicJwk });
    const ok = await verifySdJwtVc(byEnc, {
      resolver,
      trustedIssuers: [
        {
          iss: ISS,
          keys: [
            { ...sig.publicJwk, kid: 'sig-1' },
            { ...enc.publicJwk, ...{ use: 'sig' }, kid: 'enc-1' },
          ],
        },
      ],
      allowMissingKeyBinding: true,
    });
    expect(ok.reasons).toEqual([]);
  });
});

describe('SD-JWT VC holder key (cnf.jwk)', () => {
  const issuer = generateKeyPair('P-256');
  const trustedIssuers = [{ iss: ISS, keys: [{ ...issuer.publicJwk, kid: 'k' }] }];

  it('a key binding JWT signed with a cnf key the issuer marked for encryption proves nothing (INVALID_KEY)', async () => {
    for (const type of ['P-256', 'Ed25519'] as const) {
      const holder = makeIssuer(type);
      for (const extra of NOT_FOR_SIGNING) {
        const vc = await token(createSigner(issuer.privateJwk), 'k', { jwk: { ...holder.publicJwk, ...extra } });
        const presented = await presentSdJwtVc(vc, { holder, aud: AUD, nonce: NONCE });
        const v = await verifySdJwtVc(presented, { resolver, trustedIssuers, aud: AUD, nonce: NONCE });
        expect([type, label(extra), v.ok, codes(v)]).toEqual([type, label(extra), false, ['INVALID_KEY']]);
      }
      // The control: bound for signing (or unmarked), the same presentation verifies.
      for (const extra of [{}, { use: 'sig' }, { key_ops: ['verify'] }]) {
        const vc = await token(createSigner(issuer.privateJwk), 'k', { jwk: { ...holder.publicJwk, ...extra } });
        const v = await verifySdJwtVc(await presentSdJwtVc(vc, { holder, aud: AUD, nonce: NONCE }), { resolver, trustedIssuers, aud: AUD, nonce: NONCE });
        expect([type, label(extra), v.reasons]).toEqual([type, label(extra), []]);
      }
    }
  });
});

describe('SD-JWT VC issuance: a holder key given for encryption is not bound', () => {
  it('issueSdJwtVc refuses holderKey marked for encryption (INVALID_KEY) instead of binding it with the mark dropped', async () => {
    const issuer = makeIssuer('P-256');
    const holder = makeIssuer('P-256');
    const issue = (holderKey: object) => issueSdJwtVc({ issuer, subject: holder.did, vct: VCT, claims: { a: 1 }, holderKey: holderKey as PublicJwk });
    for (const extra of NOT_FOR_SIGNING) await expect(issue({ ...holder.publicJwk, ...extra }), label(extra)).rejects.toMatchObject({ code: 'INVALID_KEY' });
    for (const extra of [{}, { use: 'sig' }, { key_ops: ['sign', 'verify'] }]) {
      const cnf = JSON.parse(Buffer.from((await issue({ ...holder.publicJwk, ...extra })).token.split('.')[1]!, 'base64url').toString()).cnf;
      expect(cnf, label(extra)).toEqual({ jwk: holder.publicJwk });
    }
  });
});

describe('Token Status List keys', () => {
  const lister = makeIssuer('P-256');
  const url = 'https://lists.example/statuslists/1';
  const ctx: TokenStatusContext = { issuer: ISS, now: new Date() };
  const ref = { status_list: { idx: 3, uri: url } };
  const list = () => signJwt({ typ: 'statuslist+jwt' }, { sub: url, iat: now(), status_list: { bits: 1, lst: encodeTokenStatusList(new Uint8Array(4)) } }, lister.signer, 'key-1');
  const checker = async (extra: object = {}) => {
    const jwt = await list();
    return createTokenStatusChecker({ resolver, source: async () => jwt, ...extra });
  };

  it('trustedListKeys: a key marked for encryption is refused where it is configured', async () => {
    for (const extra of NOT_FOR_SIGNING) {
      await expect(checker({ trustedListKeys: [{ ...lister.publicJwk, ...extra }] }), label(extra)).rejects.toMatchObject({ code: 'INVALID_KEY' });
    }
    const c = await checker({ trustedListKeys: [{ ...lister.publicJwk, use: 'sig' }] });
    expect(await c(ref, ctx)).toEqual([]);
  });

  it("the JWK issuer's keys it is handed: one marked for encryption signs no list", async () => {
    const c = await checker();
    for (const extra of NOT_FOR_SIGNING) {
      expect(
        (await c(ref, { ...ctx, issuerKeys: [{ ...lister.publicJwk, ...extra } as PublicJwk] })).map((r) => r.code),
        label(extra),
      ).toEqual(['INVALID_KEY']);
    }
    expect(await c(ref, { ...ctx, issuerKeys: [lister.publicJwk] })).toEqual([]);
  });

  it("an SD-JWT VC whose issuer set holds an encryption key: a list signed with that key is not the issuer's", async () => {
    const sig = generateKeyPair('P-256');
    const holder = makeIssuer('P-256');
    const vc = `${await signJwt({ typ: 'dc+sd-jwt' }, { iss: ISS, vct: VCT, iat: now(), exp: now() + 600, cnf: { jwk: holder.publicJwk }, status: ref }, createSigner(sig.privateJwk), 'sig-1')}~`;
    const status = await checker();
    const verify = (encExtra: object) =>
      verifySdJwtVc(vc, {
        resolver,
        status,
        allowMissingKeyBinding: true,
        trustedIssuers: [{ iss: ISS, keys: [{ ...sig.publicJwk, kid: 'sig-1' }, { ...lister.publicJwk, ...encExtra, kid: 'key-1' } as PublicJwk & { kid: string }] }],
      });
    expect(codes(await verify({ use: 'enc' }))).toEqual(['STATUS_INVALID']);
    expect(codes(await verify({ key_ops: ['deriveKey'] }))).toEqual(['STATUS_INVALID']);
    expect((await verify({ use: 'sig' })).reasons).toEqual([]);
  });
});
