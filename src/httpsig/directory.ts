import { serializeInnerList, serializeItem } from 'structured-headers';
import { assertVerifyUse, validatePublicJwk } from '../keys/index.js';
import type { PublicJwk, Signer } from '../keys/types.js';
import { parseComponentId, type MessageContext } from './components.js';
import { contentDigest } from './digest.js';
import { DIRECTORY_MEDIA_TYPE, DIRECTORY_PATH, DIRECTORY_TAG } from './directory-verify.js';
import { algorithmOfSigner } from './keys.js';
import { createSignature } from './sign.js';
import { jwkThumbprint } from './thumbprint.js';
import { nowMsOf } from './clock.js';

export interface DirectoryKeyInput {
  /** The public key to publish. */
  jwk: PublicJwk;
  /** Its signer: each key proves possession by signing the response. */
  signer: Signer;
}

export interface SignDirectoryOptions {
  keys: readonly DirectoryKeyInput[];
  /** The authority the directory was requested at (host[:port]): `"@authority";req`. */
  authority: string;
  /** The signing time, a valid Date; default the current time. */
  now?: Date;
  /**
   * Lifetime of the directory signatures. Default 300 s: a server signs per
   * request (directoryFor). Longer only for key sets redistributed by others
   * (the draft's "Directory Response Signature Lifetimes").
   */
  expiresInSeconds?: number;
  /** Cache-Control max-age; default the lifetime capped at 3600, never above it. */
  cacheSeconds?: number;
}

/** A directory response, ready for any framework (or `new Response(body, { status, headers })`). */
export interface DirectoryResponse {
  status: 200;
  headers: Record<string, string>;
  body: string;
}

function normaliseAuthority(authority: string): string {
  let u: URL;
  try {
    u = new URL(`https://${authority}`);
  } catch {
    throw new TypeError('authority must be host[:port]');
  }
  if (u.host.toLowerCase() !== authority.toLowerCase() || u.pathname !== '/') throw new TypeError('authority must be host[:port]');
  return u.host;
}

/**
 * A signed key directory response (Web Bot Auth draft, "Directory Format"
 * and "Possession Proof on the Directory Response"): a JWKS whose `kid`s are
 * RFC 7638 thumbprints, served as application/http-message-signatures-
 * directory+json with a Content-Digest (RFC 9530) and, per key, a signature
 * labelled `binding` (one key) or `binding<i>`, covering
 * `("@authority";req "content-digest")` with created, expires, keyid and tag
 * `http-message-signatures-directory`.
 */
export async function signDirectory(options: SignDirectoryOptions): Promise<DirectoryResponse> {
  if (!options || !Array.isArray(options.keys) || options.keys.length === 0) throw new TypeError('signDirectory needs at least one { jwk, signer }');
  const authority = normaliseAuthority(options.authority);
  const expiresIn = options.expiresInSeconds ?? 300;
  if (!Number.isSafeInteger(expiresIn) || expiresIn <= 0) throw new TypeError('expiresInSeconds must be a positive integer');
  const cacheSeconds = Math.min(options.cacheSeconds ?? Math.min(expiresIn, 3600), expiresIn);
  if (!Number.isInteger(cacheSeconds) || cacheSeconds < 0) throw new TypeError('cacheSeconds must be a non-negative integer');
  const nowMs = nowMsOf(options.now, 'signDirectory');

  const entries = options.keys.map(({ jwk, signer }) => {
    // RFC 7517 §4.2-4.3: a key the caller marked for encryption is no signing key; published below as
    // `use: "sig"` it would be turned into one (validatePublicJwk drops the mark). INVALID_KEY.
    assertVerifyUse(jwk, 'a directory key');
    const pub = validatePublicJwk(jwk);
    if (algorithmOfSigner(signer) === 'ed25519' ? pub.crv !== 'Ed25519' : pub.crv !== 'P-256') throw new TypeError('a directory key and its signer are of different types');
    const kid = jwkThumbprint(pub);
    // Member order of the draft's example: kty, crv, kid, x (y), use.
    const published = pub.y === undefined ? { kty: pub.kty, crv: pub.crv, kid, x: pub.x, use: 'sig' } : { kty: pub.kty, crv: pub.crv, kid, x: pub.x, y: pub.y, use: 'sig' };
    return { kid, signer, published };
  });
  if (new Set(entries.map((e) => e.kid)).size !== entries.length) throw new TypeError('a directory lists each key once');
  const body = JSON.stringify({ keys: entries.map((e) => e.published) });
  const headers: Record<string, string> = {
    'content-type': DIRECTORY_MEDIA_TYPE,
    'content-digest': contentDigest(body),
    'cache-control': `max-age=${cacheSeconds}`,
  };

  const created = Math.floor(nowMs / 1000);
  const request: MessageContext = { kind: 'request', method: 'GET', url: new URL(`https://${authority}${DIRECTORY_PATH}`), field: () => undefined };
  const msg: MessageContext = { kind: 'response', status: 200, field: (n) => (headers[n] === undefined ? undefined : [headers[n]!]), request };
  const components = [parseComponentId('"@authority";req'), parseComponentId('"content-digest"')];
  const inputs: string[] = [];
  const sigs: string[] = [];
  for (const [i, e] of entries.entries()) {
    const label = entries.length === 1 ? 'binding' : `binding${i}`;
    // Parameter order of the draft's signed directory example: created, expires, keyid, tag.
    const { innerList, signature } = await createSignature(
      msg,
      components,
      [
        ['created', created],
        ['expires', created + expiresIn],
        ['keyid', e.kid],
        ['tag', DIRECTORY_TAG],
      ],
      e.signer,
    );
    inputs.push(`${label}=${serializeInnerList(innerList)}`);
    sigs.push(`${label}=${serializeItem([signature, new Map()])}`);
  }
  headers['signature-input'] = inputs.join(', ');
  headers.signature = sigs.join(', ');
  return { status: 200, headers, body };
}

/**
 * A handler-side helper: returns the signed directory for one incoming
 * request (its authority taken from the request URL the server built from
 * its own public origin), signed afresh with a short expiry and a
 * Cache-Control no longer than that expiry.
 */
export function directoryFor(options: Omit<SignDirectoryOptions, 'authority' | 'now'>): (request: { url: string | URL } | string, now?: Date) => Promise<DirectoryResponse> {
  if (!options || !Array.isArray(options.keys) || options.keys.length === 0) throw new TypeError('directoryFor needs at least one { jwk, signer }');
  for (const k of options.keys) {
    assertVerifyUse(k.jwk, 'a directory key');
    validatePublicJwk(k.jwk);
  }
  return (request, now) => {
    const authority = typeof request === 'string' ? request : new URL(String(request.url)).host;
    return signDirectory({ ...options, authority, ...(now !== undefined ? { now } : {}) });
  };
}
