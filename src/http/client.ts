import { randomUUID } from 'node:crypto';
import { createPresentation } from '../credentials/index.js';
import type { Issuer } from '../credentials/types.js';
import { htuOf } from '../guard/binding.js';

export interface CharterFetchOptions {
  /** The presenting identity (a Home gives it: `await home.issuer('alice')`). */
  holder: Issuer;
  /** Credential JWTs to present in a vp+jwt (a grant; or an agent's identity and mandate chain). */
  credentials?: string[];
  /**
   * Or an SD-JWT VC (a grant issued with `--format sd-jwt`) to present
   * instead: the claims at `disclose` are revealed, and its key binding JWT
   * carries aud, htm, htu and a fresh nonce (the verifier's, once it has
   * challenged), signed with the holder's key.
   */
  sdJwt?: { token: string; disclose?: string[] };
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
const replayable = (b: RequestInit['body']) => b === undefined || b === null || typeof b === 'string' || b instanceof URLSearchParams || b instanceof ArrayBuffer || ArrayBuffer.isView(b) || b instanceof Blob || b instanceof FormData;

/**
 * fetch with a presentation bound to this one request: `Authorization:
 * Bearer <vp+jwt>` carrying aud, htm (method), htu (URL without query and
 * fragment), iat and a fresh jti, plus the nonce when the verifier has
 * challenged; or `Bearer <sd-jwt>~<disclosures>~<kb-jwt>` with those claims
 * in the key binding JWT (its nonce fresh, or the verifier's). A 401
 * carrying `charter-nonce` is retried once with that nonce.
 */
export async function charterFetch(url: string | URL, init: RequestInit = {}, options: CharterFetchOptions): Promise<Response> {
  if (!options?.holder?.signer || Array.isArray(options.credentials) === (options.sdJwt !== undefined)) throw new TypeError('charterFetch needs { holder, credentials } or { holder, sdJwt }');
  if (options.sdJwt !== undefined && typeof options.sdJwt.token !== 'string') throw new TypeError('charterFetch: sdJwt.token must be the issued SD-JWT');
  const target = new URL(url);
  const htu = htuOf(target);
  if (htu === undefined) throw new TypeError('charterFetch: the URL must be http(s)');
  const method = (init.method ?? 'GET').toUpperCase();
  const doFetch = options.fetch ?? fetch;
  const aud = options.aud ?? target.origin;
  const prove = async (nonce?: string): Promise<string> => {
    if (options.sdJwt) {
      // Loaded here only: presenting needs @sd-jwt/sd-jwt-vc, which a vp+jwt client never loads.
      const { presentSdJwtVc } = await import('../sdjwt/present.js');
      return presentSdJwtVc(options.sdJwt.token, { holder: options.holder, disclose: options.sdJwt.disclose ?? [], aud, nonce: nonce ?? randomUUID(), claims: { htm: method, htu } });
    }
    return createPresentation({
      holder: options.holder,
      credentials: options.credentials!,
      aud,
      ...(nonce !== undefined ? { nonce } : {}),
      expiresInSeconds: options.expiresInSeconds ?? 60,
      claims: { htm: method, htu, jti: `urn:uuid:${randomUUID()}` },
    });
  };
  const send = async (nonce?: string) => {
    const vp = await prove(nonce);
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${vp}`);
    return doFetch(target, { ...init, method, headers });
  };
  const first = await send();
  const nonce = first.status === 401 ? challengeNonce(first.headers.get('www-authenticate')) : undefined;
  if (nonce === undefined || !replayable(init.body)) return first;
  await first.body?.cancel();
  return send(nonce);
}
