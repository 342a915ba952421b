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
  it('a sealed key that does not open with the (checked) passphrase, or belongs to another DID, is STORE_ERROR: changed or misplaced', () => {
    const sealed = sealPrivateKey(generateKeyPair().privateJwk, 'right one', 'did:key:z1');
    expect(() => unsealPrivateKey(sealed, 'wrong one', 'did:key:z1')).toThrow(expect.objectContaining({ code: 'STORE_ERROR' }));
    expect(() => unsealPrivateKey(sealed, 'right one', 'did:key:z2')).toThrow(expect.objectContaining({ code: 'STORE_ERROR', message: expect.stringMatching(/another identity/) }));
  });

  /** The sealed JSON with some members changed, re-encoded as the store keeps it. */
  const edited = (sealed: string, change: (s: Record<string, unknown>) => void) => {
    const s = JSON.parse(Buffer.from(sealed, 'base64url').toString()) as Record<string, unknown>;
    change(s);
    return Buffer.from(JSON.stringify(s)).toString('base64url');
  };

  it('a malformed or weakened sealed value is STORE_ERROR, never a crash and never opened with weaker parameters', () => {
    const kp = generateKeyPair();
    const sealed = sealPrivateKey(kp.privateJwk, 'pass phrase 1', 'did:key:z1');
    const b64 = (n: number) => Buffer.alloc(n).toString('base64url');
    for (const [what, change] of [
      ['null', (s: Record<string, unknown>) => Object.keys(s).forEach((k) => delete s[k])],
      ['N lowered to 2', (s: Record<string, unknown>) => (s.N = 2)],
      ['N 3 (not a power of two)', (s: Record<string, unknown>) => (s.N = 3)],
      ['N as a string', (s: Record<string, unknown>) => (s.N = '32768')],
      ['r 0', (s: Record<string, unknown>) => (s.r = 0)],
      ['r 1', (s: Record<string, unknown>) => (s.r = 1)],
      ['p 0', (s: Record<string, unknown>) => (s.p = 0)],
      ['N huge', (s: Record<string, unknown>) => (s.N = 2 ** 30)],
      ['salt a number', (s: Record<string, unknown>) => (s.salt = 5)],
      ['salt 8 bytes', (s: Record<string, unknown>) => (s.salt = b64(8))],
      ['iv 16 bytes', (s: Record<string, unknown>) => (s.iv = b64(16))],
      ['tag 4 bytes', (s: Record<string, unknown>) => (s.tag = (s.tag as string).slice(0, 6))],
      ['ct not base64url', (s: Record<string, unknown>) => (s.ct = 'a+b/')],
      ['another kdf', (s: Record<string, unknown>) => (s.kdf = 'pbkdf2')],
    ] as const) {
      expect(() => unsealPrivateKey(edited(sealed, change), 'pass phrase 1', 'did:key:z1'), what).toThrow(expect.objectContaining({ code: 'STORE_ERROR' }));
    }
    expect(() => unsealPrivateKey(Buffer.from('null').toString('base64url'), 'pass phrase 1', 'did:key:z1')).toThrow(expect.objectContaining({ code: 'STORE_ERROR' }));
    expect(() => unsealPrivateKey('!!!', 'pass phrase 1', 'did:key:z1')).toThrow(expect.objectContaining({ code: 'STORE_ERROR' }));
    // A flipped byte of the ciphertext: STORE_ERROR (the passphrase was right).
    const flipped = edited(sealed, (s) => {
      const ct = Buffer.from(s.ct as string, 'base64url');
      ct[0]! ^= 1;
      s.ct = ct.toString('base64url');
    });
    expect(() => unsealPrivateKey(flipped, 'pass phrase 1', 'did:key:z1')).toThrow(expect.objectContaining({ code: 'STORE_ERROR' }));
    expect(unsealPrivateKey(sealed, 'pass phrase 1', 'did:key:z1')).toEqual(kp.privateJwk);
  });
  it('the passphrase check tells right from wrong, and refuses a weakened check value', () => {
    const check = createPassphraseCheck('correct horse');
    expect(verifyPassphrase(check, 'correct horse')).toBe(true);
    expect(verifyPassphrase(check, 'correct horsE')).toBe(false);
    expect(() =>
      verifyPassphrase(
        edited(check, (s) => (s.N = 2)),
        'correct horse',
      ),
    ).toThrow(expect.objectContaining({ code: 'STORE_ERROR' }));
  });
  it('with no CHARTER_PASSPHRASE and no terminal: PASSPHRASE_REQUIRED naming the variable', async () => {
    const stdin = Object.assign(new PassThrough(), { isTTY: false });
    await expect(getPassphrase({ env: {}, stdin })).rejects.toMatchObject({ code: 'PASSPHRASE_REQUIRED', message: expect.stringContaining('CHARTER_PASSPHRASE') });
    expect(await getPassphrase({ env: { CHARTER_PASSPHRASE: 'p' }, stdin })).toBe('p');
  });

  /** A terminal stand-in: readline on a stream that says it is a TTY (setRawMode as a terminal has it). */
  const terminal = () => Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined });
  const stderr = () => new PassThrough();

  it('a prompt whose input ends (Ctrl-D, the terminal closed) or is interrupted (Ctrl-C) is PASSPHRASE_REQUIRED, never a promise left pending', async () => {
    const closed = terminal();
    const a = getPassphrase({ env: {}, stdin: closed, stderr: stderr() });
    closed.end();
    await expect(a).rejects.toMatchObject({ code: 'PASSPHRASE_REQUIRED', message: expect.stringMatching(/prompt was closed/) });
    const eof = terminal();
    const b = getPassphrase({ env: {}, stdin: eof, stderr: stderr() });
    eof.write('\u0004');
    await expect(b).rejects.toMatchObject({ code: 'PASSPHRASE_REQUIRED', message: expect.stringMatching(/prompt was closed/) });
    const interrupted = terminal();
    const c = getPassphrase({ env: {}, stdin: interrupted, stderr: stderr() });
    interrupted.write('half a pass\u0003');
    await expect(c).rejects.toMatchObject({ code: 'PASSPHRASE_REQUIRED', message: expect.stringMatching(/prompt was interrupted/) });
    // An answer is still an answer.
    const answered = terminal();
    const d = getPassphrase({ env: {}, stdin: answered, stderr: stderr() });
    answered.write('correct horse\r');
    expect(await d).toBe('correct horse');
  });
});
