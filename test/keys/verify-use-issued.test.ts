import { describe, expect, it } from 'vitest';
import { createDidWeb } from '../../src/did/index.js';
import { directoryFor, signDirectory } from '../../src/httpsig/index.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import type { PublicJwk } from '../../src/keys/types.js';
import { importVerificationKey, verifySignature } from '../../src/keys/verify.js';
import { issueAp2OpenMandate, issueViCredential } from '../../src/mandates/index.js';
import { freshParty } from '../mandates/helpers.js';

/**
 * RFC 7517 §4.2 (`use`), §4.3 (`key_ops`): a JWK marked for encryption is no signing key. The places
 * verify-use.test.ts and verify-use-pinned.test.ts hold were checks before a signature; these are the
 * places a marked key went in and came out unmarked (validatePublicJwk drops use and key_ops), so the
 * mark was lost rather than honoured: the public importVerificationKey itself, a did:web document
 * made from the key, a Web Bot Auth directory (which publishes every key as `use: "sig"`), and the
 * key a mandate binds in `cnf`. Each is INVALID_KEY; a key marked for signing, or not marked, is not.
 */
const NOT_FOR_SIGNING: Record<string, unknown>[] = [
  { use: 'enc' },
  { use: 'ENC' },
  { use: 'SIG' },
  { use: null },
  { use: ['sig'] },
  { key_ops: ['deriveKey'] },
  { key_ops: ['encrypt'] },
  { key_ops: ['sign'] },
  { key_ops: [] },
  { key_ops: 'verify' },
  { key_ops: { 0: 'verify', length: 1 } },
  { use: 'enc', key_ops: ['verify'] },
  { use: 'sig', key_ops: ['encrypt'] },
];
const FOR_SIGNING: Record<string, unknown>[] = [
  {},
  { use: 'sig' },
  { key_ops: ['verify'] },
  { key_ops: ['sign', 'verify'] },
  { use: 'sig', key_ops: ['verify'] },
  { kid: 'k', ext: true, x5t: 'abc' },
];
const label = (x: object) => JSON.stringify(x);
const P256 = () => generateKeyPair('P-256');

describe('importVerificationKey', () => {
  it('refuses a key marked for encryption, whatever the spelling of the mark; a signing key imports and verifies', async () => {
    const kp = P256();
    for (const mark of NOT_FOR_SIGNING) {
      expect(() => importVerificationKey({ ...kp.publicJwk, ...mark } as PublicJwk), label(mark)).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }));
    }
    const data = new TextEncoder().encode('x');
    const sig = await createSigner(kp.privateJwk).sign(data);
    for (const mark of FOR_SIGNING) {
      const key = importVerificationKey({ ...kp.publicJwk, ...mark } as PublicJwk);
      expect(verifySignature(key, 'ES256', data, sig), label(mark)).toBe(true);
      expect(key.publicJwk).toEqual(kp.publicJwk);
    }
  });
});

describe('createDidWeb', () => {
  it('makes no document listing a key marked for encryption under assertionMethod', () => {
    const kp = P256();
    for (const mark of NOT_FOR_SIGNING) {
      expect(() => createDidWeb({ domain: 'example.com', publicJwk: { ...kp.publicJwk, ...mark } as PublicJwk }), label(mark)).toThrow(
        expect.objectContaining({ code: 'INVALID_KEY' }),
      );
    }
    for (const mark of FOR_SIGNING) {
      const { document, kid } = createDidWeb({ domain: 'example.com', publicJwk: { ...kp.publicJwk, ...mark } as PublicJwk });
      expect(document.assertionMethod, label(mark)).toEqual([kid]);
    }
  });
});

describe('signDirectory / directoryFor', () => {
  it('publishes no key marked for encryption as a signing key (use "sig")', async () => {
    const kp = generateKeyPair('Ed25519');
    const signer = createSigner(kp.privateJwk);
    for (const mark of NOT_FOR_SIGNING) {
      const keys = [{ jwk: { ...kp.publicJwk, ...mark } as PublicJwk, signer }];
      await expect(signDirectory({ keys, authority: 'agent.example' }), label(mark)).rejects.toMatchObject({ code: 'INVALID_KEY' });
      expect(() => directoryFor({ keys }), label(mark)).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }));
    }
    for (const mark of FOR_SIGNING) {
      const d = await signDirectory({ keys: [{ jwk: { ...kp.publicJwk, ...mark } as PublicJwk, signer }], authority: 'agent.example' });
      expect((JSON.parse(d.body) as { keys: { use: string; x: string }[] }).keys, label(mark)).toEqual([expect.objectContaining({ use: 'sig', x: kp.publicJwk.x })]);
    }
  });
});

describe('mandates: the key bound in cnf', () => {
  const root = freshParty('provider-1');
  const user = freshParty('user-1');
  const constraints = [{ type: 'checkout.line_items', items: [{ id: 'l', acceptable_items: [{ id: 'shoe', title: 'Shoe' }], quantity: 1 }] }];
  const ap2 = (jwk: PublicJwk) => issueAp2OpenMandate({ issuer: root.issuer, kind: 'checkout', agent: { jwk }, constraints });
  const l1 = (jwk: PublicJwk) => issueViCredential({ issuer: root.issuer, user: { jwk, kid: 'user-1' }, subject: 'u-1' });
  /** The cnf.jwk a token binds: in its payload (VI L1) or in a disclosed mandate (AP2 delegate_payload). */
  const cnfOf = (sdJwt: string) => {
    const [jwt, ...discs] = sdJwt.split('~');
    const read = (b: string) => JSON.parse(Buffer.from(b, 'base64url').toString()) as unknown;
    const objects = [read(jwt!.split('.')[1]!), ...discs.filter((d) => d !== '').map((d) => (read(d) as unknown[]).at(-1))];
    return (objects.find((o) => typeof o === 'object' && o !== null && 'cnf' in o) as { cnf: { jwk: Record<string, unknown> } }).cnf.jwk;
  };

  it('an AP2 open mandate delegates to no agent key marked for encryption (it would be bound with the mark stripped)', async () => {
    const agent = freshParty().publicJwk;
    for (const mark of NOT_FOR_SIGNING) await expect(ap2({ ...agent, ...mark } as PublicJwk), label(mark)).rejects.toMatchObject({ code: 'INVALID_KEY' });
    for (const mark of FOR_SIGNING) expect(cnfOf(await ap2({ ...agent, ...mark } as PublicJwk)), label(mark)).toMatchObject({ x: agent.x, y: agent.y });
  });

  it('a VI L1 binds no user key marked for encryption', async () => {
    for (const mark of NOT_FOR_SIGNING) await expect(l1({ ...user.publicJwk, ...mark } as PublicJwk), label(mark)).rejects.toMatchObject({ code: 'INVALID_KEY' });
    for (const mark of FOR_SIGNING) expect(cnfOf(await l1({ ...user.publicJwk, ...mark } as PublicJwk)), label(mark)).toMatchObject({ x: user.publicJwk.x, kid: 'user-1' });
  });
});
