import { randomUUID } from 'node:crypto';
import { CharterError } from '../errors.js';
import { createPresentation } from '../credentials/index.js';
import type { Issuer } from '../credentials/types.js';
import type { PublicJwk, Signer } from '../keys/types.js';
import { htuOf } from '../guard/binding.js';
import { contentDigest, signatureHeaders } from '../httpsig/index.js';

/** How charterFetch signs each request (RFC 9421, Web Bot Auth): an Issuer will do (`sign: holder`). */
export interface CharterFetchSigning {
  signer: Signer;
  /** The signing key: its RFC 7638 thumbprint is the `keyid` unless `keyId` is given. */
  publicJwk?: PublicJwk;
  keyId?: string;
  /** The origin serving the key directory (`https://agent.example`), sent as `Signature-Agent`. */
  signatureAgent?: string;
  /** Default `web-bot-auth`; null for none. */
  tag?: string | null;
  /** Default 60. */
  expiresInSeconds?: number;
}

export interface CharterFetchOptions {
  /** The presenting identity (a Home gives it: `await home.issuer('alice')`). Optional when the request is only signed. */
  holder?: Issuer;
  /** Credential JWTs to present in a vp+jwt (a grant; or an agent's identity and mandate chain). */
  credentials?: string[];
  /**
   * Or an SD-JWT VC (a grant issued with `--format sd-jwt`) to present
   * instead: the claims at `disclose` are revealed, and its key binding JWT
   * carries aud, htm, htu and a fresh nonce (the verifier's, once it has
   * challenged), signed with the holder's key.
   */
  sdJwt?: { token: string; disclose?: string[] };
  /** Sign each request too (or only): `Signature`, `Signature-Input`, `Signature-Agent`, and `Content-Digest` for a body. */
  sign?: CharterFetchSigning;
  /** The verifier's identifier. Default: the URL's origin. */
  aud?: string;
  /** Seconds each presentation stays valid. Default 60. */
  expiresInSeconds?: number;
  /** The fetch to use (default: global fetch). */
  fetch?: typeof fetch;
}

/** The `charter-nonce` parameter of a `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3). */
export function challengeNonce(header: string | null): string | undefined {
  if (!header || !/^Bearer\b/i.test(header)) return undefined;
  return /(?:^|[\s,])charter-nonce="([^"]{1,256})"/i.exec(header)?.[1];
}

/** Bodies that can be sent twice; a stream cannot, so a request with one is not retried. */
const replayable = (b: RequestInit['body']) =>
  b === undefined ||
  b === null ||
  typeof b === 'string' ||
  b instanceof URLSearchParams ||
  b instanceof ArrayBuffer ||
  ArrayBuffer.isView(b) ||
  b instanceof Blob ||
  b instanceof FormData;

/** The bytes a body is sent as, when they are known before sending (a digest needs them). */
function bodyBytes(b: RequestInit['body']): Uint8Array | string | undefined {
  if (typeof b === 'string') return b;
  if (b instanceof URLSearchParams) return b.toString();
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return undefined;
}

function checkOptions(o: CharterFetchOptions): void {
  if (!o || typeof o !== 'object') throw new TypeError('charterFetch needs { holder, credentials }, { holder, sdJwt } or { sign }');
  if (o.holder !== undefined || o.credentials !== undefined || o.sdJwt !== undefined) {
    if (!o.holder?.signer || Array.isArray(o.credentials) === (o.sdJwt !== undefined))
      throw new TypeError('charterFetch needs { holder, credentials } or { holder, sdJwt } to present');
    if (o.sdJwt !== undefined && typeof o.sdJwt?.token !== 'string') throw new TypeError('charterFetch: sdJwt.token must be the issued SD-JWT');
  } else if (o.sign === undefined) throw new TypeError('charterFetch needs { holder, credentials } to present, { sign } to sign, or both');
  if (o.sign !== undefined && typeof o.sign?.signer?.sign !== 'function') throw new TypeError('charterFetch: sign needs a signer (an Issuer will do)');
}

/**
 * fetch with a presentation bound to this one request: `Authorization:
 * Bearer <vp+jwt>` carrying aud, htm (method), htu (URL without query and
 * fragment), htq (the query as sent), iat and a fresh jti, plus the nonce when the verifier has
 * challenged; or `Bearer <sd-jwt>~<disclosures>~<kb-jwt>` with those claims
 * in the key binding JWT (its nonce fresh, or the verifier's). With `sign`,
 * the request also carries its own RFC 9421 signature (method, authority,
 * path, query, the Content-Digest of a body, the Signature-Agent member; a
 * fresh nonce). A 401 carrying `charter-nonce` is retried once with that
 * nonce (presented and signed afresh). Redirects are never followed (the
 * proof is bound to this URL): a 3xx is returned as it is, whatever
 * `init.redirect` says, except that `'error'` still rejects.
 */
export async function charterFetch(url: string | URL, init: RequestInit = {}, options: CharterFetchOptions): Promise<Response> {
  checkOptions(options);
  const target = requestUrl(url);
  const htu = htuOf(target)!;
  // The query as fetch sends it (the URL's own serialisation): bound by htq, since htu leaves it out.
  const htq = target.search.slice(1);
  const method = (init.method ?? 'GET').toUpperCase();
  const doFetch = options.fetch ?? fetch;
  const { holder, sign } = options;
  const body = bodyBytes(init.body);
  if (sign && init.body !== undefined && init.body !== null && body === undefined) {
    throw new TypeError('charterFetch: a signed request needs a body whose bytes are known (a string, URLSearchParams or bytes) for its Content-Digest');
  }
  const aud = options.aud ?? target.origin;
  // One jti for the request and its retry with the server's nonce: a 401 with a nonce may be forged by
  // something between us and the server that keeps the first proof. An 'iat'-mode verifier keys a proof by
  // its jti, so whichever of the two proofs reaches it first is the only one it takes (one request, one use).
  const jti = `urn:uuid:${randomUUID()}`;
  /** The Bearer proof, when the request presents one. */
  const prove = async (nonce?: string): Promise<string | undefined> => {
    if (!holder) return undefined;
    if (options.sdJwt) {
      // Loaded here only: presenting needs @sd-jwt/sd-jwt-vc, which a vp+jwt client never loads.
      const { presentSdJwtVc } = await import('../sdjwt/present.js');
      return presentSdJwtVc(options.sdJwt.token, { holder, disclose: options.sdJwt.disclose ?? [], aud, nonce: nonce ?? randomUUID(), claims: { htm: method, htu, htq, jti } });
    }
    return createPresentation({
      holder,
      credentials: options.credentials!,
      aud,
      ...(nonce !== undefined ? { nonce } : {}),
      expiresInSeconds: options.expiresInSeconds ?? 60,
      claims: { htm: method, htu, htq, jti },
    });
  };
  const send = async (nonce?: string) => {
    const headers = new Headers(init.headers);
    const vp = await prove(nonce);
    if (vp !== undefined) headers.set('authorization', `Bearer ${vp}`);
    if (sign) {
      // RFC 9530: the digest of the body as sent, covered by the signature (signRequest covers a Content-Digest it finds).
      if (body !== undefined && !headers.has('content-digest')) headers.set('content-digest', contentDigest(body));
      const added = await signatureHeaders(
        { method, url: target, headers },
        {
          signer: sign.signer,
          ...(sign.publicJwk !== undefined ? { publicJwk: sign.publicJwk } : {}),
          ...(sign.keyId !== undefined ? { keyId: sign.keyId } : {}),
          ...(sign.signatureAgent !== undefined ? { signatureAgent: sign.signatureAgent } : {}),
          ...(sign.tag !== undefined ? { tag: sign.tag } : {}),
          ...(sign.expiresInSeconds !== undefined ? { expiresInSeconds: sign.expiresInSeconds } : {}),
        },
      );
      for (const [k, v] of Object.entries(added)) if (v !== undefined) headers.set(k, v);
    }
    // A proof names one URL (htu, the signature's @authority and @path): a redirect's target would get it
    // for a request it was not made for, and a cross-origin one could replay it at this origin before it
    // is used. So no redirect is followed: the 3xx is the answer, and the caller asks the Location afresh.
    return doFetch(target, { ...init, method, headers, redirect: init.redirect === 'error' ? 'error' : 'manual' });
  };
  const first = await send();
  const nonce = first.status === 401 && holder ? challengeNonce(first.headers.get('www-authenticate')) : undefined;
  if (nonce === undefined || !replayable(init.body)) return first;
  await first.body?.cancel();
  return send(nonce);
}

/**
 * The verifier's signed decision receipt on a response (`Charter-Receipt`),
 * allow or refusal, if it sends one; check it with `verifyReceipt(jws, { resolver, issuers: [the verifier's signing DID] })`.
 */
export function receiptOf(response: Pick<Response, 'headers'>): string | undefined {
  const headers = (response as Partial<Pick<Response, 'headers'>> | null)?.headers;
  if (typeof headers?.get !== 'function') throw new TypeError('receiptOf needs a fetch Response (its headers)');
  return headers.get('charter-receipt') ?? undefined;
}

/**
 * The URL a request goes to: absolute, http(s), without a user or password (refused before anything
 * is signed: fetch would refuse it anyway, and its TypeError carries the URL, password included, as
 * `input`). No message here repeats the URL. `charter http` checks its argument with it too.
 */
export function requestUrl(url: string | URL): URL {
  const text = url instanceof URL ? url.href : url;
  if (typeof text !== 'string' || !URL.canParse(text)) throw new CharterError('INVALID_ARGUMENT', 'the URL is not an absolute http(s) URL');
  const target = new URL(text);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new CharterError('INVALID_ARGUMENT', 'the URL must be http(s)');
  if (target.username !== '' || target.password !== '') {
    throw new CharterError('INVALID_ARGUMENT', 'the URL carries a user name or password: send it without them (the presentation proves who asks)');
  }
  return target;
}
