import { CharterError } from '../errors.js';
import type { KeyPair, KeyType, PrivateJwk } from '../keys/types.js';
import { assertSignUse, createSigner, generateKeyPair, publicJwkOf, validatePrivateJwk } from '../keys/index.js';
import { existsSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { didKeyRef } from '../did/index.js';
import type { CharterResolver } from '../did/types.js';
import type { Issuer } from '../credentials/types.js';
import type { StatusListChecker } from '../status/index.js';
import type { TokenStatusChecker } from '../status/token-checker.js';
import type { IdentityRecord, Store } from '../store/types.js';
import { openHomeStore, openStore, SQLITE_FILE, type Created } from './open-store.js';
import { claimSqliteConfig } from '../store/sqlite/store.js';
import { checkHome, resolveHome } from './dir.js';
import { isLoopbackHostname, verifyTools, type VerifyTools } from './net.js';
import { createPassphraseCheck, getPassphrase, sealPrivateKey, unsealPrivateKey, verifyPassphrase } from './keystore.js';

const PASSPHRASE_CHECK = 'passphrase-check';
const PUBLIC_URL = 'public-url';
/** An alias: 1-64 ASCII letters, digits, '.', '_' and '-', starting with a letter or digit (so it never reads as a flag or a DID). */
const ALIAS = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface HomeOptions {
  /** Directory; defaults to $CHARTER_HOME or ~/.charter. */
  home?: string;
  env?: NodeJS.ProcessEnv;
  /** Supplies the passphrase when a key must be unlocked (default: env, then TTY prompt). */
  passphrase?: () => Promise<string>;
  /**
   * Allow loopback and plain-http DID and status URLs everywhere (tests).
   * Without it, the home's own public origin is still allowed when that is a
   * loopback or http URL, so a home testing locally verifies its own lists.
   */
  allowLoopback?: boolean;
  /**
   * Create the home (directory and SQLite file) when it does not exist.
   * Default true. With false, a home that does not exist or was never
   * initialized is NOT_INITIALIZED and nothing is created on disk.
   */
  create?: boolean;
}

export interface CreateIdentityInput {
  alias: string;
  keyType?: KeyType;
  method?: 'key' | 'jwk' | 'web';
  /** For did:web: `example.com` or `example.com:path`. */
  domain?: string;
  meta?: Record<string, unknown>;
}

/**
 * An opened Charter home: the store, a resolver and a status checker wired with
 * the home's settings, and the unlocked signers of its identities. This is the
 * store-backed service layer the CLI and `charter serve` stand on.
 */
export class Home implements VerifyTools {
  readonly dir: string;
  readonly store: Store;
  readonly resolver: CharterResolver;
  readonly status: StatusListChecker;
  readonly tokenStatus: TokenStatusChecker;
  readonly allowLoopback: boolean;
  /** The home's public origin when it is loopback or http: allowed for verification without allowLoopback. */
  readonly ownOrigin?: string;
  readonly #askPassphrase: () => Promise<string>;
  /** Asks again on a terminal when a new passphrase is chosen; undefined without a terminal. */
  readonly #confirmPassphrase: (() => Promise<string>) | undefined;
  #passphrase: string | undefined;
  readonly #issuers = new Map<string, Issuer>();

  /** `publicUrl`: the home's public URL when opened, for the own-origin rule of HomeOptions.allowLoopback. */
  constructor(dir: string, store: Store, options: HomeOptions, publicUrl?: string) {
    this.dir = dir;
    this.store = store;
    const env = options.env ?? process.env;
    const tools = verifyTools({ allowLoopback: options.allowLoopback ?? env.CHARTER_ALLOW_LOOPBACK === '1', ...(publicUrl !== undefined ? { publicUrl } : {}) });
    this.allowLoopback = tools.allowLoopback;
    this.resolver = tools.resolver;
    this.status = tools.status;
    this.tokenStatus = tools.tokenStatus;
    if (tools.ownOrigin !== undefined) this.ownOrigin = tools.ownOrigin;
    const sources = passphraseSources(options, env);
    this.#askPassphrase = sources.ask;
    this.#confirmPassphrase = sources.confirm;
  }

  /** The passphrase, asked once and checked against the home's check value. */
  async passphrase(): Promise<string> {
    if (this.#passphrase !== undefined) return this.#passphrase;
    const check = await this.store.getConfig(PASSPHRASE_CHECK);
    if (check === undefined) throw notInitialized(this.dir);
    const p = await this.#askPassphrase();
    if (!verifyPassphrase(check, p)) throw new CharterError('WRONG_PASSPHRASE', 'the passphrase does not unlock this Charter home');
    this.#passphrase = p;
    return p;
  }

  async isInitialized(): Promise<boolean> {
    return (await this.store.getConfig(PASSPHRASE_CHECK)) !== undefined;
  }

  /** Create the home's passphrase check. Idempotent: an initialized home is only re-checked. */
  async init(publicUrl?: string): Promise<{ created: boolean }> {
    // Checked before anything is written: a refused URL leaves the home as it was.
    const url = publicUrl === undefined ? undefined : normalizePublicUrl(publicUrl);
    let created = false;
    if (await this.isInitialized()) {
      await this.passphrase();
    } else {
      const p = await newPassphrase(this.#askPassphrase, this.#confirmPassphrase);
      // Two inits racing on a new home: the first check written stays, and the other init learns
      // whether its passphrase is that one (created: false) or not (WRONG_PASSPHRASE), never
      // silently replacing the passphrase the first one reported as created.
      const check = createPassphraseCheck(p);
      const held = await claimPassphraseCheck(this.store, check);
      if (held !== check && !verifyPassphrase(held, p)) {
        throw new CharterError('WRONG_PASSPHRASE', 'another `charter init` created this home at the same moment with another passphrase: this one does not unlock it');
      }
      this.#passphrase = p;
      created = held === check;
    }
    if (url !== undefined) await this.store.setConfig(PUBLIC_URL, url);
    return { created };
  }

  async publicUrl(): Promise<string | undefined> {
    return this.store.getConfig(PUBLIC_URL);
  }

  async setPublicUrl(url: string): Promise<void> {
    await this.store.setConfig(PUBLIC_URL, normalizePublicUrl(url));
  }

  /** The public URL, or a clear error naming how to set it. */
  async requirePublicUrl(): Promise<string> {
    const u = await this.publicUrl();
    if (u === undefined) {
      throw new CharterError('NOT_INITIALIZED', 'no public URL for status lists: run `charter config set public-url URL` (or `charter init --public-url URL`)');
    }
    return u;
  }

  /** Like createIdentity, with an existing private key (JWK) instead of a fresh one. */
  async importIdentity(input: Omit<CreateIdentityInput, 'keyType'> & { privateJwk: unknown }): Promise<IdentityRecord> {
    // RFC 7517 §4.2-4.3: an identity signs (its DID lists the key for assertionMethod and authentication); a key
    // its owner marked for encryption would lose the mark here (validatePrivateJwk drops it) and sign as the DID.
    assertSignUse(input.privateJwk, 'the imported key');
    const privateJwk = validatePrivateJwk(input.privateJwk);
    return this.createIdentity({ ...input, keyType: privateJwk.crv }, { type: privateJwk.crv, privateJwk, publicJwk: publicJwkOf(privateJwk) });
  }

  async createIdentity(input: CreateIdentityInput, existing?: KeyPair): Promise<IdentityRecord> {
    if (!ALIAS.test(input.alias)) {
      throw new CharterError('INVALID_ARGUMENT', `alias "${input.alias.slice(0, 64)}" must be 1-64 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit`);
    }
    const method = input.method ?? 'key';
    if (method === 'web' && !input.domain) throw new CharterError('INVALID_ARGUMENT', 'a did:web identity needs --domain (e.g. example.com or example.com:users:alice)');
    const passphrase = await this.passphrase();
    if (await this.store.getIdentity(input.alias)) throw new CharterError('ALREADY_EXISTS', `an identity named "${input.alias}" already exists`);
    const pair = existing ?? generateKeyPair(input.keyType ?? 'Ed25519');
    const ref = didKeyRef(method, pair.publicJwk, input.domain);
    const same = await this.store.getIdentity(ref.did);
    if (same) throw new CharterError('ALREADY_EXISTS', `that key is already in this home as "${same.alias}"`);
    const rec: IdentityRecord = {
      alias: input.alias,
      did: ref.did,
      kid: ref.kid,
      keyType: pair.type,
      method,
      publicJwk: pair.publicJwk,
      sealedPrivateKey: sealPrivateKey(pair.privateJwk, passphrase, ref.did),
      createdAt: new Date().toISOString(),
      ...(ref.document ? { document: ref.document as unknown as Record<string, unknown> } : {}),
      ...(input.meta ? { meta: input.meta } : {}),
    };
    await this.store.putIdentity(rec);
    return rec;
  }

  async identity(aliasOrDid: string): Promise<IdentityRecord> {
    const rec = await this.store.getIdentity(aliasOrDid);
    if (!rec) throw new CharterError('NOT_FOUND', `no identity "${aliasOrDid.slice(0, 80)}" in this home (see \`charter id list\`)`);
    return rec;
  }

  /** An unlocked signing identity. */
  async issuer(aliasOrDid: string): Promise<Issuer> {
    const cached = this.#issuers.get(aliasOrDid);
    if (cached) return cached;
    const rec = await this.identity(aliasOrDid);
    const jwk = await this.privateKey(rec);
    const issuer: Issuer = { did: rec.did, kid: rec.kid, keyType: rec.keyType, publicJwk: rec.publicJwk, signer: createSigner(jwk) };
    this.#issuers.set(rec.alias, issuer);
    this.#issuers.set(rec.did, issuer);
    return issuer;
  }

  /**
   * The identities this home can prove it holds: those whose sealed key
   * opens with its passphrase, bound to their DID, and makes their stored
   * public key. A row someone wrote into the database without the passphrase
   * (a DID of its own, or another row's sealed key under its DID) is not one
   * of them, so it cannot vouch for what it signed (`charter audit verify`).
   */
  async ownedIdentities(): Promise<IdentityRecord[]> {
    // The passphrase first: a wrong one is the caller's error (WRONG_PASSPHRASE), not a home holding nothing.
    await this.passphrase();
    const owned: IdentityRecord[] = [];
    for (const rec of await this.store.listIdentities()) {
      try {
        await this.privateKey(rec);
        owned.push(rec);
      } catch {
        // not sealed by this home for this DID (or not readable at all): not one of its identities
      }
    }
    return owned;
  }

  /** The private JWK, for `id export --private` only. */
  async privateKey(rec: IdentityRecord): Promise<PrivateJwk> {
    const jwk = unsealPrivateKey(rec.sealedPrivateKey, await this.passphrase(), rec.did);
    // The sealed key is bound to the DID (its associated data); the stored public key must be its own too,
    // or a changed row would sign with one key and publish another (directories, documents).
    const pub = publicJwkOf(jwk) as unknown as Record<string, unknown>;
    const stored = rec.publicJwk as unknown as Record<string, unknown>;
    if (['kty', 'crv', 'x', 'y'].some((k) => pub[k] !== stored[k])) {
      throw new CharterError('STORE_ERROR', `the stored public key of ${rec.alias} is not the one its private key makes: the home was changed`);
    }
    return jwk;
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}

/** Where a home's passphrase comes from: options.passphrase, else CHARTER_PASSPHRASE or the terminal (asked twice for a new one). */
function passphraseSources(options: HomeOptions, env: NodeJS.ProcessEnv): { ask: () => Promise<string>; confirm: (() => Promise<string>) | undefined } {
  return {
    ask: options.passphrase ?? (() => getPassphrase({ env })),
    confirm: options.passphrase === undefined && !env.CHARTER_PASSPHRASE && process.stdin.isTTY ? () => getPassphrase({ env, prompt: 'Repeat the passphrase: ' }) : undefined,
  };
}

/** A new home's passphrase: asked, repeated on a terminal, at least 8 characters; INVALID_ARGUMENT otherwise. */
async function newPassphrase(ask: () => Promise<string>, confirm: (() => Promise<string>) | undefined): Promise<string> {
  const p = await ask();
  if (confirm && (await confirm()) !== p) throw new CharterError('INVALID_ARGUMENT', 'the two passphrases differ: nothing was created');
  if (p.length < 8) throw new CharterError('INVALID_ARGUMENT', 'the passphrase must have at least 8 characters');
  return p;
}

/**
 * An absolute http(s) URL without a trailing slash, or INVALID_ARGUMENT. The public URL is the base every status list and did:web URL is built on, and it is signed into
 * each status entry: a user or password in it would be published to every verifier, and a query or
 * fragment would end up in the middle of the URLs built on it. The message never repeats the text
 * given, which may hold a password.
 */
function normalizePublicUrl(url: string): string {
  const u = typeof url === 'string' && URL.canParse(url) ? new URL(url) : undefined;
  if (!u) throw new CharterError('INVALID_ARGUMENT', 'the public URL is not an absolute URL such as https://example.com');
  // Verifiers fetch plain http from loopback only (did/fetch.ts): an http URL elsewhere would publish lists and
  // documents no verifier reads, this home's own included.
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopbackHostname(u.hostname))) {
    throw new CharterError('INVALID_ARGUMENT', 'the public URL must use https (or http on loopback: 127.0.0.1, localhost, [::1])');
  }
  if (u.username !== '' || u.password !== '') {
    throw new CharterError('INVALID_ARGUMENT', 'the public URL carries a user name or password: it is published in every status entry, so give it without them');
  }
  if (u.search !== '' || u.hash !== '' || url.includes('?') || url.includes('#')) {
    throw new CharterError('INVALID_ARGUMENT', 'the public URL has a query or fragment: give the base only (scheme, host, optional path)');
  }
  return u.href.replace(/\/+$/, '');
}

/**
 * Opens a Charter home. With `create: false` (what every command but `charter
 * init` uses) a home that does not exist, or was never initialized, is
 * NOT_INITIALIZED and nothing is created: a mistyped --home leaves no trace.
 */
export async function openHome(options: HomeOptions = {}): Promise<Home> {
  const env = options.env ?? process.env;
  const dir = options.home ?? resolveHome(env);
  const create = options.create ?? true;
  const store = await openStore({ home: dir, env, create });
  try {
    if (!create && (await store.getConfig(PASSPHRASE_CHECK)) === undefined) throw notInitialized(dir);
    return new Home(dir, store, options, await store.getConfig(PUBLIC_URL));
  } catch (e) {
    await store.close();
    throw e;
  }
}

export function notInitialized(dir: string): CharterError {
  return new CharterError('NOT_INITIALIZED', `no Charter home at ${dir}: run \`charter init\` first (or check --home and CHARTER_HOME)`);
}

/**
 * Writes `check` as the passphrase check unless the home has one, and returns
 * the one it holds afterwards. SQLite: one immediate transaction. Another
 * store (PostgreSQL): a claim in its replay cache decides which racing init
 * writes, and the others wait for that value.
 */
async function claimPassphraseCheck(store: Store, check: string): Promise<string> {
  const sqlite = claimSqliteConfig(store, PASSPHRASE_CHECK, check);
  if (sqlite !== undefined) return sqlite;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const held = await store.getConfig(PASSPHRASE_CHECK);
    if (held !== undefined) return held;
    if (await store.consumeNonce('charter:init', PASSPHRASE_CHECK, new Date(Date.now() + 60_000))) {
      const raced = await store.getConfig(PASSPHRASE_CHECK);
      if (raced !== undefined) return raced;
      await store.setConfig(PASSPHRASE_CHECK, check);
      return check;
    }
    if (Date.now() > deadline) throw new CharterError('STORE_UNAVAILABLE', 'another `charter init` of this home is under way: try again in a minute');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * `charter init`: opens the home, creating it, and sets its passphrase (and
 * public URL). A failure removes what this call created (the SQLite file, the
 * directories), so a refused init leaves nothing behind; an existing home, or
 * anything another process made or is using meanwhile, is never removed. The
 * error is the init's own, never one from the cleanup.
 */
export async function initHome(options: HomeOptions & { publicUrl?: string } = {}): Promise<{ home: Home; created: boolean }> {
  const env = options.env ?? process.env;
  const dir = options.home ?? resolveHome(env);
  // What can be refused is refused before anything is created: the public URL, and for a new
  // (SQLite) home the passphrase (asked, repeated, long enough). A file made and then removed again
  // is a file another init starting at that moment may already have opened.
  if (options.publicUrl !== undefined) normalizePublicUrl(options.publicUrl);
  let opts: HomeOptions = options;
  if (!env.CHARTER_STORE && !existsSync(join(dir, SQLITE_FILE))) {
    if (existsSync(dir)) checkHome(dir);
    const { ask, confirm } = passphraseSources(options, env);
    const chosen = await newPassphrase(ask, confirm);
    opts = { ...options, passphrase: async () => chosen };
  }
  const made: Created = { dirs: [] };
  let store: Store | undefined;
  try {
    store = await openHomeStore({ home: dir, env, create: true }, made);
    const home = new Home(dir, store, opts, await store.getConfig(PUBLIC_URL));
    const { created } = await home.init(options.publicUrl);
    return { home, created };
  } catch (e) {
    await undoCreate(made, store).catch(() => undefined);
    throw e;
  }
}

/**
 * Removes what a failed init created: the SQLite file only while it holds no
 * passphrase check (another init's home) and no other connection has it open
 * (SQLite deletes the WAL file when its last connection closes: a WAL file
 * still there after closing ours means another process is in it), then the
 * directories it made, deepest first, each only while empty.
 */
async function undoCreate(made: Created, store: Store | undefined): Promise<void> {
  let removeFile = made.file !== undefined;
  try {
    if (removeFile && store) removeFile = (await store.getConfig(PASSPHRASE_CHECK)) === undefined;
  } finally {
    await store?.close();
  }
  const file = made.file;
  if (removeFile && file !== undefined && !existsSync(`${file}-wal`)) {
    for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) rmSync(f, { force: true });
  }
  for (const d of made.dirs) {
    try {
      rmdirSync(d);
    } catch {
      break;
    }
  }
}
