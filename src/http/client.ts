import { randomUUID } from 'node:crypto';
import { createPresentation } from '../credentials/index.js';
import type { Issuer } from '../credentials/types.js';
import { htuOf } from '../guard/binding.js';

export interface CharterFetchOptions {
  /** The presenting identity (a Home gives it: `await home.issuer('alice')`). */
  holder: Issuer;
  /** Credential JWTs to present (a grant; or an agent's identity and mandate chain). */
  credentials: string[];
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
 * challenged. A 401 carrying `charter-nonce` is retried once with that nonce.
 */
export async function charterFetch(url: string | URL, init: RequestInit = {}, options: CharterFetchOptions): Promise<Response> {
  if (!options?.holder?.signer || !Array.isArray(options.credentials)) throw new TypeError('charterFetch needs { holder, credentials }');
  const target = new URL(url);
  const htu = htuOf(target);
  if (htu === undefined) throw new TypeError('charterFetch: the URL must be http(s)');
  const method = (init.method ?? 'GET').toUpperCase();
  const doFetch = options.fetch ?? fetch;
  const send = async (nonce?: string) => {
    const vp = await createPresentation({
      holder: options.holder,
      credentials: options.credentials,
      aud: options.aud ?? target.origin,
      ...(nonce !== undefined ? { nonce } : {}),
      expiresInSeconds: options.expiresInSeconds ?? 60,
      claims: { htm: method, htu, jti: `urn:uuid:${randomUUID()}` },
    });
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

/**
 * The verifier's signed decision receipt on a response (`Charter-Receipt`),
 * allow or refusal, if it sends one; check it with `verifyReceipt`.
 */
export function receiptOf(response: Pick<Response, 'headers'>): string | undefined {
  return response.headers.get('charter-receipt') ?? undefined;
}
