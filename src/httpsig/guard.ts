import { serializeDictionary, type BareItem, type Item } from 'structured-headers';
import type { CharterErrorCode, Reason } from '../errors.js';
import type { PublicJwk } from '../keys/types.js';
import type { DirectoryResolver } from './directory-fetch.js';
import type { JwkSet, KeysOption } from './key-sources.js';
import type { RsaPublicJwk } from './keys.js';
import { WEB_BOT_AUTH_TAG } from './sign.js';
import { checkVerifyOptions, verifyRequestSignature, type NonceStore, type RequestSignatureDecision, type VerifyRequestSignatureOptions } from './verify.js';

/** What a transport hands over: the method, the absolute URL (built from the verifier's public origin), a header getter. */
export interface SignedRequestInput {
  method: string;
  url: string | URL;
  header(name: string): string | readonly string[] | null | undefined;
}

/** Options of a `requireSignature(...)` middleware guard. */
export interface SignatureGuardOptions {
  /** Required `tag`; default `web-bot-auth`; null accepts any tag. */
  tag?: string | null;
  /**
   * What the signature must cover besides `@authority`: `'agent'` (default:
   * the Web Bot Auth minimum, `@authority` and the Signature-Agent member;
   * it says who is asking, for any request to this site), `'request'`
   * (`@method`, `@path`, `@query` too: the signature is of this request), or
   * a list of component names (`content-digest` for a body).
   */
  cover?: 'agent' | 'request' | readonly string[];
  directories?: 'fetch' | Readonly<Record<string, JwkSet>> | DirectoryResolver;
  keys?: KeysOption;
  allowLoopback?: boolean;
  /** Refuse signatures without a nonce; nonces are used once through `store`. */
  requireNonce?: boolean;
  /** See VerifyRequestSignatureOptions.store ('caller': the guard pipeline uses the nonce up itself). */
  store?: NonceStore | 'caller';
  maxAgeSeconds?: number;
  skewSeconds?: number;
  legacySignatureAgent?: boolean;
  requireDirectorySignature?: boolean;
}

/**
 * The Web Bot Auth draft's verifier outcomes ("Verifier Outcomes"), plus
 * `unsigned`: verified; invalid (signature, coverage, key or freshness
 * fails); unverified (the key could not be obtained: directory down, key
 * unknown, replay cache down), which is not evidence against the signer.
 */
export type SignatureOutcome = 'verified' | 'invalid' | 'unverified' | 'unsigned';

export interface SignatureGuardDecision {
  allow: boolean;
  outcome: SignatureOutcome;
  /** The first refusal code, for the edge table (code -> HTTP status). */
  code?: CharterErrorCode;
  reasons: Reason[];
  /** A later try may succeed (directory or store unavailable). */
  retryable: boolean;
  /** On success: who signed. */
  agent?: { keyId: string; thumbprint: string; signatureAgent?: string; tag?: string; key: PublicJwk | RsaPublicJwk; label: string };
  /** On a refusal: an RFC 9421 §5.1 Accept-Signature value asking for the signature this guard wants. */
  acceptSignature?: string;
}

/** The components a `cover` option requires besides `@authority`. */
function coverOf(cover: SignatureGuardOptions['cover']): string[] {
  if (cover === undefined || cover === 'agent') return [];
  if (cover === 'request') return ['@method', '@path', '@query'];
  if (!Array.isArray(cover)) throw new TypeError("cover must be 'agent', 'request' or a list of component names");
  return [...cover];
}

/** Validates guard options once, when the guard is built (TypeError), and returns the verifier options. */
export function signatureGuardOptions(o: SignatureGuardOptions): VerifyRequestSignatureOptions {
  if (!o || typeof o !== 'object') throw new TypeError('requireSignature needs options (keys, directories, or both)');
  if (o.tag !== undefined && o.tag !== null && (typeof o.tag !== 'string' || o.tag.length === 0)) throw new TypeError('tag must be a non-empty string or null');
  const { tag, cover, ...rest } = o;
  const v: VerifyRequestSignatureOptions = { ...rest };
  const required = tag === undefined ? WEB_BOT_AUTH_TAG : tag;
  if (required !== null) v.requiredTag = required;
  const components = coverOf(cover);
  if (components.length > 0) v.requiredComponents = components;
  checkVerifyOptions(v);
  return v;
}

/**
 * The transport-neutral check a middleware guard calls per request: adapts
 * the getter and runs verifyRequestSignature (no exception for a bad request).
 */
export function checkRequestSignature(input: SignedRequestInput, options: VerifyRequestSignatureOptions): Promise<RequestSignatureDecision> {
  if (!input || typeof input.header !== 'function') throw new TypeError('checkRequestSignature needs { method, url, header(name) }');
  return verifyRequestSignature({ method: input.method, url: input.url, headers: (name) => input.header(name) }, options);
}

const UNVERIFIED: ReadonlySet<CharterErrorCode> = new Set(['DIRECTORY_UNAVAILABLE', 'SIGNATURE_KEY_UNKNOWN', 'STORE_UNAVAILABLE', 'STORE_ERROR']);
const RETRYABLE: ReadonlySet<CharterErrorCode> = new Set(['DIRECTORY_UNAVAILABLE', 'STORE_UNAVAILABLE', 'STORE_ERROR']);

/** Pure: turns a verification decision into the guard's allow / refuse, with the outcome class and a signature request. */
export function signatureGuardDecision(d: RequestSignatureDecision, options: SignatureGuardOptions = {}): SignatureGuardDecision {
  if (d.ok) {
    const agent: NonNullable<SignatureGuardDecision['agent']> = { keyId: d.keyId!, thumbprint: d.thumbprint!, key: d.key!, label: d.label! };
    if (d.signatureAgent !== undefined) agent.signatureAgent = d.signatureAgent;
    if (d.tag !== undefined) agent.tag = d.tag;
    return { allow: true, outcome: 'verified', reasons: [], retryable: false, agent };
  }
  const code = d.reasons[0]?.code ?? 'SIGNATURE_INVALID';
  const outcome: SignatureOutcome = code === 'SIGNATURE_MISSING' ? 'unsigned' : UNVERIFIED.has(code) ? 'unverified' : 'invalid';
  return { allow: false, outcome, code, reasons: d.reasons, retryable: RETRYABLE.has(code), acceptSignature: acceptSignature(options) };
}

/**
 * RFC 9421 §5.1 Accept-Signature for what this guard accepts: method,
 * authority, path and query covered, the agent's Signature-Agent member, the
 * tag. A signer answering it still picks its own created, expires, keyid and
 * nonce.
 */
export function acceptSignature(options: Pick<SignatureGuardOptions, 'tag' | 'cover'> = {}, label = 'sig1'): string {
  const tag = options.tag === undefined ? WEB_BOT_AUTH_TAG : options.tag;
  // What a client should sign: the request (as charterFetch does), and whatever else this guard requires.
  const names = [...new Set(['@method', '@authority', '@path', '@query', ...coverOf(options.cover)])];
  const items: Item[] = names.map((n) => [n, new Map()] as Item);
  if (options.tag === undefined || options.tag === WEB_BOT_AUTH_TAG) items.push(['signature-agent', new Map<string, BareItem>([['key', label]])]);
  const params = new Map<string, BareItem>(tag === null ? [] : [['tag', tag]]);
  return serializeDictionary(new Map([[label, [items, params]]]));
}
