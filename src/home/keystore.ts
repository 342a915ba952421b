import { createCipheriv, createDecipheriv, randomBytes, scryptSync, timingSafeEqual, createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { CharterError } from '../errors.js';
import { validatePrivateJwk } from '../keys/index.js';
import type { PrivateJwk } from '../keys/types.js';

/** scrypt parameters (RFC 7914): N=2^15, r=8, p=1 costs ~32 MiB and tens of ms. */
const KDF = { N: 1 << 15, r: 8, p: 1 } as const;
const MAXMEM = 64 * 1024 * 1024;
const VERSION = 1;

interface Sealed {
  v: number;
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  iv: string;
  ct: string;
  tag: string;
}

const derived = new Map<string, Buffer>();

/** scrypt is deliberately slow; cache per (passphrase, salt, params) in this process only. */
function deriveKey(passphrase: string, salt: Buffer, N: number, r: number, p: number): Buffer {
  const id = createHash('sha256').update(passphrase).update('\0').update(salt).update(`${N}.${r}.${p}`).digest('base64');
  let key = derived.get(id);
  if (!key) {
    key = scryptSync(passphrase.normalize('NFC'), salt, 32, { N, r, p, maxmem: MAXMEM });
    if (derived.size > 64) derived.clear();
    derived.set(id, key);
  }
  return key;
}

function seal(plaintext: Buffer, passphrase: string, aad: string, salt: Buffer = randomBytes(16)): string {
  const key = deriveKey(passphrase, salt, KDF.N, KDF.r, KDF.p);
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  const s: Sealed = {
    v: VERSION,
    kdf: 'scrypt',
    ...KDF,
    salt: salt.toString('base64url'),
    iv: iv.toString('base64url'),
    ct: ct.toString('base64url'),
    tag: c.getAuthTag().toString('base64url'),
  };
  return Buffer.from(JSON.stringify(s)).toString('base64url');
}

function open(sealed: string, passphrase: string, aad: string): Buffer {
  let s: Sealed;
  try {
    s = JSON.parse(Buffer.from(sealed, 'base64url').toString('utf8')) as Sealed;
  } catch {
    throw new CharterError('STORE_ERROR', 'a sealed key is corrupt');
  }
  if (s.v !== VERSION || s.kdf !== 'scrypt' || s.N > 1 << 20 || s.r > 16 || s.p > 4) throw new CharterError('STORE_ERROR', 'a sealed key has an unknown format');
  const key = deriveKey(passphrase, Buffer.from(s.salt, 'base64url'), s.N, s.r, s.p);
  try {
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(s.iv, 'base64url'));
    d.setAAD(Buffer.from(aad));
    d.setAuthTag(Buffer.from(s.tag, 'base64url'));
    return Buffer.concat([d.update(Buffer.from(s.ct, 'base64url')), d.final()]);
  } catch {
    throw new CharterError('WRONG_PASSPHRASE', 'the passphrase does not unlock this key');
  }
}

/** Encrypts a private JWK: scrypt-derived key, AES-256-GCM, the DID as associated data. */
export function sealPrivateKey(jwk: PrivateJwk, passphrase: string, aad = ''): string {
  return seal(Buffer.from(JSON.stringify(validatePrivateJwk(jwk))), passphrase, `charter-key:${aad}`);
}

export function unsealPrivateKey(sealed: string, passphrase: string, aad = ''): PrivateJwk {
  const plain = open(sealed, passphrase, `charter-key:${aad}`);
  try {
    return validatePrivateJwk(JSON.parse(plain.toString('utf8')));
  } finally {
    plain.fill(0);
  }
}

/** A value stored in config that proves a passphrase right or wrong before anything is written. */
export function createPassphraseCheck(passphrase: string): string {
  return seal(Buffer.from('charter-passphrase-check'), passphrase, 'charter-check');
}

export function verifyPassphrase(check: string, passphrase: string): boolean {
  try {
    return timingSafeEqual(open(check, passphrase, 'charter-check'), Buffer.from('charter-passphrase-check'));
  } catch (e) {
    if (e instanceof CharterError && e.code === 'WRONG_PASSPHRASE') return false;
    throw e;
  }
}

export interface PassphraseSource {
  env?: NodeJS.ProcessEnv;
  stdin?: NodeJS.ReadStream | (NodeJS.ReadableStream & { isTTY?: boolean });
  stderr?: NodeJS.WritableStream;
  prompt?: string;
}

/** CHARTER_PASSPHRASE, else a hidden prompt on a terminal, else PASSPHRASE_REQUIRED. */
export async function getPassphrase(src: PassphraseSource = {}): Promise<string> {
  const env = src.env ?? process.env;
  const fromEnv = env.CHARTER_PASSPHRASE;
  if (fromEnv !== undefined && fromEnv.length > 0) return fromEnv;
  const stdin = src.stdin ?? process.stdin;
  if (!(stdin as { isTTY?: boolean }).isTTY) {
    throw new CharterError('PASSPHRASE_REQUIRED', 'a passphrase is needed to unlock the keystore: set CHARTER_PASSPHRASE (no terminal to ask on)');
  }
  const stderr = src.stderr ?? process.stderr;
  stderr.write(src.prompt ?? 'Charter passphrase: ');
  const muted = new Writable({ write: (_c, _e, cb) => cb() });
  const rl = createInterface({ input: stdin, output: muted, terminal: true });
  try {
    return await new Promise<string>((resolve) => rl.question('', (a) => resolve(a)));
  } finally {
    rl.close();
    stderr.write('\n');
  }
}
