import { createCipheriv, randomBytes, scryptSync } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/keys/index.js';
import type { PrivateJwk } from '../../src/keys/types.js';
import { CharterError } from '../../src/errors.js';
import { createPassphraseCheck, sealPrivateKey, unsealPrivateKey, verifyPassphrase } from '../../src/home/keystore.js';
import { openHome } from '../../src/home/home.js';
import { tempDir } from '../helpers.js';

/*
 * read() accepts scrypt parameters stronger than Charter writes (N up to
 * 2^20, r up to 16, p up to 4), but this process gives scrypt 64 MiB: a
 * value it cannot derive is STORE_ERROR naming what it is, whatever the
 * passphrase, never a raw RangeError (INTERNAL).
 */

/** Seals as Charter does, with the scrypt parameters given (what another, stronger writer would store). */
function sealWith(plain: Buffer, passphrase: string, aad: string, N: number, r: number, p: number): string {
  const salt = randomBytes(16);
  const key = scryptSync(passphrase.normalize('NFC'), salt, 32, { N, r, p, maxmem: 2 ** 31 });
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([c.update(plain), c.final()]);
  const s = {
    v: 1,
    kdf: 'scrypt',
    N,
    r,
    p,
    salt: salt.toString('base64url'),
    iv: iv.toString('base64url'),
    ct: ct.toString('base64url'),
    tag: c.getAuthTag().toString('base64url'),
  };
  return Buffer.from(JSON.stringify(s)).toString('base64url');
}
const sealKeyWith = (jwk: PrivateJwk, passphrase: string, did: string, N: number, r: number, p: number) =>
  sealWith(Buffer.from(JSON.stringify(jwk)), passphrase, `charter-key:${did}`, N, r, p);
const edited = (sealed: string, change: Record<string, unknown>) =>
  Buffer.from(JSON.stringify({ ...(JSON.parse(Buffer.from(sealed, 'base64url').toString()) as object), ...change })).toString('base64url');

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

const CANNOT = /sealed with parameters this Charter cannot open/;

describe('sealed values stronger than this process can derive', () => {
  const kp = generateKeyPair();
  const did = 'did:key:z6MkStrong';

  it('a key sealed with N=2^16 (really): STORE_ERROR naming the identity, with the right passphrase and a wrong one alike', () => {
    const sealed = sealKeyWith(kp.privateJwk, 'pass phrase 1', did, 2 ** 16, 8, 1);
    for (const pass of ['pass phrase 1', 'another one']) {
      const e = thrown(() => unsealPrivateKey(sealed, pass, did));
      expect(e).toBeInstanceOf(CharterError);
      expect(e).toMatchObject({ code: 'STORE_ERROR', message: expect.stringMatching(CANNOT) });
      expect((e as Error).message).toContain(did);
    }
  });

  it.each([
    ['N=2^16', { N: 2 ** 16 }],
    ['N=2^17', { N: 2 ** 17 }],
    ['N=2^20', { N: 2 ** 20 }],
    ['r=16', { r: 16 }],
    ['r=16, p=4', { r: 16, p: 4 }],
    ['N=2^20, r=16, p=4', { N: 2 ** 20, r: 16, p: 4 }],
  ])('%s written over a sealed key and over the passphrase check: STORE_ERROR "cannot open", never a RangeError', (_what, change) => {
    const key = edited(sealPrivateKey(kp.privateJwk, 'pass phrase 1', did), change);
    const check = edited(createPassphraseCheck('pass phrase 1'), change);
    for (const pass of ['pass phrase 1', 'wrong pass']) {
      for (const [f, names] of [
        [() => unsealPrivateKey(key, pass, did), did],
        [() => verifyPassphrase(check, pass), 'passphrase check'],
      ] as const) {
        const e = thrown(f);
        expect(e, `${pass}`).toBeInstanceOf(CharterError);
        expect(e).toMatchObject({ code: 'STORE_ERROR', message: expect.stringMatching(CANNOT) });
        expect((e as Error).message).toContain(names);
      }
    }
  });

  it('every parameter read() accepts ends in a result or a STORE_ERROR, never another error', () => {
    const key = sealPrivateKey(kp.privateJwk, 'pass phrase 1', did);
    for (const N of [2 ** 15, 2 ** 16, 2 ** 20])
      for (const r of [8, 15, 16])
        for (const p of [1, 4]) {
          if (N === 2 ** 15 && r === 8 && p === 1) continue;
          // The parameters changed, the ciphertext not: at best the derivation runs and authentication fails.
          const e = thrown(() => unsealPrivateKey(edited(key, { N, r, p }), 'pass phrase 1', did));
          expect(e, `N=${N} r=${r} p=${p}`).toBeInstanceOf(CharterError);
          expect(e).toMatchObject({ code: 'STORE_ERROR' });
        }
  });

  it('stronger parameters within the memory this process gives scrypt still open (r=15, p=4; r=12)', () => {
    for (const [r, p] of [
      [15, 4],
      [12, 1],
    ] as const) {
      expect(unsealPrivateKey(sealKeyWith(kp.privateJwk, 'pass phrase 1', did, 2 ** 15, r, p), 'pass phrase 1', did)).toEqual(kp.privateJwk);
      const check = sealWith(Buffer.from('charter-passphrase-check'), 'pass phrase 1', 'charter-check', 2 ** 15, r, p);
      expect(verifyPassphrase(check, 'pass phrase 1')).toBe(true);
      expect(verifyPassphrase(check, 'pass phrase 2')).toBe(false);
    }
  });
});

describe('a home holding such values', () => {
  async function homeWith(change: (db: Database.Database) => void) {
    const dir = join(tempDir('charter-strong-'), 'home');
    const home = await openHome({ home: dir, passphrase: async () => 'pass phrase 1' });
    await home.init();
    await home.createIdentity({ alias: 'ana' });
    await home.close();
    const db = new Database(join(dir, 'charter.db'));
    change(db);
    db.close();
    return (pass: string) => openHome({ home: dir, passphrase: async () => pass, create: false });
  }

  it('an identity whose key was sealed with N=2^17: STORE_ERROR naming it when it signs', async () => {
    const open = await homeWith((db) => {
      const row = db.prepare("SELECT sealed FROM identities WHERE alias = 'ana'").get() as { sealed: string };
      db.prepare("UPDATE identities SET sealed = ? WHERE alias = 'ana'").run(edited(row.sealed, { N: 2 ** 17 }));
    });
    const home = await open('pass phrase 1');
    try {
      const did = (await home.identity('ana')).did;
      const e = await home.issuer('ana').catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CharterError);
      expect(e).toMatchObject({ code: 'STORE_ERROR', message: expect.stringMatching(CANNOT) });
      expect((e as Error).message).toContain(did);
    } finally {
      await home.close();
    }
  });

  it('a passphrase check sealed with N=2^16: STORE_ERROR for the right passphrase and a wrong one', async () => {
    const open = await homeWith((db) => {
      const row = db.prepare("SELECT value FROM config WHERE key = 'passphrase-check'").get() as { value: string };
      db.prepare("UPDATE config SET value = ? WHERE key = 'passphrase-check'").run(edited(row.value, { N: 2 ** 16 }));
    });
    for (const pass of ['pass phrase 1', 'wrong passphrase']) {
      const home = await open(pass);
      try {
        const e = await home.passphrase().catch((x: unknown) => x);
        expect(e).toBeInstanceOf(CharterError);
        expect(e).toMatchObject({ code: 'STORE_ERROR', message: expect.stringMatching(/passphrase check was sealed with parameters/) });
      } finally {
        await home.close();
      }
    }
  });
});
