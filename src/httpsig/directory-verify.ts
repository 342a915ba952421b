import { CharterError, shown } from '../errors.js';
import { signatureBase, parseSignatureInput } from './base.js';
import { componentId, type MessageContext } from './components.js';
import { contentDigestMismatch } from './digest.js';
import { combinedFieldValue, fieldGetter, type HeaderSource } from './fields.js';
import { importHttpSigKey, signatureAlgorithm, verifyBase, type HttpSigKey } from './keys.js';
import { readSignatureFields } from './signature-fields.js';
import { nowMsOf, skewMsOf } from './clock.js';
import { jsonTextProblem } from '../encoding/json.js';

export const DIRECTORY_PATH = '/.well-known/http-message-signatures-directory';
export const DIRECTORY_MEDIA_TYPE = 'application/http-message-signatures-directory+json';
export const DIRECTORY_TAG = 'http-message-signatures-directory';

/** A directory response as received. */
export interface DirectoryResponseInput {
  /** The URL that was fetched: its authority is what `"@authority";req` covers. */
  url: string | URL;
  status?: number;
  headers: HeaderSource;
  body: Uint8Array | string;
}

export interface DirectoryKey extends HttpSigKey {
  /** A valid directory response signature (the draft's possession proof) covers this key. */
  bound: boolean;
}

export interface VerifiedDirectory {
  url: string;
  keys: DirectoryKey[];
  /** Epoch ms after which a binding signature of this response has expired (the cache must not outlive it). */
  expiresAt?: number;
}

export interface VerifyDirectoryOptions {
  /** A valid Date; default the current time. */
  now?: Date;
  /** Default 60, at most 300 (DESIGN.md "Time"). */
  skewSeconds?: number;
  /**
   * Charter's policy (default true): every key the directory lists must carry
   * a valid possession-proof signature. Draft -02 made those signatures
   * optional for directly resolved keys ("Make directory response signatures
   * optional"); false follows the draft.
   */
  requireSignature?: boolean;
  /** The draft ("Key count"): bound the work a directory can cause. Default 16, a positive integer. */
  maxKeys?: number;
}

/** The options in force (TypeError for misuse): a NaN or infinite bound would switch its check off. */
function directoryOptions(options: VerifyDirectoryOptions): { now: number; skewMs: number; maxKeys: number } {
  if (options === null || typeof options !== 'object') throw new TypeError('verifyDirectoryResponse options must be an object');
  const maxKeys = options.maxKeys === undefined ? 16 : options.maxKeys;
  if (!Number.isSafeInteger(maxKeys) || maxKeys <= 0) throw new TypeError('maxKeys must be a positive integer');
  return { now: nowMsOf(options.now, 'verifyDirectoryResponse'), skewMs: skewMsOf(options.skewSeconds), maxKeys };
}

const BINDING_LABEL = /^binding\d*$/;

function invalid(message: string): CharterError {
  return new CharterError('DIRECTORY_INVALID', message);
}

/**
 * Checks a key directory response (Web Bot Auth draft, "Directory Format" and
 * Appendix "Validating the Domain Binding"): media type, a JWKS whose `kid`s
 * are the keys' thumbprints, and one signature per key labelled `binding` or
 * `binding<i>`, covering `("@authority";req "content-digest")` with
 * `created`, `expires`, `keyid` and tag `http-message-signatures-directory`,
 * with the Content-Digest (RFC 9530) checked against the body. Throws
 * CharterError DIRECTORY_INVALID; options are checked first (TypeError).
 */
export function verifyDirectoryResponse(res: DirectoryResponseInput, options: VerifyDirectoryOptions = {}): VerifiedDirectory {
  const { now, skewMs, maxKeys } = directoryOptions(options);
  // The response as the caller's own fetch gave it: anything else is misuse, named as such (not an engine's TypeError).
  const given = typeof res === 'object' && res !== null ? res : ({} as Partial<DirectoryResponseInput>);
  const url = URL.parse(typeof given.url === 'string' ? given.url : given.url instanceof URL ? given.url.href : '');
  if (url === null || !(typeof given.body === 'string' || given.body instanceof Uint8Array)) {
    throw new TypeError('verifyDirectoryResponse needs the response fetched: { url (absolute), status, headers, body (a string or bytes) }');
  }
  if ((given.status ?? 200) !== 200) throw new CharterError('DIRECTORY_UNAVAILABLE', `the directory at ${url.host} answered HTTP ${shown(given.status, 20)}`);
  const field = fieldGetter(given.headers!);
  const type = combinedFieldValue(field('content-type') ?? [])
    .split(';')[0]!
    .trim()
    .toLowerCase();
  if (type !== DIRECTORY_MEDIA_TYPE) throw invalid(`the directory at ${url.host} is not served as ${DIRECTORY_MEDIA_TYPE}`);
  const body = typeof given.body === 'string' ? Buffer.from(given.body, 'utf8') : given.body;

  let doc: unknown;
  const text = Buffer.from(body).toString('utf8');
  try {
    doc = JSON.parse(text);
  } catch {
    throw invalid(`the directory at ${url.host} is not JSON`);
  }
  // A key naming "x" twice is one key to JSON.parse (last wins) and another to a first-wins reader.
  const problem = jsonTextProblem(text);
  if (problem !== undefined) throw invalid(`the directory at ${url.host} ${problem}`);
  const list = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) throw invalid(`the directory at ${url.host} has no "keys" array`);
  if (list.length > maxKeys) throw invalid(`the directory at ${url.host} lists more than ${maxKeys} keys`);
  const keys: DirectoryKey[] = [];
  let keysExpire = Infinity;
  // Each key once (signDirectory writes none twice): a second copy would let an undated one stand in for one
  // its operator dated expired, and its binding signature could only ever be matched to one of them.
  const listed = new Set<string>();
  for (const entry of list) {
    let k: HttpSigKey;
    try {
      k = importHttpSigKey(entry);
    } catch (e) {
      // A key Charter cannot verify HTTP signatures with (X25519, P-384, an RSA key of 1024 bits, a key whose
      // alg names another algorithm: RS512, ECDH-ES) is left aside; a broken key (private members, a bad
      // encoding, a point off its curve) is refused.
      if (e instanceof CharterError && (e.code === 'UNSUPPORTED_KEY_TYPE' || e.code === 'ALG_KEY_MISMATCH')) continue;
      throw invalid(`the directory at ${url.host} lists a malformed key`);
    }
    // The draft ("Key Distribution and Discovery"): a directory's `kid`, when present, is the key's thumbprint.
    if (k.kid !== undefined && k.kid !== k.thumbprint) throw invalid(`the directory at ${url.host} labels a key with a kid that is not its thumbprint`);
    if (listed.has(k.thumbprint)) throw invalid(`the directory at ${url.host} lists the key ${k.thumbprint.slice(0, 43)} more than once`);
    listed.add(k.thumbprint);
    // The Web Bot Auth drafts date a directory's keys (`nbf`, `exp`) for rotation: a key its operator
    // declared expired, or not yet in use, signs nothing (DESIGN.md "Time": every bound present applies).
    const window = keyWindow(entry as Record<string, unknown>);
    if (window === undefined) throw invalid(`the directory at ${url.host} dates a key with an nbf or exp that is not a time`);
    if ((window.nbf !== undefined && window.nbf > now + skewMs) || (window.exp !== undefined && window.exp <= now - skewMs)) continue;
    if (window.exp !== undefined) keysExpire = Math.min(keysExpire, window.exp);
    keys.push({ ...k, bound: false });
  }
  if (keys.length === 0) throw invalid(`the directory at ${url.host} lists no Ed25519, P-256 or RSA key valid now`);

  const expiresAt = checkBindings(keys, url, field, body, now, skewMs);
  if (options.requireSignature !== false) {
    const unbound = keys.filter((k) => !k.bound).length;
    if (unbound > 0) throw invalid(`${unbound} key(s) of the directory at ${url.host} carry no valid directory signature`);
  }
  const out: VerifiedDirectory = { url: url.href, keys };
  // A cached directory is kept no longer than its first key's expiry.
  const until = Math.min(expiresAt ?? Infinity, keysExpire);
  if (until !== Infinity) out.expiresAt = until;
  return out;
}

/**
 * A directory key's `nbf` and `exp` in ms, or undefined when one is present
 * but not a time. The drafts' examples give them in milliseconds, JOSE
 * habit (RFC 7519 §2) in seconds: a value below 10^11 is read as seconds
 * (10^11 s is the year 5138, 10^11 ms March 1973).
 */
function keyWindow(entry: Record<string, unknown>): { nbf?: number; exp?: number } | undefined {
  const out: { nbf?: number; exp?: number } = {};
  for (const k of ['nbf', 'exp'] as const) {
    if (!Object.hasOwn(entry, k)) continue;
    const v = entry[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return undefined;
    out[k] = v < 1e11 ? v * 1000 : v;
  }
  return out;
}

/** Marks each key a valid binding signature covers; returns the earliest expiry of those signatures. */
function checkBindings(keys: DirectoryKey[], url: URL, field: ReturnType<typeof fieldGetter>, body: Uint8Array, now: number, skewMs: number): number | undefined {
  const sigs = readSignatureFields(field);
  if (sigs === 'missing') return undefined;
  if (typeof sigs === 'string') throw invalid(`the directory signatures at ${url.host} are malformed: ${sigs}`);
  const digestProblem = contentDigestMismatch(field('content-digest') ? combinedFieldValue(field('content-digest')!) : undefined, body);
  const request: MessageContext = { kind: 'request', method: 'GET', url, field: () => undefined };
  const msg: MessageContext = { kind: 'response', status: 200, field, request };
  let expiresAt: number | undefined;
  for (const [label, member] of sigs.inputs) {
    if (!BINDING_LABEL.test(label)) continue;
    let input;
    try {
      input = parseSignatureInput(member);
    } catch {
      continue;
    }
    const p = input.params;
    const ids = input.components.map(componentId);
    if (p.tag !== DIRECTORY_TAG || p.created === undefined || p.expires === undefined || p.keyid === undefined) continue;
    if (!ids.includes('"@authority";req') || !ids.includes('"content-digest"') || digestProblem !== null) continue;
    // The draft: a directory signature dated in the future is refused, as a not-yet-valid certificate would be.
    if (p.created * 1000 > now + skewMs || p.expires * 1000 <= now - skewMs || p.expires < p.created) continue;
    const key = keys.find((k) => k.thumbprint === p.keyid);
    const chosen = key && signatureAlgorithm(key, p.alg);
    if (!key || !chosen || 'mismatch' in chosen) continue;
    let base: string;
    try {
      base = signatureBase(input, msg);
    } catch {
      continue;
    }
    if (!verifyBase(key, chosen.alg, base, sigs.signatures.get(label)!)) continue;
    key.bound = true;
    expiresAt = Math.min(expiresAt ?? Infinity, p.expires * 1000);
  }
  return expiresAt;
}
