import { HTTP_STATUS, isCharterError, type Reason } from '../errors.js';
import type { AgentInfo } from '../agents/types.js';
import {
  checkRequestSignature,
  contentDigestMismatch,
  jwkThumbprint,
  signatureNonce,
  type RequestSignatureDecision,
  type VerifyRequestSignatureOptions,
} from '../httpsig/index.js';
import type { Verifier } from './verifier.js';
import { listsKey } from '../did/methods.js';

/**
 * The signature step of the pipeline: an HTTP request that must carry its
 * own RFC 9421 message signature (Web Bot Auth). The transport hands over
 * the header fields and, for a signature covering Content-Digest, the body;
 * the URL is the binding's (the verifier's public origin + path), never the
 * Host header.
 */
export interface SignatureBinding {
  /** Verification options built once by the guard (`signatureGuardOptions`), with `store: 'caller'`: the pipeline uses the nonce up itself. */
  options: VerifyRequestSignatureOptions;
  /** A request header field by lower-case name. */
  header(name: string): string | readonly string[] | null | undefined;
  /**
   * The request body as sent, read only when the signature covers
   * Content-Digest (RFC 9530). Throws TypeError when the framework consumed
   * it without keeping its bytes (a server configuration mistake), and
   * CharterError INPUT_TOO_LARGE past the adapter's cap.
   */
  body(): Promise<Uint8Array>;
}

/** RFC 9278: a key named by its RFC 7638 thumbprint, the holder of a request only signed. */
export const THUMBPRINT_URN = 'urn:ietf:params:oauth:jwk-thumbprint:sha-256:';

/** Who a request only signed comes from: its Signature-Agent origin when the key came from that origin's directory, else its key. */
export function signerId(d: RequestSignatureDecision): string {
  return d.signatureAgent ?? THUMBPRINT_URN + d.thumbprint!;
}

const refused = (d: RequestSignatureDecision, reason: Reason): RequestSignatureDecision => ({ ...d, ok: false, reasons: [reason] });

/**
 * Verifies the request's signature (crypto, and a directory fetch when
 * keys come from one; nothing is written) and, when it covers
 * Content-Digest, the body against that digest. A refused signature comes
 * back with `ok: false` and its reasons; a store or directory fault is a
 * reason with its 503 code.
 */
export async function checkSignature(v: Verifier, method: string, url: string, s: SignatureBinding, now: number): Promise<RequestSignatureDecision> {
  const options: VerifyRequestSignatureOptions = { skewSeconds: v.skewSeconds, ...s.options, now: new Date(now) };
  const d = await checkRequestSignature({ method, url, header: s.header }, options);
  if (!d.ok) return d;
  // Any covered Content-Digest component, whatever its parameters (;sf, ;key, ;bs), signs the field, so the
  // body is compared with it. ;req and ;tr never reach here on a request: the signature base refuses them.
  const digests = (d.components ?? []).filter((c) => c === '"content-digest"' || c.startsWith('"content-digest";'));
  if (digests.length === 0) return d;
  // A ;key naming an algorithm this server cannot check signs a digest it never compares; the other, unsigned members
  // of the field would then decide alone. Refused.
  const uncheckable = digests.find((c) => /;key="/.test(c) && !/;key="sha-(256|512)"/.test(c));
  if (uncheckable !== undefined) {
    return refused(d, {
      code: 'CONTENT_DIGEST_MISMATCH',
      message: 'the signature covers a Content-Digest member this server cannot check (only sha-256 and sha-512): sign the whole field',
    });
  }
  let body: Uint8Array;
  try {
    body = await s.body();
  } catch (e) {
    if (isCharterError(e) && HTTP_STATUS[e.code] !== 500) return refused(d, { code: e.code, message: e.message });
    // The body was consumed without its bytes (a server setup the route's own rules never needed): where the
    // route does not ask for Content-Digest, the client's choice to cover it is refused, not a 500.
    if (!s.options.requiredComponents?.includes('content-digest')) {
      return refused(d, {
        code: 'CONTENT_DIGEST_MISMATCH',
        message: 'the signature covers Content-Digest, but this server cannot read the body it was sent with: sign without it',
      });
    }
    throw e;
  }
  const lines = s.header('content-digest');
  const field = lines === null || lines === undefined ? undefined : typeof lines === 'string' ? lines : lines.join(', ');
  const mismatch = contentDigestMismatch(field, body);
  return mismatch === null ? d : refused(d, { code: 'CONTENT_DIGEST_MISMATCH', message: mismatch.replace('the response', 'the request') });
}

/**
 * With a presentation too, the request must be signed by the presenting
 * holder: the verifying key is one of the holder DID's authentication
 * methods (compared by RFC 7638 thumbprint), or it came from the
 * key directory the agent's identity credential names (`agent.directory`).
 * Returns the refusal, or undefined when the key is the holder's.
 */
export async function signerReason(v: Verifier, d: RequestSignatureDecision, holder: string, agentInfo: AgentInfo | undefined): Promise<Reason | undefined> {
  // A holder named by its key (a payment mandate chain's agent key): the signing key must be that very key.
  if (holder.startsWith(THUMBPRINT_URN)) return holder === THUMBPRINT_URN + d.thumbprint ? undefined : notHolder();
  if (agentInfo?.directory !== undefined && d.signatureAgent !== undefined && sameOrigin(agentInfo.directory, d.signatureAgent)) return undefined;
  // A key the document lists for `authentication` (DID Core §5.3.1), as the presentation's own signature
  // needs: one listed only for assertionMethod (issuing claims, maybe a service's key) is not the holder
  // authenticating. listsKey applies Charter's method rules (controller, one key form, curve checks).
  if (await listsKey(v.resolver, holder, ['authentication'], (jwk) => jwkThumbprint(jwk) === d.thumbprint)) return undefined;
  return notHolder();
}

const notHolder = (): Reason => ({
  code: 'SIGNER_NOT_HOLDER',
  message: "the request is signed with a key that is not the presenting holder's (neither an authentication key of its DID document nor in the key directory its identity names)",
});

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/** Uses the verified signature's nonce up in the verifier's store; a refusal when it was used before. */
export async function redeemSignature(v: Verifier, d: RequestSignatureDecision, options: VerifyRequestSignatureOptions): Promise<Reason | undefined> {
  const use = signatureNonce(d, { ...options, skewSeconds: options.skewSeconds ?? v.skewSeconds });
  if (!use) return undefined;
  return (await v.store.consumeNonce(use.scope, use.value, use.expiresAt)) ? undefined : { code: 'SIGNATURE_REPLAYED', message: 'the signature nonce was used before' };
}
