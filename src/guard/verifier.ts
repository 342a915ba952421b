import { randomBytes } from 'node:crypto';
import type { Reason } from '../errors.js';
import { createResolver } from '../did/index.js';
import type { CharterResolver } from '../did/types.js';
import type { StatusChecker } from '../credentials/types.js';
import { createStatusChecker } from '../status/index.js';
import type { Store } from '../store/types.js';
import type { FreshnessMode } from './binding.js';

export interface VerifierOptions {
  /** This verifier's identifier, which presentations must name in `aud` (a DID or an origin URL). */
  aud: string;
  /** Replay cache, issued nonces and (for requireAgent) the spend ledger; a fleet shares one store. */
  store: Store;
  /** Default: createResolver() with its bounded TTL cache. */
  resolver?: CharterResolver;
  /** Default: createStatusChecker() over the resolver, lists cached by their ttl. */
  status?: StatusChecker;
  /** Allow loopback and plain-http did:web and status URLs for the default resolver and status checker (local testing). */
  allowLoopback?: boolean;
  /** 'iat' (default): a recent iat and a jti used once. 'challenge': a nonce this verifier issued, used once. */
  nonces?: FreshnessMode;
  /** Most seconds since the presentation's iat. Default 60. */
  maxAgeSeconds?: number;
  /** Clock skew allowed, seconds. Default 60, at most 300. */
  skewSeconds?: number;
  /** Lifetime of an issued nonce, seconds. Default 120. */
  nonceTtlSeconds?: number;
  /** The `realm` of WWW-Authenticate (RFC 6750 §3). Default `aud`. */
  realm?: string;
  /**
   * The origin clients address (e.g. `https://api.example.com` behind a proxy);
   * `htu` is compared with it plus the request's path. Default: the request's own URL.
   */
  publicOrigin?: string;
}

/** A verifier built once; options checked here, not on the first request. */
export interface Verifier {
  readonly aud: string;
  readonly store: Store;
  readonly resolver: CharterResolver;
  readonly status: StatusChecker;
  readonly nonces: FreshnessMode;
  readonly maxAgeSeconds: number;
  readonly skewSeconds: number;
  readonly nonceTtlSeconds: number;
  readonly realm: string;
  readonly publicOrigin?: string;
  /** A fresh nonce, remembered in the store until used or expired. */
  issueNonce(): Promise<{ nonce: string; expiresAt: Date }>;
}

const posInt = (v: unknown, name: string, max = 86_400): number => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max) throw new TypeError(`createVerifier: ${name} must be a number in (0, ${max}]`);
  return v;
};

/** Store scopes, per audience so two verifiers sharing a store never see each other's values. */
export const scopes = (aud: string) => ({ issued: `http-nonce-issued ${aud}`, used: `http-nonce-used ${aud}`, jti: `http-jti ${aud}` });

export function createVerifier(options: VerifierOptions): Verifier {
  if (!options || typeof options !== 'object') throw new TypeError('createVerifier needs options');
  const { aud, store } = options;
  if (typeof aud !== 'string' || aud.length === 0 || aud.length > 2048) throw new TypeError('createVerifier: aud must be a non-empty string (this verifier\'s DID or URL)');
  if (!store || typeof store.consumeNonce !== 'function') throw new TypeError('createVerifier: store must be a Charter Store (replay cache and ledger)');
  if (options.resolver !== undefined && typeof options.resolver.resolveKey !== 'function') throw new TypeError('createVerifier: resolver must be a CharterResolver');
  if (options.status !== undefined && typeof options.status !== 'function') throw new TypeError('createVerifier: status must be a StatusChecker');
  const nonces = options.nonces ?? 'iat';
  if (nonces !== 'iat' && nonces !== 'challenge') throw new TypeError("createVerifier: nonces must be 'iat' or 'challenge'");
  const maxAgeSeconds = posInt(options.maxAgeSeconds ?? 60, 'maxAgeSeconds', 3600);
  const skewSeconds = options.skewSeconds ?? 60;
  if (typeof skewSeconds !== 'number' || !(skewSeconds >= 0 && skewSeconds <= 300)) throw new TypeError('createVerifier: skewSeconds must be in [0, 300]');
  const nonceTtlSeconds = posInt(options.nonceTtlSeconds ?? 120, 'nonceTtlSeconds', 3600);
  const realm = options.realm ?? aud;
  if (typeof realm !== 'string' || /["\\\r\n]/.test(realm)) throw new TypeError('createVerifier: realm must be a string without quotes, backslashes or line breaks');
  let publicOrigin: string | undefined;
  if (options.publicOrigin !== undefined) {
    let u: URL;
    try {
      u = new URL(options.publicOrigin);
    } catch {
      throw new TypeError('createVerifier: publicOrigin must be an absolute http(s) URL');
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError('createVerifier: publicOrigin must be an absolute http(s) URL');
    publicOrigin = u.origin;
  }
  const net = { allowLoopback: options.allowLoopback === true, allowHttp: options.allowLoopback === true };
  const resolver = options.resolver ?? createResolver(net);
  const status = options.status ?? createStatusChecker({ resolver, ...net });
  const s = scopes(aud);

  return Object.freeze({
    aud,
    store,
    resolver,
    status,
    nonces,
    maxAgeSeconds,
    skewSeconds,
    nonceTtlSeconds,
    realm,
    ...(publicOrigin !== undefined ? { publicOrigin } : {}),
    async issueNonce() {
      const nonce = randomBytes(24).toString('base64url');
      const expiresAt = new Date(Date.now() + nonceTtlSeconds * 1000);
      await store.consumeNonce(s.issued, nonce, expiresAt);
      return { nonce, expiresAt };
    },
  });
}

/**
 * Marks a presented value used; a refusal when it was used before
 * (REPLAY_DETECTED) or, in challenge mode, never issued (NONCE_MISMATCH). Using first and checking issuance second
 * keeps a made-up nonce from ever passing: the one request that wins the
 * "used" slot finds it not issued (and the check records it, harmlessly,
 * since its "used" slot is already taken).
 */
export async function redeem(v: Verifier, holder: string, p: Record<string, unknown>, now: number): Promise<Reason | undefined> {
  const s = scopes(v.aud);
  if (v.nonces === 'challenge') {
    const nonce = String(p.nonce);
    const until = new Date(now + v.nonceTtlSeconds * 1000);
    if (!(await v.store.consumeNonce(s.used, nonce, until))) return replayed();
    return (await v.store.consumeNonce(s.issued, nonce, until)) ? unknownNonce() : undefined;
  }
  // Kept until the presentation is stale anyway: iat + maxAge + skew.
  const until = new Date((p.iat as number) * 1000 + (v.maxAgeSeconds + v.skewSeconds) * 1000 + 1000);
  return (await v.store.consumeNonce(s.jti, `${holder} ${String(p.jti)}`, until)) ? undefined : replayed();
}

const replayed = (): Reason => ({ code: 'REPLAY_DETECTED', message: 'this presentation (its jti or nonce) was already used' });
const unknownNonce = (): Reason => ({ code: 'NONCE_MISMATCH', message: 'the nonce was not issued by this verifier, or has expired' });
