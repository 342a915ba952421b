import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { generateKeyPair } from '../../src/keys/index.js';
import { createPassphraseCheck, getPassphrase, sealPrivateKey, unsealPrivateKey, verifyPassphrase } from '../../src/home/keystore.js';

describe('keystore encryption', () => {
  it('seals and unseals a private key; the sealed form does not contain the key', () => {
    const kp = generateKeyPair('secp256k1');
    const sealed = sealPrivateKey(kp.privateJwk, 'pass phrase 1', 'did:key:z1');
    expect(sealed).not.toContain(kp.privateJwk.d);
    expect(Buffer.from(sealed, 'base64url').toString()).not.toContain(kp.privateJwk.d);
    expect(unsealPrivateKey(sealed, 'pass phrase 1', 'did:key:z1')).toEqual(kp.privateJwk);
  });
  it('a wrong passphrase or another DID is refused with WRONG_PASSPHRASE', () => {
    const sealed = sealPrivateKey(generateKeyPair().privateJwk, 'right one', 'did:key:z1');
    expect(() => unsealPrivateKey(sealed, 'wrong one', 'did:key:z1')).toThrow(expect.objectContaining({ code: 'WRONG_PASSPHRASE' }));
    expect(() => unsealPrivateKey(sealed, 'right one', 'did:key:z2')).toThrow(expect.objectContaining({ code: 'WRONG_PASSPHRASE' }));
  });
  it('the passphrase check tells right from wrong', () => {
    const check = createPassphraseCheck('correct horse');
    expect(verifyPassphrase(check, 'correct horse')).toBe(true);
    expect(verifyPassphrase(check, 'correct horsE')).toBe(false);
  });
  it('with no CHARTER_PASSPHRASE and no terminal: PASSPHRASE_REQUIRED naming the variable', async () => {
    const stdin = Object.assign(new PassThrough(), { isTTY: false });
    await expect(getPassphrase({ env: {}, stdin })).rejects.toMatchObject({ code: 'PASSPHRASE_REQUIRED', message: expect.stringContaining('CHARTER_PASSPHRASE') });
    expect(await getPassphrase({ env: { CHARTER_PASSPHRASE: 'p' }, stdin })).toBe('p');
  });
});
