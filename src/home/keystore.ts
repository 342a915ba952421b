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

/** The memory scrypt needs (OpenSSL's count: 128·r·(N+2) for V, 128·r·p for B), which must stay within MAXMEM. */
export const scryptMemory = (N: number, r: number, p: number): number => 128 * r * (N + 2) + 128 * r * p;

/**
 * scrypt is deliberately slow; cache per (passphrase, salt, params) in this process only.
 * Any failure of the derivation is STORE_ERROR about `what`, never a raw RangeError.
 */
function deriveKey(passphrase: string, salt: Buffer, N: number, r: number, p: number, what = 'a sealed value'): Buffer {
  const id = createHash('sha256').update(passphrase).update('\0').update(salt).update(`${N}.${r}.${p}`).digest('base64');
  let key = derived.get(id);
  if (!key) {
    try {
      key = scryptSync(passphrase.normalize('NFC'), salt, 32, { N, r, p, maxmem: MAXMEM });
    } catch (e) {
      throw new CharterError('STORE_ERROR', `cannot derive the key of ${what} (scrypt N=${N}, r=${r}, p=${p}): ${(e as Error).message}`, { cause: e });
    }
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

const B64U = /^[A-Za-z0-9_-]*$/;
const bytes = (v: unknown, n?: number): Buffer | undefined => {
  if (typeof v !== 'string' || !B64U.test(v)) return undefined;
  const b = Buffer.from(v, 'base64url');
  return n === undefined || b.length === n ? b : undefined;
};
const powerOfTwo = (n: unknown): n is number => Number.isInteger(n) && (n as number) > 0 && ((n as number) & ((n as number) - 1)) === 0;

/**
 * The sealed value, read strictly: the format and cost Charter writes, or
 * stronger within bounds. Weaker scrypt parameters (RFC 7914: N ≥ 2^15,
 * r ≥ 8) or a GCM tag shorter than 16 bytes (NIST SP 800-38D §5.2.1.2), a
 * 12-byte IV and a 16-byte salt are refused: an attacker who can write the
 * file must not be able to lower what guessing the passphrase costs.
 */
function read(sealed: string, what: string): { s: Sealed; salt: Buffer; iv: Buffer; ct: Buffer; tag: Buffer } {
  let s: Sealed;
  try {
    s = JSON.parse(Buffer.from(sealed, 'base64url').toString('utf8')) as Sealed;
  } catch {
    throw new CharterError('STORE_ERROR', `${what} is corrupt`);
  }
  if (typeof s !== 'object' || s === null || s.v !== VERSION || s.kdf !== 'scrypt') throw new CharterError('STORE_ERROR', `${what} has an unknown format`);
  const salt = bytes(s.salt, 16);
  const iv = bytes(s.iv, 12);
  const tag = bytes(s.tag, 16);
  const ct = bytes(s.ct);
  const costOk = powerOfTwo(s.N) && s.N >= KDF.N && s.N <= 1 << 20 && Number.isInteger(s.r) && s.r >= KDF.r && s.r <= 16 && Number.isInteger(s.p) && s.p >= KDF.p && s.p <= 4;
  if (!salt || !iv || !tag || !ct || !costOk) throw new CharterError('STORE_ERROR', `${what} is corrupt, or sealed with weaker parameters than Charter writes`);
  // Stronger within those bounds, but beyond the memory this process gives scrypt: refused before deriving,
  // whatever the passphrase (a wrong one must not read as the crash a right one would get).
  if (scryptMemory(s.N, s.r, s.p) > MAXMEM) {
    throw new CharterError(
      'STORE_ERROR',
      `${what} was sealed with parameters this Charter cannot open (scrypt N=${s.N}, r=${s.r}, p=${s.p} needs more than ${MAXMEM / (1024 * 1024)} MiB)`,
    );
  }
  return { s, salt, iv, ct, tag };
}

/** Decrypts; undefined when the authentication fails (a wrong passphrase, or a changed or misplaced value). `what` names the value in errors. */
function open(sealed: string, passphrase: string, aad: string, what: string): Buffer | undefined {
  const { s, salt, iv, ct, tag } = read(sealed, what);
  const key = deriveKey(passphrase, salt, s.N, s.r, s.p, what);
  try {
    const d = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    d.setAAD(Buffer.from(aad));
    d.setAuthTag(tag);
    return Buffer.concat([d.update(ct), d.final()]);
  } catch {
    return undefined;
  }
}

/** Encrypts a private JWK: scrypt-derived key, AES-256-GCM, the DID as associated data. */
export function sealPrivateKey(jwk: PrivateJwk, passphrase: string, aad = ''): string {
  return seal(Buffer.from(JSON.stringify(validatePrivateJwk(jwk))), passphrase, `charter-key:${aad}`);
}

/**
 * Decrypts a private JWK with a passphrase the caller has already checked
 * (the home's check value): a failure then means the sealed value was
 * changed or belongs to another identity (the DID is its associated data),
 * which is STORE_ERROR, not WRONG_PASSPHRASE.
 */
export function unsealPrivateKey(sealed: string, passphrase: string, aad = ''): PrivateJwk {
  const plain = open(sealed, passphrase, `charter-key:${aad}`, `the sealed key of ${aad.slice(0, 100) || 'this identity'}`);
  if (plain === undefined) {
    throw new CharterError(
      'STORE_ERROR',
      `the sealed key of ${aad.slice(0, 100) || 'this identity'} does not open with the home's passphrase: it was changed, or belongs to another identity`,
    );
  }
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
  const plain = open(check, passphrase, 'charter-check', "the home's passphrase check");
  const want = Buffer.from('charter-passphrase-check');
  return plain !== undefined && plain.length === want.length && timingSafeEqual(plain, want);
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
    // Ctrl-D (end of input) and Ctrl-C (which a terminal in raw mode delivers to readline, not as a
    // signal) end the prompt without an answer: a refusal, so the command stops and cleans up instead
    // of waiting on a promise that never settles (which ended the process with exit 0).
    return await new Promise<string>((resolve, reject) => {
      rl.once('SIGINT', () => reject(noAnswer('interrupted')));
      rl.once('close', () => reject(noAnswer('closed')));
      rl.question('', resolve);
    });
  } finally {
    rl.close();
    stderr.write('\n');
  }
}

function noAnswer(how: 'interrupted' | 'closed'): CharterError {
  return new CharterError('PASSPHRASE_REQUIRED', `no passphrase was given (the prompt was ${how}): nothing was unlocked; answer the prompt or set CHARTER_PASSPHRASE`);
}
