import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openHome } from '../../src/home/home.js';
import { SQLITE_FILE } from '../../src/home/open-store.js';
import { tempDir } from '../helpers.js';

/**
 * A home's identities as someone with write access to its database could
 * leave them: each key opens only as its own identity, and a changed row is
 * named as such (STORE_ERROR), never signed with silently, never reported as
 * a wrong passphrase.
 */
const PASS = 'correct horse battery staple';

async function homeWith(...aliases: string[]) {
  const dir = join(tempDir('charter-keys-'), 'home');
  const home = await openHome({ home: dir, passphrase: async () => PASS });
  await home.init();
  for (const a of aliases) await home.createIdentity({ alias: a });
  await home.close();
  return dir;
}

async function after(dir: string, change: (db: Database.Database) => void) {
  const db = new Database(join(dir, SQLITE_FILE));
  change(db);
  db.close();
  return openHome({ home: dir, create: false, passphrase: async () => PASS });
}

describe('sealed keys in a changed home', () => {
  it("a row holding another identity's public key: STORE_ERROR naming it, never a signer with a mismatched key", async () => {
    const dir = await homeWith('a', 'c');
    const home = await after(dir, (db) => db.prepare("UPDATE identities SET public_jwk = (SELECT public_jwk FROM identities WHERE alias = 'c') WHERE alias = 'a'").run());
    try {
      await expect(home.issuer('a')).rejects.toMatchObject({ code: 'STORE_ERROR', message: expect.stringMatching(/stored public key of a/) });
      expect((await home.issuer('c')).did).toMatch(/^did:key:/);
    } finally {
      await home.close();
    }
  });

  it("two identities' sealed keys swapped: STORE_ERROR, not WRONG_PASSPHRASE; the others still open", async () => {
    const dir = await homeWith('a', 'b', 'c');
    const home = await after(dir, (db) => {
      const a = db.prepare("SELECT sealed AS k FROM identities WHERE alias = 'a'").get() as { k: string };
      const b = db.prepare("SELECT sealed AS k FROM identities WHERE alias = 'b'").get() as { k: string };
      db.prepare("UPDATE identities SET sealed = ? WHERE alias = 'a'").run(b.k);
      db.prepare("UPDATE identities SET sealed = ? WHERE alias = 'b'").run(a.k);
    });
    try {
      await expect(home.issuer('a')).rejects.toMatchObject({ code: 'STORE_ERROR' });
      await expect(home.issuer('b')).rejects.toMatchObject({ code: 'STORE_ERROR' });
      expect((await home.issuer('c')).did).toMatch(/^did:key:/);
    } finally {
      await home.close();
    }
    // A wrong passphrase is still WRONG_PASSPHRASE, told apart from the above.
    const wrong = await openHome({ home: dir, create: false, passphrase: async () => 'not the passphrase' });
    try {
      await expect(wrong.issuer('c')).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    } finally {
      await wrong.close();
    }
  });
  it.each([
    ['one character changed', (k: string) => k.slice(0, 10) + (k[10] === 'A' ? 'B' : 'A') + k.slice(11)],
    ['not base64url JSON', () => 'not a sealed key'],
    ['another format', () => Buffer.from(JSON.stringify({ v: 99, kdf: 'scrypt' })).toString('base64url')],
    ['weaker parameters', (k: string) => Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(k, 'base64url').toString()), N: 1024 })).toString('base64url')],
  ])('a sealed key %s: STORE_ERROR naming the identity (its DID)', async (_label, change) => {
    const dir = await homeWith('a', 'c');
    let did = '';
    const home = await after(dir, (db) => {
      const row = db.prepare("SELECT sealed AS k, did FROM identities WHERE alias = 'a'").get() as { k: string; did: string };
      did = row.did;
      db.prepare("UPDATE identities SET sealed = ? WHERE alias = 'a'").run(change(row.k));
    });
    try {
      const e = await home.issuer('a').then(
        () => undefined,
        (x: { code: string; message: string }) => x,
      );
      expect(e?.code).toBe('STORE_ERROR');
      expect(e?.message).toContain(did);
      expect((await home.issuer('c')).did).toMatch(/^did:key:/);
    } finally {
      await home.close();
    }
  });
});
