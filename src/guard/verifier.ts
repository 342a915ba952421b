import { readOptions, type OptionSpec } from '../encoding/options.js';
import { randomBytes } from 'node:crypto';
import { createResolver } from '../did/index.js';
import type { CharterResolver } from '../did/types.js';
import type { StatusChecker } from '../credentials/types.js';
import { DEFAULT_MAX_AGE_SECONDS, DEFAULT_SKEW_SECONDS, MAX_MAX_AGE_SECONDS, MAX_SKEW_SECONDS } from '../credentials/time.js';
import { createStatusChecker } from '../status/index.js';
import type { TokenStatusChecker } from '../status/token-checker.js';
import type { SdJwtStatusChecker } from '../sdjwt/types.js';
import type { AuditStore, Ledger, NonceStore } from '../store/types.js';
import { createReceipts, type ReceiptOptions, type Receipts } from '../audit/index.js';

/** 'iat' (default): a recent iat and a jti used once. 'challenge': a nonce this verifier issued, used once. */
export type FreshnessMode = 'iat' | 'challenge';

/** What the guard keeps: the replay cache (and issued nonces) and the spend ledger; a fleet shares one store. */
export type GuardStore = NonceStore & Ledger;

export interface VerifierOptions {
  /** This verifier's identifier, which presentations must name in `aud` (a DID or an origin URL). */
  aud: string;
  /** Replay cache, issued nonces and the spend ledger (any Charter store: SQLite, PostgreSQL). */
  store: GuardStore;
  /** Default: createResolver() with its bounded TTL cache. */
  resolver?: CharterResolver;
  /** Default: createStatusChecker() over the resolver (lists trusted for at most 300 s). */
  status?: StatusChecker;
  /** The IETF Token Status List checker for SD-JWT grants. Default: createTokenStatusChecker() over the resolver. */
  tokenStatus?: SdJwtStatusChecker;
  /**
   * Allow loopback and plain-http did:web and status URLs for the default
   * resolver and status checker (local testing only). The CLI's
   * CHARTER_ALLOW_LOOPBACK is not read here: a library never relaxes its
   * network rules from the environment.
   */
  allowLoopback?: boolean;
  nonces?: FreshnessMode;
  /** Most seconds since the presentation's iat. Default 300. */
  maxAgeSeconds?: number;
  /** Clock skew allowed, seconds. Default 60, at most 300. */
  skewSeconds?: number;
  /** Lifetime of an issued nonce, seconds. Default 120. */
  nonceTtlSeconds?: number;
  /** The `realm` of WWW-Authenticate (RFC 6750 §3). Default `aud`. */
  realm?: string;
  /**
   * The origin clients address (e.g. `https://api.example.com`), which a
   * presentation's `htu` must name: the request's path is appended to it.
   * Required for HTTP use unless `trustHostHeader` (behind a proxy that sets
   * Host itself) or `http: false` (a verifier for MCP calls and transactions only).
   */
  publicOrigin?: string;
  /** Bind `htu` to the request's own Host header and scheme. Only behind a proxy that overwrites Host. */
  trustHostHeader?: boolean;
  /** `false`: this verifier never guards HTTP requests (the HTTP adapters refuse it). */
  http?: boolean;
  /**
   * Opt-in: release a reservation left unsettled for this many seconds (a
   * crashed or lost transaction). Only for callers whose transactions are
   * known to finish within it; every such release is recorded. Default:
   * held until settled (a held amount always counts, never an overspend).
   */
  holdTimeoutSeconds?: number;
  /**
   * Sign a decision receipt (`typ: charter-receipt+jwt`) for every decision,
   * allow and deny, and append it to the hash-chained audit log in `store`
   * (which must then be a full Charter store). The transports hand the
   * receipt to the caller (a `Charter-Receipt` header, MCP `_meta`, the
   * transaction's result).
   */
  receipts?: ReceiptOptions;
  /**
   * Called with what a route's own function (`owner`, `resource`, `amount`...) threw on a request, and
   * the framework's request: the caller gets a 400 with a fixed message (the error's text may name a
   * database, an address or a file), so this is where the server sees it, e.g. to log it. Its own
   * errors are ignored. Default: none.
   */
  onRouteError?: (error: unknown, request: unknown) => void;
}

/** A verifier built once; options checked here, not on the first request. */
export interface Verifier {
  readonly aud: string;
  readonly store: GuardStore;
  readonly resolver: CharterResolver;
  readonly status: StatusChecker;
  readonly tokenStatus: SdJwtStatusChecker;
  readonly nonces: FreshnessMode;
  readonly maxAgeSeconds: number;
  readonly skewSeconds: number;
  readonly nonceTtlSeconds: number;
  readonly realm: string;
  /** How `htu` is bound: to this origin, to the Host header (explicit opt-in), or never (no HTTP). */
  readonly http: { origin: string } | 'host-header' | false;
  readonly holdTimeoutSeconds?: number;
  /** Set when built with `receipts`: the signer, this instance's log chain, checkpoint() and flush(). */
  readonly receipts?: Receipts;
  readonly onRouteError?: (error: unknown, request: unknown) => void;
  /** A fresh nonce, remembered in the store until used or expired. */
  issueNonce(): Promise<{ nonce: string; expiresAt: Date }>;
}

/** Hands what a route's own function threw to the verifier's onRouteError; the hook failing changes nothing for the caller. */
export function reportRouteError(verifier: Verifier, error: unknown, request: unknown): void {
  try {
    verifier.onRouteError?.(error, request);
  } catch {
    // the server's hook failing changes nothing for the caller
  }
}

const inRange = (v: unknown, name: string, min: number, max: number): number => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new TypeError(`createVerifier: ${name} must be a number in [${min}, ${max}]`);
  return v;
};

/**
 * Store scopes, per audience so two verifiers sharing a store never see each
 * other's values. In 'iat' mode a vp+jwt is used once by its holder and jti,
 * an SD-JWT presentation by its holder and KB-JWT nonce, a payment mandate
 * chain by its agent key and closing nonce; in 'challenge' mode every kind
 * uses up one issued nonce.
 */
export const scopes = (aud: string) => ({
  issued: `http-nonce-issued ${aud}`,
  used: `http-nonce-used ${aud}`,
  jti: `http-jti ${aud}`,
  kb: `sd-jwt-kb-nonce ${aud}`,
  mandate: `mandate-nonce ${aud}`,
});

function httpBinding(options: VerifierOptions): Verifier['http'] {
  const { publicOrigin, trustHostHeader, http } = options;
  const set = [publicOrigin !== undefined, trustHostHeader === true, http === false].filter(Boolean).length;
  if (set !== 1) {
    throw new TypeError(
      'createVerifier: say which URL presentations are bound to: publicOrigin (the origin clients address, e.g. https://api.example.com), ' +
        'or trustHostHeader: true (behind a proxy that sets Host), or http: false (MCP calls and transactions only)',
    );
  }
  if (http === false) return false;
  if (trustHostHeader === true) return 'host-header';
  let u: URL;
  try {
    u = new URL(publicOrigin!);
  } catch {
    throw new TypeError('createVerifier: publicOrigin must be an absolute http(s) URL');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError('createVerifier: publicOrigin must be an absolute http(s) URL');
  // An origin only (scheme, host, port): a path would be dropped, so an app behind a proxy that strips a prefix
  // would bind proofs to URLs clients never call, and take proofs made for the site root's other services.
  if (u.pathname !== '/' || u.search !== '' || u.hash !== '' || u.username !== '' || u.password !== '' || !/^https?:\/\/[^/?#\\]+\/?$/i.test(publicOrigin!)) {
    throw new TypeError(
      `createVerifier: publicOrigin must be an origin only (e.g. ${u.origin}), with no path, query, fragment or user: presentations are bound to the full URL the app sees, so an app behind a proxy that strips a path prefix cannot be guarded`,
    );
  }
  return { origin: u.origin };
}

const OPTIONS: OptionSpec<VerifierOptions> = {
  aud: true,
  store: true,
  resolver: true,
  status: true,
  tokenStatus: true,
  allowLoopback: 'boolean',
  nonces: true,
  maxAgeSeconds: true,
  skewSeconds: true,
  nonceTtlSeconds: true,
  realm: true,
  publicOrigin: true,
  trustHostHeader: 'boolean',
  http: 'boolean',
  holdTimeoutSeconds: true,
  receipts: { signer: true, evidence: 'boolean', checkpointEvery: true, checkpointSeconds: true, unauthenticated: true, append: true },
  onRouteError: true,
};

export function createVerifier(given: VerifierOptions): Verifier {
  if (!given || typeof given !== 'object') throw new TypeError('createVerifier needs options');
  // encoding/options.ts: a misspelt `maxAgeSecond` or `receipt` is a TypeError, not a verifier that silently keeps the default.
  const options = readOptions('createVerifier', given, OPTIONS);
  const { aud, store } = options;
  if (typeof aud !== 'string' || aud.length === 0 || aud.length > 2048) throw new TypeError("createVerifier: aud must be a non-empty string (this verifier's DID or URL)");
  if (!store || typeof store.consumeNonce !== 'function' || typeof store.reserve !== 'function') {
    throw new TypeError('createVerifier: store must be a Charter store (replay cache and ledger)');
  }
  if (options.resolver !== undefined && typeof options.resolver?.resolveKey !== 'function') throw new TypeError('createVerifier: resolver must be a CharterResolver');
  if (options.status !== undefined && typeof options.status !== 'function') throw new TypeError('createVerifier: status must be a StatusChecker');
  if (options.tokenStatus !== undefined && typeof options.tokenStatus !== 'function') throw new TypeError('createVerifier: tokenStatus must be a Token Status List checker');
  const nonces = options.nonces ?? 'iat';
  if (nonces !== 'iat' && nonces !== 'challenge') throw new TypeError("createVerifier: nonces must be 'iat' or 'challenge'");
  const maxAgeSeconds = inRange(options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS, 'maxAgeSeconds', 1, MAX_MAX_AGE_SECONDS);
  const skewSeconds = inRange(options.skewSeconds ?? DEFAULT_SKEW_SECONDS, 'skewSeconds', 0, MAX_SKEW_SECONDS);
  const nonceTtlSeconds = inRange(options.nonceTtlSeconds ?? 120, 'nonceTtlSeconds', 1, 3600);
  const holdTimeoutSeconds = options.holdTimeoutSeconds === undefined ? undefined : inRange(options.holdTimeoutSeconds, 'holdTimeoutSeconds', 1, 366 * 86_400);
  const realm = options.realm ?? aud;
  if (typeof realm !== 'string' || /["\\\r\n]/.test(realm)) throw new TypeError('createVerifier: realm must be a string without quotes, backslashes or line breaks');
  const http = httpBinding(options);
  const { onRouteError } = options;
  if (onRouteError !== undefined && typeof onRouteError !== 'function') throw new TypeError('createVerifier: onRouteError must be a function (error, request) => void');
  const net = { allowLoopback: options.allowLoopback === true, allowHttp: options.allowLoopback === true };
  const resolver = options.resolver ?? createResolver(net);
  const status = options.status ?? createStatusChecker({ resolver, ...net });
  // Built on the first SD-JWT status check: a verifier that never sees one never loads the Token Status List code.
  let lazy: Promise<TokenStatusChecker> | undefined;
  const tokenStatus: SdJwtStatusChecker =
    options.tokenStatus ?? (async (st, ctx) => (await (lazy ??= import('../status/token-checker.js').then((m) => m.createTokenStatusChecker({ resolver, ...net }))))(st, ctx));
  const s = scopes(aud);
  const receipts = options.receipts !== undefined ? createReceipts(store as GuardStore & Partial<AuditStore> as AuditStore, options.receipts, resolver) : undefined;

  return Object.freeze({
    aud,
    store,
    resolver,
    status,
    tokenStatus,
    nonces,
    maxAgeSeconds,
    skewSeconds,
    nonceTtlSeconds,
    realm,
    http,
    ...(holdTimeoutSeconds !== undefined ? { holdTimeoutSeconds } : {}),
    ...(receipts ? { receipts } : {}),
    ...(onRouteError ? { onRouteError } : {}),
    async issueNonce() {
      const nonce = randomBytes(24).toString('base64url');
      const expiresAt = new Date(Date.now() + nonceTtlSeconds * 1000);
      await store.consumeNonce(s.issued, nonce, expiresAt);
      return { nonce, expiresAt };
    },
  });
}
