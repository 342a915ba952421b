import { createHash } from 'node:crypto';
import { splitSdJwt } from '@sd-jwt/decode';
import { CharterError } from '../errors.js';
import { jsonTextProblem } from '../encoding/json.js';
import { decodeJwt, type JwtHeader } from '../credentials/jws.js';
import { verifySignature } from '../keys/verify.js';
import type { JwsAlg, VerificationKey } from '../keys/types.js';

/**
 * SD-JWT layers of VI and AP2, split with the OpenWallet @sd-jwt packages,
 * with disclosures decoded and hashed here, once, by Charter's strict rules
 * (a second decoder, @sd-jwt/utils' Disclosure, kept a leading byte order mark
 * this one stripped and threw a plain SyntaxError out of verifyMandateChain
 * before any signature was checked: one reader, one reading). The claim resolution is our own, measured against
 * @sd-jwt/decode's `getClaims`: VI repeats array-element digests in the
 * top-level `_sd` (credential-format §9, reference vectors), which RFC 9901
 * forbids, and `getClaims` silently overwrites an existing claim, never
 * rejects an unreferenced disclosure and lets a disclosure named `__proto__`
 * through; here each of those is refused or handled explicitly.
 */
export const MAX_LAYER_BYTES = 256 * 1024;
const MAX_DEPTH = 32;
const B64U = /^[A-Za-z0-9_-]+$/;

export interface ParsedDisclosure {
  encoded: string;
  digest: string;
  key?: string;
  value: unknown;
}

export interface SdLayer {
  /** The serialization as received, with its trailing `~`. */
  serialized: string;
  issuerJwt: string;
  header: JwtHeader;
  payload: Record<string, unknown>;
  signingInput: Uint8Array;
  signature: Uint8Array;
  disclosures: ParsedDisclosure[];
}

// ignoreBOM: a leading U+FEFF stays in the text and is refused below (RFC 8259 §8.1: JSON text has no BOM);
// the default decoder would strip it and read bytes every other SD-JWT reader refuses.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const sha256 = (data: string | Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(data).digest());

const canonicalB64u = (s: string): boolean => Buffer.from(s, 'base64url').toString('base64url') === s;

const bad = (what: string, message: string) => new CharterError('INVALID_CREDENTIAL', `${what}: ${message}`);

/** `B64U(SHA-256(ASCII(s)))`: VI `sd_hash`, `checkout_hash`, disclosure digests (RFC 9901 §4.2.3). */
export function hashAscii(s: string): string {
  // A test of anything but a string would read its String() ("null", "[object Object]") and hash what it is not.
  if (typeof s !== 'string' || !/^[\x20-\x7e]*$/.test(s)) throw new CharterError('INVALID_ARGUMENT', 'only ASCII input is hashed');
  return Buffer.from(sha256(s)).toString('base64url');
}

/** Splits and decodes one `jwt~disclosure~...~` layer; no key-binding JWT may follow (VI and AP2 carry none). */
export function parseSdJwt(serialized: string, what: string): SdLayer {
  if (typeof serialized !== 'string' || serialized.length === 0) throw new CharterError('MALFORMED_JWT', `${what} is missing`);
  if (serialized.length > MAX_LAYER_BYTES) throw new CharterError('INPUT_TOO_LARGE', `${what} is larger than ${MAX_LAYER_BYTES} bytes`);
  if (!serialized.endsWith('~')) throw new CharterError('MALFORMED_JWT', `${what} must end with "~" (an SD-JWT without a trailing key-binding JWT)`);
  const { jwt, disclosures, kbJwt } = splitSdJwt(serialized);
  if (kbJwt !== undefined && kbJwt !== '') throw new CharterError('MALFORMED_JWT', `${what} carries a trailing JWT`);
  if (serialized.slice(jwt.length).includes('~~')) throw new CharterError('MALFORMED_JWT', `${what} has an empty disclosure`);
  // RFC 7515 §2 / RFC 4648 §3.5: one spelling per byte string; a non-canonical segment would let bytes change unseen.
  if (!jwt.split('.').every(canonicalB64u)) throw new CharterError('MALFORMED_JWT', `${what} has a non-canonical base64url segment`);
  const d = decodeJwt(jwt, { maxBytes: MAX_LAYER_BYTES });
  const seen = new Set<string>();
  const parsed = disclosures.map((encoded) => {
    if (!B64U.test(encoded) || !canonicalB64u(encoded)) throw bad(what, 'a disclosure is not canonical base64url');
    let item: unknown;
    let text: string;
    try {
      // RFC 9901 §4.2.1: UTF-8 JSON; invalid bytes are refused, not replaced by U+FFFD.
      text = UTF8.decode(Buffer.from(encoded, 'base64url'));
    } catch {
      throw bad(what, 'a disclosure is not JSON');
    }
    if (text.charCodeAt(0) === 0xfeff) throw bad(what, 'a disclosure begins with a byte order mark');
    try {
      item = JSON.parse(text);
    } catch {
      throw bad(what, 'a disclosure is not JSON');
    }
    // As for JWT headers and payloads (credentials/jws.ts): a member named twice reads differently in
    // a first-wins and a last-wins parser (a payment of 5,000,000 here, of 100 downstream), so it is refused.
    const problem = jsonTextProblem(text);
    if (problem !== undefined) throw bad(what, `a disclosure ${problem}`);
    if (!Array.isArray(item) || (item.length !== 2 && item.length !== 3) || typeof item[0] !== 'string')
      throw bad(what, 'a disclosure must be [salt, value] or [salt, name, value]');
    if (item.length === 3) {
      const key = item[1];
      // RFC 9901 §7.1 step 3.c.ii: a disclosed claim name may not be _sd or ...; __proto__ would reach the prototype.
      if (typeof key !== 'string' || key === '' || key === '_sd' || key === '...' || key === '__proto__') throw bad(what, 'a disclosure names a forbidden claim');
    }
    // RFC 9901 §4.2.3: the digest is over the disclosure as sent (its base64url ASCII), not over the decoded JSON.
    const digest = hashAscii(encoded);
    if (seen.has(digest)) throw bad(what, 'a disclosure is repeated');
    seen.add(digest);
    const out: ParsedDisclosure = { encoded, digest, value: item.at(-1) };
    if (item.length === 3) out.key = item[1] as string;
    return out;
  });
  return { serialized, issuerJwt: jwt, header: d.header, payload: d.payload, signingInput: d.signingInput, signature: d.signature, disclosures: parsed };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 9901 §7.1: a digest may not appear twice in one `_sd`. The first repeated digest, if any. */
export function duplicateSdDigest(obj: Record<string, unknown>): string | undefined {
  const sd = obj._sd;
  if (!Array.isArray(sd)) return undefined;
  const seen = new Set<unknown>();
  for (const h of sd) {
    if (seen.has(h)) return String(h);
    seen.add(h);
  }
  return undefined;
}

/**
 * The claims of a layer with its disclosures applied (RFC 9901 §7.1), and
 * which disclosure each `{"...": digest}` array element resolved to.
 * Undisclosed array elements are dropped; undisclosed `_sd` claims absent.
 */
export function resolveClaims(layer: SdLayer, what: string): Record<string, unknown> {
  const r = resolver(layer, what);
  const claims = r.walk(layer.payload, 0) as Record<string, unknown>;
  // RFC 9901 §7.1 step 5: every disclosure must be referenced from the signed payload.
  if (layer.disclosures.some((d) => !r.used.has(d.digest))) throw bad(what, 'a disclosure is not referenced by the signed payload');
  return claims;
}

/** Resolved objects that had a digest in `_sd` no disclosure answered. */
const WITHHELD = new WeakSet<object>();

/**
 * Does a resolved value hide an object member (a digest in `_sd` whose
 * disclosure was not presented), at any depth? A restriction the user signed (a
 * mandate's constraint) must be shown whole: what is hidden cannot be told
 * from a decoy, so a check that reads the rest would pass without it.
 */
export function hasWithheld(value: unknown, depth = 0): boolean {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return false;
  if (WITHHELD.has(value)) return true;
  // A hidden array element is left out of a list (a payee among the allowed ones, not shown to this merchant):
  // the checks already treat a list they cannot read whole as allowing less, never more.
  return (Array.isArray(value) ? value : Object.values(value)).some((v) => hasWithheld(v, depth + 1));
}

/** One value (e.g. a mandate disclosure's) with `layer`'s disclosures applied inside it. */
export function resolveValue(layer: SdLayer, value: unknown, what: string, opts: { keepUndisclosed?: boolean } = {}): unknown {
  return resolver(layer, what, opts.keepUndisclosed === true).walk(value, 0);
}

/** `keepUndisclosed`: leave `{"...": digest}` for elements not disclosed, so a check can tell "hidden" from "absent". */
function resolver(layer: SdLayer, what: string, keepUndisclosed = false) {
  const byDigest = new Map(layer.disclosures.map((d) => [d.digest, d]));
  const used = new Set<string>();
  const define = (o: Record<string, unknown>, k: string, v: unknown) => Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > MAX_DEPTH) throw bad(what, 'disclosures nest too deep');
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      const refs = new Set<string>();
      for (const el of v) {
        if (isObj(el) && Object.hasOwn(el, '...')) {
          const h = el['...'];
          // RFC 9901 §4.2.4.2: an array-element reference is an object with the one key "...".
          if (Object.keys(el).length !== 1 || typeof h !== 'string') throw bad(what, 'an array reference must be {"...": digest}');
          if (refs.has(h)) throw bad(what, 'an array references the same disclosure twice');
          refs.add(h);
          const d = byDigest.get(h);
          if (!d) {
            if (keepUndisclosed) out.push({ '...': h });
            continue;
          }
          if (d.key !== undefined) throw bad(what, 'an array element refers to a named-claim disclosure');
          used.add(h);
          out.push(walk(d.value, depth + 1));
        } else out.push(walk(el, depth + 1));
      }
      return out;
    }
    if (!isObj(v)) return v;
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) if (k !== '_sd') define(out, k, walk(val, depth + 1));
    if (v._sd !== undefined) {
      if (!Array.isArray(v._sd) || v._sd.some((h) => typeof h !== 'string')) throw bad(what, '_sd must be a list of digests');
      const dup = duplicateSdDigest(v);
      if (dup !== undefined) throw bad(what, `_sd repeats a disclosure digest (RFC 9901 §7.1): ${dup.slice(0, 64)}`);
      for (const h of v._sd as string[]) {
        const d = byDigest.get(h);
        if (!d) {
          // Not disclosed here: a decoy, or a member the presenter withheld (RFC 9901 §4.2.5 makes them alike).
          WITHHELD.add(out);
          continue;
        }
        used.add(h);
        // VI credential-format §9 lists the delegate_payload element digests in `_sd` too: they resolve in their array.
        if (d.key === undefined) continue;
        if (Object.hasOwn(out, d.key)) throw bad(what, `disclosure "${d.key.slice(0, 40)}" repeats a claim`);
        define(out, d.key, walk(d.value, depth + 1));
      }
    }
    return out;
  };
  return { walk, used };
}

/** Does the layer's signature verify under `key`, with an alg bound to the key type and allowed here? */
export function verifyLayer(layer: { header: JwtHeader; signingInput: Uint8Array; signature: Uint8Array }, key: VerificationKey, algorithms: readonly JwsAlg[]): boolean {
  const alg = layer.header.alg;
  if (!algorithms.includes(alg as JwsAlg) || alg !== key.alg) return false;
  return verifySignature(key, alg, layer.signingInput, layer.signature);
}

/** The disclosures of `layer` that its own `delegate_payload` references, in order, with the digest of each. */
export function delegateRefs(layer: SdLayer): { digest: string; disclosure?: ParsedDisclosure }[] {
  const dp = layer.payload.delegate_payload;
  if (!Array.isArray(dp)) return [];
  const byDigest = new Map(layer.disclosures.map((d) => [d.digest, d]));
  return dp.flatMap((el) => {
    if (!isObj(el) || typeof el['...'] !== 'string') return [];
    const digest = el['...'];
    const disclosure = byDigest.get(digest);
    return [disclosure ? { digest, disclosure } : { digest }];
  });
}
