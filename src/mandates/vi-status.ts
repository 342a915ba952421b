import { toReason, type Reason } from '../errors.js';
import type { PublicJwk } from '../keys/types.js';
import { statusAnswer } from '../credentials/verify.js';
import { isHttpUrl } from '../status/entry.js';
import { refuse, type Ctx } from './common.js';
import { isObj } from './constraint-check.js';
import type { SdLayer } from './sd.js';

/**
 * The `status` claim of a Verifiable Intent layer (IETF Token Status List
 * §6.1: `status: { status_list: { idx, uri } }`), which VI's reference
 * verifier never reads. Charter fails closed on it as verifySdJwtVc does: a
 * layer that names a status is accepted only when a checker (`status`,
 * e.g. createTokenStatusChecker) says the token is VALID.
 *
 * - L1 is the card issuer's SD-JWT VC (credential-format §3): its list must
 *   be signed by the L1 `iss` (a DID list signer) or by the pinned issuer key
 *   that verified L1 (only that key: `trust.issuers` may pin several card
 *   issuers, and one's list never vouches for another's card).
 * - L2 and L3 (the user's and the agent's KB-SD-JWTs) get no status in VI
 *   v0.1, but a layer that names one is never read as if it named none: the
 *   Referenced Token's issuer signs its list (Token Status List §8.3), and the
 *   one issuer the chain proves for L2 is the L1-bound user key, for L3 the
 *   agent key L2 delegates to. A claimed `iss` is not proof of either.
 *
 * `status` is never selectively disclosable (draft-ietf-oauth-sd-jwt-vc
 * §3.2.2.2 "Registered JWT Claims"): a holder who could withhold it could
 * hide a revocation. A disclosure of it, or a digest inside it, is refused;
 * a withheld one looks like a decoy (RFC 9901 §4.2.5) or the email §3.4 lets
 * the holder withhold, so only `requireStatus` (an L1 without a status in
 * clear is refused) can catch an issuer that made it disclosable.
 */
export interface LayerStatus {
  what: string;
  status: unknown;
  /** The Referenced Token's issuer as the checker matches a DID list signer against it. */
  issuer: string;
  /** The keys whose plain-JWK signature makes a list the issuer's. */
  issuerKeys: PublicJwk[];
}

/** Does a value hold an SD-JWT digest (`_sd`, or a `{"...": digest}` array element) at any depth? */
function hasDigest(v: unknown, depth = 0): boolean {
  if (v === null || typeof v !== 'object') return false;
  // Deeper than any status mechanism nests: refused rather than walked further.
  if (depth > 32) return true;
  if (Array.isArray(v)) return v.some((el) => (isObj(el) && Object.hasOwn(el, '...')) || hasDigest(el, depth + 1));
  return Object.hasOwn(v, '_sd') || Object.values(v).some((x) => hasDigest(x, depth + 1));
}

/**
 * The layer's `status` claim, read from the signed payload (never from a
 * disclosure), its shape checked: undefined when it has none. Refuses a
 * disclosable status and a malformed one (Token Status List §6.2: `idx` a
 * non-negative integer, `uri` the http(s) URL of the list, §8.1).
 */
export function readLayerStatus(layer: SdLayer, what: string): unknown {
  const p = layer.payload;
  const top = new Set(Array.isArray(p._sd) ? p._sd : []);
  if (layer.disclosures.some((d) => d.key === 'status' && top.has(d.digest)))
    refuse('INVALID_CREDENTIAL', `${what} status must not be selectively disclosable (draft-ietf-oauth-sd-jwt-vc §3.2.2.2)`, what);
  if (!Object.hasOwn(p, 'status')) return undefined;
  const s = p.status;
  if (hasDigest(s)) refuse('INVALID_CREDENTIAL', `${what} status must not be selectively disclosable, in whole or in part (draft-ietf-oauth-sd-jwt-vc §3.2.2.2)`, what);
  // §6.1: a JSON object holding at least one status mechanism. Any other mechanism is the checker's to read or refuse.
  if (!isObj(s) || Object.keys(s).length === 0) refuse('STATUS_INVALID', `${what} status must be an object naming a status mechanism (Token Status List §6.1)`, what);
  if (Object.hasOwn(s, 'status_list')) {
    const sl = s.status_list;
    const ok = isObj(sl) && Number.isSafeInteger(sl.idx) && (sl.idx as number) >= 0 && typeof sl.uri === 'string' && isHttpUrl(sl.uri);
    if (!ok) refuse('STATUS_INVALID', `${what} status.status_list needs a non-negative integer idx and an http(s) uri (Token Status List §6.2)`, what);
  }
  return s;
}

/**
 * Runs the checker on each layer's status, last: only for a chain that
 * passed every other check (no network for a forged or refused one), as
 * verifySdJwtVc does. Its reasons join the decision (statusAnswer).
 */
export async function checkLayerStatuses(ctx: Ctx, pending: readonly LayerStatus[]): Promise<void> {
  const d = ctx.decision;
  if (pending.length === 0 || d.reasons.length > 0) return;
  const checker = ctx.opts.status;
  if (checker === undefined) {
    const what = pending.map((p) => p.what).join(', ');
    refuse('STATUS_UNAVAILABLE', `${what} carries a status claim but no status checker is configured: pass status (createTokenStatusChecker) to check it`, pending[0]!.what);
  }
  for (const p of pending) {
    let reasons: Reason[];
    try {
      reasons = statusAnswer(await checker(p.status, { issuer: p.issuer, issuerKeys: p.issuerKeys, now: new Date(ctx.now * 1000) }));
    } catch (e) {
      reasons = [toReason(e, 'STATUS_UNAVAILABLE')];
    }
    for (const r of reasons) d.reasons.push({ code: r.code, message: `${p.what}: ${r.message}`, ref: p.what });
  }
}
