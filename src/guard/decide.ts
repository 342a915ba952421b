import { CharterError, HTTP_STATUS, isCharterError, statusOfReasons, type HttpStatus, type Reason } from '../errors.js';
import { decodeJwt, verifyPresentation, type DecodedJwt } from '../credentials/index.js';
import type { PresentationVerification } from '../credentials/types.js';
import { verifyGrant, type GrantDecision } from '../grants/index.js';
import { reserveSpend, verifyAgent } from '../agents/index.js';
import type { AgentDecision } from '../agents/types.js';
import type { RequestSignatureDecision } from '../httpsig/index.js';
import { bindingReasons, freshnessReasons, type Binding } from './binding.js';
import type { Policy } from './policy.js';
import { checkSignature, redeemSignature, signerId, signerReason, type SignatureBinding } from './signature.js';
import { holdSpend, type SpendHold } from './spend.js';
import { scopes, type Verifier } from './verifier.js';
import { withReceipt } from './receipt.js';
import type { CharterResolver } from '../did/types.js';
import type { StatusChecker } from '../credentials/types.js';

/** The outcome of one guarded call, whatever carried it (HTTP, an MCP tool call, a direct call). */
export interface GuardDecision {
  ok: boolean;
  /** 200, or the status of the refusal from the one edge table (errors.ts HTTP_STATUS). */
  status: 200 | HttpStatus;
  reasons: Reason[];
  /** The presentation's holder, once its signature verified. */
  holder?: string;
  /** The presentation's claims (jti, iat, htm, htu, nonce, mcp) once authentic. */
  claims?: Record<string, unknown>;
  /** With a presentation-only policy: the presentation and each credential in it. */
  presentation?: PresentationVerification;
  grant?: GrantDecision;
  agent?: AgentDecision;
  /** The reserved spend of an allowed agent call with cumulative limits, until settled. */
  spend?: SpendHold;
  /** Challenge mode, on a 401: a fresh nonce to present again with. */
  nonce?: string;
  /**
   * With a signature binding: the request's RFC 9421 signature, who signed
   * it and how. `ok: false` (with its reasons) when the signature is why the
   * request was refused.
   */
  signature?: RequestSignatureDecision;
  /** With a receipts verifier: the signed decision receipt (`charter-receipt+jwt`), logged before it is returned. */
  receipt?: string;
  receiptId?: string;
}

/** The resolver and status checker one decision uses: the verifier's, or recording wrappers of them. */
type Tools = { resolver: CharterResolver; status: StatusChecker };

const MAX_VP = 512 * 1024;

/**
 * THE decision pipeline every transport uses, in one order: decode; check
 * the binding (audience, freshness, the transport's own claims) before any
 * crypto; verify the request's own HTTP message signature when the binding
 * asks for one (and the body against a covered Content-Digest); verify
 * under the policy (signatures, validity, status, grant scope and owner,
 * agent chain and limits); with both proofs, check that the request was
 * signed by the presenting holder; then, only for an authentic request,
 * use up its jti or nonce and its signature's nonce in the store (a replay
 * is refused on every instance sharing it); then, only for an allowed agent
 * call with cumulative limits, reserve the spend on every link of its
 * chain. A refusal never reserves anything; a replay never holds budget.
 * With the `signature` policy the signature is the only proof: no
 * presentation is read.
 *
 * Never throws for a refusal or a fault: a store fault (replay cache or
 * ledger unreachable) is a 503 decision with the store's code, so nothing is
 * allowed while the store is down. Throws only for misuse (TypeError).
 */
export async function decide(verifier: Verifier, presentation: unknown, policy: Policy, binding: Binding, now: number = Date.now()): Promise<GuardDecision> {
  if (policy.kind === 'signature' && (binding.kind !== 'http' || !binding.signature)) throw new TypeError('decide: the signature policy needs an http binding with a signature');
  const receipts = verifier.receipts;
  const capture = receipts?.capture(verifier.resolver, verifier.status);
  const seen: { payload?: Record<string, unknown> } = {};
  let d: GuardDecision;
  try {
    d = await pipeline(verifier, capture ?? verifier, presentation, policy, binding, now, seen);
  } catch (e) {
    // A fault decides nothing, so it has no receipt.
    if (isCharterError(e) && HTTP_STATUS[e.code] === 503) return { ok: false, status: 503, reasons: [{ code: e.code, message: e.message }] };
    throw e;
  }
  if (!receipts || d.status === 503 || (receipts.unauthenticated === 'skip' && !d.ok && d.holder === undefined)) return d;
  return withReceipt(verifier, receipts, d, { presentation, ...(seen.payload ? { payload: seen.payload } : {}), policy, binding, now, ...(capture ? { capture } : {}) });
}

async function refuse(v: Verifier, status: HttpStatus, reasons: Reason[], rest: Partial<GuardDecision> = {}): Promise<GuardDecision> {
  const nonce = status === 401 && v.nonces === 'challenge' ? (await v.issueNonce()).nonce : undefined;
  return { ...rest, ok: false, status, reasons, ...(nonce !== undefined ? { nonce } : {}) };
}

/** The signature policy: the request's signature alone, its nonce used once. */
async function signedOnly(v: Verifier, binding: Extract<Binding, { kind: 'http' }>, s: SignatureBinding, now: number): Promise<GuardDecision> {
  const signature = await checkSignature(v, binding.method, binding.url, s, now);
  if (!signature.ok) return { ok: false, status: statusOfReasons(signature.reasons) as HttpStatus, reasons: signature.reasons, signature };
  const used = await redeemSignature(v, signature, s.options);
  if (used) return { ok: false, status: 401, reasons: [used], signature: { ...signature, ok: false, reasons: [used] } };
  return { ok: true, status: 200, reasons: [], holder: signerId(signature), signature };
}

async function pipeline(v: Verifier, tools: Tools, vp: unknown, policy: Policy, binding: Binding, now: number, seen: { payload?: Record<string, unknown> }): Promise<GuardDecision> {
  const http = binding.kind === 'http' ? binding : undefined;
  const signing = http?.signature;
  if (policy.kind === 'signature') return signedOnly(v, http!, signing!, now);
  if (typeof vp !== 'string' || vp.length === 0) return refuse(v, 401, [{ code: 'INVALID_PRESENTATION', message: 'no presentation was sent' }]);
  let d: DecodedJwt;
  try {
    d = decodeJwt(vp, { maxBytes: MAX_VP });
  } catch (e) {
    return refuse(v, 401, [isCharterError(e) ? { code: e.code, message: e.message } : { code: 'MALFORMED_JWT', message: 'not a compact JWS' }]);
  }
  seen.payload = d.payload;
  const bound = [
    ...freshnessReasons(d.header, d.payload, { aud: v.aud, now, maxAgeSeconds: v.maxAgeSeconds, skewSeconds: v.skewSeconds, mode: v.nonces }),
    ...bindingReasons(d.payload, binding),
  ];
  if (bound.length > 0) return refuse(v, 401, bound);

  let signature: RequestSignatureDecision | undefined;
  if (http && signing) {
    signature = await checkSignature(v, http.method, http.url, signing, now);
    if (!signature.ok) return refuse(v, statusOfReasons(signature.reasons) as HttpStatus, signature.reasons, { signature });
  }

  let checked: Pick<GuardDecision, 'reasons' | 'holder' | 'presentation' | 'grant' | 'agent'>;
  try {
    checked = await verify(vp, d.payload, v, tools, policy, now);
  } catch (e) {
    // A malformed request value (an amount, an action, a resource path): the request, not the proof, is wrong.
    if (isCharterError(e) && HTTP_STATUS[e.code] === 400) return refuse(v, 400, [{ code: e.code, message: e.message }]);
    throw e;
  }
  const status = statusOfReasons(checked.reasons);
  if (status === 401 || status === 400) {
    // Not authentic, or not a well-formed request: name no holder, use nothing up.
    const { holder: _h, ...rest } = checked;
    return refuse(v, status, checked.reasons, { ...rest, ...(signature ? { signature } : {}) });
  }
  if (signature) {
    // Two proofs of one request must come from one party: a stolen presentation cannot ride on another's signature.
    const other = await signerReason(v, signature, checked.holder!, checked.agent?.agentInfo);
    if (other) {
      const { holder: _h, ...rest } = checked;
      return refuse(v, 401, [other], { ...rest, reasons: [other], signature: { ...signature, ok: false, reasons: [other] } });
    }
  }
  // Authentic: the presentation (and the signature) are now used, whatever the outcome. Only then is
  // any spend reserved, so a replayed request never holds budget, not even for a moment.
  const used = await redeem(v, checked.holder!, d.payload, now);
  const replayedSignature = used === undefined && signature ? await redeemSignature(v, signature, signing!.options) : undefined;
  const base = { ...checked, claims: d.payload, ...(signature ? { signature: replayedSignature ? { ...signature, ok: false, reasons: [replayedSignature] } : signature } : {}) };
  if (used) return refuse(v, 401, [used], { ...base, reasons: [used] });
  if (replayedSignature) return refuse(v, 401, [replayedSignature], { ...base, reasons: [replayedSignature] });
  if (status !== 200) return refuse(v, status, checked.reasons, base);
  if (policy.kind === 'agent' && checked.agent?.cumulativeLimits) {
    const holdUntil = v.holdTimeoutSeconds !== undefined ? new Date(now + v.holdTimeoutSeconds * 1000) : undefined;
    const reserved = await reserveSpend(v.store, checked.agent, { now: new Date(now), ...(holdUntil ? { holdUntil } : {}) });
    if (!reserved.ok) {
      const agent = { ...checked.agent, ok: false, reasons: reserved.reasons };
      return refuse(v, statusOfReasons(reserved.reasons) as HttpStatus, reserved.reasons, { ...base, reasons: reserved.reasons, agent });
    }
    return { ok: true, status: 200, ...base, spend: holdSpend(v.store, reserved.reservationId!, reserved.remaining) };
  }
  return { ok: true, status: 200, ...base };
}

async function verify(vp: string, p: Record<string, unknown>, v: Verifier, tools: Tools, policy: Exclude<Policy, { kind: 'signature' }>, now: number) {
  const at = new Date(now);
  const common = {
    resolver: tools.resolver,
    status: tools.status,
    aud: v.aud,
    skewSeconds: v.skewSeconds,
    maxAgeSeconds: v.maxAgeSeconds,
    now: at,
    ...(v.nonces === 'challenge' ? { nonce: p.nonce as string } : { allowMissingNonce: true }),
  };
  if (policy.kind === 'presentation') {
    const presentation = await verifyPresentation(vp, common);
    return { reasons: presentation.reasons, ...(presentation.holder !== undefined ? { holder: presentation.holder } : {}), presentation };
  }
  if (policy.kind === 'grant') {
    // The presenter must be the grantee; an unauthentic holder fails on the signature.
    const holder = typeof p.holder === 'string' ? p.holder : typeof (p.holder as { id?: unknown } | undefined)?.id === 'string' ? ((p.holder as { id: string }).id) : undefined;
    const grant = await verifyGrant(vp, {
      ...common,
      resource: policy.resource,
      action: policy.action,
      ...(policy.owner !== undefined ? { owner: policy.owner } : {}),
      ...(policy.anyOwner === true ? { anyOwner: true } : {}),
      ...(policy.purpose !== undefined ? { purpose: policy.purpose } : {}),
      ...(policy.processing !== undefined ? { processing: policy.processing } : {}),
      ...(holder !== undefined ? { grantee: holder } : {}),
    });
    return { reasons: grant.reasons, ...(grant.holder !== undefined ? { holder: grant.holder } : {}), grant };
  }
  const agent = await verifyAgent(vp, {
    ...common,
    action: policy.action,
    ...(policy.amount !== undefined ? { amount: policy.amount } : {}),
    counterparty: policy.counterparty ?? v.aud,
    trust: policy.trust,
    ...(policy.reputation ? { reputation: policy.reputation } : {}),
  });
  return { reasons: agent.reasons, ...(agent.agent !== undefined ? { holder: agent.agent } : {}), agent };
}

/**
 * Marks a presented value used; a refusal when it was used before
 * (REPLAY_DETECTED) or, in challenge mode, never issued (NONCE_MISMATCH).
 * Using first and checking issuance second keeps a made-up nonce from ever
 * passing: the one request that wins the "used" slot finds it not issued.
 */
async function redeem(v: Verifier, holder: string, p: Record<string, unknown>, now: number): Promise<Reason | undefined> {
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

/** verify-and-throw for callers who prefer exceptions: a CharterError with the first reason's code. */
export function assertAllowed(d: GuardDecision): GuardDecision {
  if (!d.ok) {
    const r = d.reasons[0] ?? { code: 'INTERNAL' as const, message: 'refused' };
    throw new CharterError(r.code, r.message, { details: { status: d.status, reasons: d.reasons } });
  }
  return d;
}
