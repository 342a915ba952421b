import { CharterError, HTTP_STATUS, isCharterError, remoteReason, statusOfReasons, toReason, type HttpStatus, type Reason } from '../errors.js';
import { decodeJwt, type DecodedJwt } from '../credentials/index.js';
import { isMediaType } from '../credentials/media.js';
import { MAX_MAX_AGE_SECONDS, MAX_SKEW_SECONDS } from '../credentials/time.js';
import { verifyDecodedPresentation } from '../credentials/present.js';
import type { PresentationVerification, StatusChecker } from '../credentials/types.js';
import type { GrantDecision } from '../grants/index.js';
import { verifyDecodedGrant } from '../grants/verify.js';
import { reserveLinks, reserveSpend, verifyAgent, type SpendReservation } from '../agents/index.js';
import type { AgentDecision } from '../agents/types.js';
import { KB_JWT_TYP, type SdJwtStatusChecker } from '../sdjwt/types.js';
import type { MandateDecision } from '../mandates/types.js';
import type { RequestSignatureDecision } from '../httpsig/index.js';
import type { CharterResolver } from '../did/types.js';
import { bindingReasons, freshnessReasons, nonceProofReasons, type Binding, type FreshnessContext } from './binding.js';
import type { GrantPolicy, MandatePolicy, Policy, SignaturePolicy } from './policy.js';
import { checkSignature, redeemSignature, signerId, signerReason, type SignatureBinding } from './signature.js';
import { holdSpend, type SpendHold } from './spend.js';
import { scopes, type Verifier } from './verifier.js';
import { withReceipt } from './receipt.js';

/** The outcome of one guarded call, whatever carried it (HTTP, an MCP tool call, a direct call). */
export interface GuardDecision {
  ok: boolean;
  /** 200, or the status of the refusal from the one edge table (errors.ts HTTP_STATUS). */
  status: 200 | HttpStatus;
  reasons: Reason[];
  /** The presentation's holder, once its signature verified (for a mandate chain: the agent's key thumbprint URN). */
  holder?: string;
  /**
   * The binding claims once authentic: the vp+jwt's (jti, iat, htm, htu, nonce, mcp), an SD-JWT
   * presentation's key binding JWT's (aud, nonce, iat, sd_hash, htm, htu), a mandate chain's closing layer's.
   */
  claims?: Record<string, unknown>;
  /** With a presentation-only policy: the presentation and each credential in it. */
  presentation?: PresentationVerification;
  grant?: GrantDecision;
  agent?: AgentDecision;
  /** With a mandate policy: the verified Verifiable Intent or AP2 chain (its payment, links, constraints). */
  mandate?: MandateDecision;
  /** The reserved spend of an allowed agent call or mandate payment with cumulative limits, until settled. */
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

/** The resolver and status checker one decision uses: the verifier's, or recording wrappers of them (receipts' evidence). */
type Tools = { resolver: CharterResolver; status: StatusChecker; tokenStatus: SdJwtStatusChecker };

const MAX_VP = 512 * 1024;

/*
 * The SD-JWT and payment mandate code is loaded on first use: a verifier that
 * never sees either does not load it, so `import('charter')` stays as light
 * as before those formats (README "Benchmarks" has the figures).
 */
const sdJwtCode = () => Promise.all([import('../sdjwt/verify.js'), import('../sdjwt/grant-verify.js')]);
const mandateCode = () => Promise.all([import('../mandates/wire.js'), import('./mandate.js')]);

/**
 * THE decision pipeline every transport uses, in one order: decode; check
 * the binding (audience, freshness, the transport's own claims) before any
 * crypto; verify the request's own HTTP message signature when the binding
 * asks for one (and the body against a covered Content-Digest); verify
 * under the policy (signatures, validity, status, grant scope and owner,
 * agent chain and limits); with both proofs, check that the request was
 * signed by the presenting holder; then, only for an authentic request
 * that was judged (not a 503: a list out of reach decided nothing), use
 * up its jti or nonce and its signature's nonce in the store (a replay
 * is refused on every instance sharing it); then, only for an allowed agent
 * call or mandate payment with cumulative limits, reserve the spend on
 * every link of its chain. A refusal never reserves anything; a replay
 * never holds budget. With a receipts verifier, every decision but a fault
 * is signed and logged before it is returned (guard/receipt.ts).
 *
 * Three proofs go through it, each with its binding claims and its used-once value:
 * - a vp+jwt: its own claims; its jti (or, in challenge mode, its nonce);
 * - an SD-JWT grant presentation (`<sd-jwt>~<disclosures>~<kb-jwt>`, grant
 *   policy only): the key binding JWT's aud, iat, htm/htu or mcp, and its
 *   nonce, used once per holder (RFC 9901 §4.3 requires a nonce there);
 * - a payment mandate chain (mandate policy only, as a string or the
 *   profile's input object): its closing layer's aud, iat and nonce, used
 *   once per agent key (neither profile has a jti); the layers have no place
 *   for transport claims, so one that carries none is bound by aud, the
 *   used-once nonce and the payment it signs, and one that does must match.
 * With the `signature` policy the request's RFC 9421 signature is the only
 * proof: no presentation is read.
 *
 * Never throws for a refusal or a fault: a store fault (replay cache or
 * ledger unreachable) is a 503 decision with the store's code, so nothing is
 * allowed while the store is down. Throws only for misuse (TypeError).
 */
export async function decide(verifier: Verifier, presentation: unknown, policy: Policy, binding: Binding, now: number = Date.now()): Promise<GuardDecision> {
  // What is asked and what the proof is bound to are the caller's own: anything else is misuse, named.
  if (!kindIn(policy, POLICY_KINDS)) throw new TypeError(`decide: policy must be an object whose kind is ${POLICY_KINDS.join(', ')}`);
  if (!kindIn(binding, BINDING_KINDS)) throw new TypeError(`decide: binding must be an object whose kind is ${BINDING_KINDS.join(', ')}`);
  if (policy.kind === 'signature' && (binding.kind !== 'http' || !binding.signature)) throw new TypeError('decide: the signature policy needs an http binding with a signature');
  const receipts = verifier.receipts;
  const capture = receipts?.capture(verifier.resolver, verifier.status, verifier.tokenStatus);
  const seen: Seen = {};
  let d: GuardDecision;
  try {
    d = await pipeline(verifier, capture ?? verifier, presentation, policy, binding, now, seen);
  } catch (e) {
    // A fault decides nothing, so it has no receipt.
    if (isCharterError(e) && HTTP_STATUS[e.code] === 503) return { ok: false, status: 503, reasons: [{ code: e.code, message: e.message }] };
    throw e;
  }
  // 'skip' spares junk only: a refusal after a proof authenticated (a replay, a signature by someone
  // else than the holder, which names no holder) is the very refusal an audit must hold.
  if (!receipts || d.status === 503 || (receipts.unauthenticated === 'skip' && !d.ok && d.holder === undefined && !seen.authentic)) return d;
  return withReceipt(verifier, receipts, d, {
    presentation,
    ...(seen.recognised === true || seen.authentic === true ? { recognised: true } : {}),
    ...(seen.payload ? { payload: seen.payload } : {}),
    policy,
    binding,
    now,
    ...(capture ? { capture } : {}),
  });
}

const POLICY_KINDS: readonly string[] = ['grant', 'agent', 'mandate', 'presentation', 'signature'] satisfies readonly Policy['kind'][];
const BINDING_KINDS: readonly string[] = ['http', 'claims', 'none'] satisfies readonly Binding['kind'][];

function kindIn(v: unknown, kinds: readonly string[]): boolean {
  return typeof v === 'object' && v !== null && kinds.includes((v as { kind?: unknown }).kind as string);
}

async function refuse(v: Verifier, status: HttpStatus, reasons: Reason[], rest: Partial<GuardDecision> = {}): Promise<GuardDecision> {
  const nonce = status === 401 && v.nonces === 'challenge' ? (await v.issueNonce()).nonce : undefined;
  return { ...rest, ok: false, status, reasons, ...(nonce !== undefined ? { nonce } : {}) };
}

/** What an authentic proof is used up as: its jti or nonce, in this verifier's scope for its kind. */
interface Once {
  scope: 'jti' | 'kb' | 'mandate';
  value: string;
  /** Seconds; the value is kept until the proof is stale anyway (see staleAt). */
  iat: number;
  /** Seconds: the proof's own `exp`, when it has one (enforced by every verifier: it may shorten the key's life). */
  exp?: number;
  /**
   * What 'iat' mode keys a proof by, under its holder (a vp+jwt's jti, a KB-JWT's or closing layer's
   * nonce). 'challenge' mode uses it up as well as the issued nonce, so one proof is accepted once even by
   * two verifiers of one audience, in different modes, sharing a store (a migration, a rolling deploy).
   */
  iatValue?: string;
}

const expOf = (p: Record<string, unknown>): { exp?: number } => (typeof p.exp === 'number' ? { exp: p.exp } : {});

type Checked = Pick<GuardDecision, 'reasons' | 'holder' | 'presentation' | 'grant' | 'agent' | 'mandate'>;

/**
 * A proof decoded and bound, ready to verify: or the 401 reasons it was refused for before any
 * crypto (with its unverified claims when it decoded, for the receipt's record of the request).
 */
type Front = ({ refused: Reason[]; claims?: Record<string, unknown> } | { claims: Record<string, unknown>; once: Once; verify(): Promise<Checked> }) & {
  /** It decoded as the proof this route takes (a vp+jwt, an SD-JWT with its key binding JWT, a mandate chain): evidence worth keeping. */
  recognised?: true;
};

/** What the pipeline saw of one call, for its receipt: the proof's claims once decoded; whether it was a proof at all; whether it authenticated. */
interface Seen {
  payload?: Record<string, unknown>;
  recognised?: boolean;
  authentic?: boolean;
}

/** The signature policy: the request's signature alone, its nonce used once. */
async function signedOnly(v: Verifier, binding: Extract<Binding, { kind: 'http' }>, s: SignatureBinding, now: number, seen: Seen): Promise<GuardDecision> {
  const signature = await checkSignature(v, binding.method, binding.url, s, now);
  if (!signature.ok) return { ok: false, status: statusOfReasons(signature.reasons) as HttpStatus, reasons: signature.reasons, signature };
  seen.authentic = true;
  const used = await redeemSignature(v, signature, s.options);
  if (used) return { ok: false, status: 401, reasons: [used], signature: { ...signature, ok: false, reasons: [used] } };
  return { ok: true, status: 200, reasons: [], holder: signerId(signature), signature };
}

async function pipeline(v: Verifier, tools: Tools, proof: unknown, policy: Policy, binding: Binding, now: number, seen: Seen): Promise<GuardDecision> {
  const http = binding.kind === 'http' ? binding : undefined;
  const signing = http?.signature;
  if (policy.kind === 'signature') return signedOnly(v, http!, signing!, now, seen);
  const fresh: FreshnessContext = { aud: v.aud, now, maxAgeSeconds: v.maxAgeSeconds, skewSeconds: v.skewSeconds, mode: v.nonces };
  let front: Front;
  if (policy.kind === 'mandate') front = await mandateFront(v, tools, proof, policy, binding, fresh);
  else if (typeof proof !== 'string' || proof.length === 0) front = { refused: [{ code: 'INVALID_PRESENTATION', message: 'no presentation was sent' }] };
  else if (proof.includes('~')) front = await sdJwtFront(v, tools, proof, policy, binding, fresh);
  else front = vpFront(v, tools, proof, policy, binding, fresh);
  // The receipt lists the credentials a vp+jwt's claims carry. A KB-JWT's or a mandate layer's claims
  // are the holder's own: a "verifiableCredential" there was never presented, and listed it would tie
  // this request to another grant (receiptsForGrant, access reports) and break the decision's evidence.
  if (front.claims && policy.kind !== 'mandate' && !(proof as string).includes('~')) seen.payload = front.claims;
  if (front.recognised) seen.recognised = true;
  if ('refused' in front) return refuse(v, 401, front.refused.map(remoteReason));

  // The request's own signature, when the route wants one: checked before the proof's (heavier) chain.
  let signature: RequestSignatureDecision | undefined;
  if (http && signing) {
    signature = await checkSignature(v, http.method, http.url, signing, now);
    if (!signature.ok) return refuse(v, statusOfReasons(signature.reasons) as HttpStatus, signature.reasons, { signature });
  }

  let checked: Checked;
  try {
    checked = await front.verify();
  } catch (e) {
    // A malformed request value (an amount, an action, a resource path): the request, not the proof, is wrong.
    if (isCharterError(e) && HTTP_STATUS[e.code] === 400) return refuse(v, 400, [{ code: e.code, message: e.message }]);
    throw e;
  }
  // The decision's reasons go to the caller (and into its receipt): a DID or status list that could not be had
  // reads the same whatever the cause (errors.ts remoteReason). checked.presentation / grant / agent / mandate
  // keep the precise reasons for the server's own code.
  checked = { ...checked, reasons: checked.reasons.map(remoteReason) };
  const status = statusOfReasons(checked.reasons);
  if (status === 401 || status === 400 || checked.holder === undefined) {
    // Not authentic, or not a well-formed request: name no holder, use nothing up.
    const { holder: _h, ...rest } = checked;
    const reasons = status === 200 ? [{ code: 'INVALID_PRESENTATION' as const, message: 'the proof names no holder' }] : checked.reasons;
    return refuse(v, status === 200 ? 401 : status, reasons, { ...rest, ...(signature ? { signature } : {}) });
  }
  seen.authentic = true;
  if (signature) {
    // Two proofs of one request must come from one party: a stolen presentation cannot ride on another's signature.
    const other = await signerReason(v, signature, checked.holder, checked.agent?.agentInfo);
    if (other) {
      const { holder: _h, ...rest } = checked;
      return refuse(v, 401, [other], { ...rest, reasons: [other], signature: { ...signature, ok: false, reasons: [other] } });
    }
  }
  // A decision that judged nothing (a status list out of reach, and nothing else refused: errors.ts
  // statusOfReasons) uses nothing up: the same request sent again once it is back, as Retry-After invites, is decided then.
  if (status === 503) return refuse(v, 503, checked.reasons, { ...checked, claims: front.claims, ...(signature ? { signature } : {}) });
  // Authentic: the proof (and the signature) are now used, whatever the outcome. Only then is any
  // spend reserved, so a replayed request never holds budget, not even for a moment.
  const used = await redeem(v, checked.holder, front.once, now);
  const replayedSignature = used === undefined && signature ? await redeemSignature(v, signature, signing!.options) : undefined;
  const base = { ...checked, claims: front.claims, ...(signature ? { signature: replayedSignature ? { ...signature, ok: false, reasons: [replayedSignature] } : signature } : {}) };
  if (used) return refuse(v, 401, [used], { ...base, reasons: [used] });
  if (replayedSignature) return refuse(v, 401, [replayedSignature], { ...base, reasons: [replayedSignature] });
  if (status !== 200) return refuse(v, status, checked.reasons, base);
  // With holdTimeoutSeconds: when the ledger releases an unsettled reservation (told to it and to the hold).
  const holdUntil = v.holdTimeoutSeconds !== undefined ? new Date(now + v.holdTimeoutSeconds * 1000) : undefined;
  let reserved: SpendReservation | undefined;
  try {
    reserved = await reserve(v, policy, checked, now, holdUntil);
  } catch (e) {
    // A reservation the ledger cannot take (a mandate whose limits it refuses) is a refusal, not a throw:
    // the proof is already used up, and decide() answers every call. A store fault stays a 503 (above).
    if (!isCharterError(e) || HTTP_STATUS[e.code] === 503) throw e;
    return refuse(v, HTTP_STATUS[e.code] as HttpStatus, [{ code: e.code, message: e.message }], { ...base, reasons: [{ code: e.code, message: e.message }] });
  }
  if (reserved && !reserved.ok) {
    const refusal = { ...base, reasons: reserved.reasons };
    if (checked.agent) refusal.agent = { ...checked.agent, ok: false, reasons: reserved.reasons };
    if (checked.mandate) refusal.mandate = { ...checked.mandate, ok: false, reasons: reserved.reasons };
    return refuse(v, statusOfReasons(reserved.reasons) as HttpStatus, reserved.reasons, refusal);
  }
  return { ok: true, status: 200, ...base, ...(reserved ? { spend: holdSpend(v.store, reserved.reservationId!, reserved.remaining, holdUntil ? { holdUntil } : {}) } : {}) };
}

/** The spend of an allowed agent call or mandate payment on every link of its chain, when a link has a budget or rate. */
async function reserve(v: Verifier, policy: Policy, checked: Checked, now: number, holdUntil: Date | undefined): Promise<SpendReservation | undefined> {
  const options = { now: new Date(now), ...(holdUntil ? { holdUntil } : {}) };
  if (policy.kind === 'agent' && checked.agent?.cumulativeLimits) return reserveSpend(v.store, checked.agent, options);
  const m = checked.mandate;
  if (policy.kind !== 'mandate' || !m?.payment) return undefined;
  // Every mandate payment goes through the ledger, limits or not: each mandate pays a counted number of
  // times (VI credential-format §8.3, AP2 agent_recurrence) and each checkout once, durably in the store.
  if (m.links.length === 0) throw new CharterError('CONSTRAINT_VIOLATED', 'the mandate chain maps to no ledger link, so its use cannot be counted');
  const unmapped = m.links.flatMap((l) => l.unmapped);
  // DESIGN.md "a newer issuer's tighter rule is never silently ignored": what the ledger cannot hold refuses the payment.
  if (unmapped.length > 0) throw new CharterError('UNKNOWN_CONSTRAINT', `the mandate states ${unmapped.slice(0, 3).join(', ')}, which this verifier does not enforce`);
  const r = await reserveLinks(v.store, m.links, m.payment.amount, options);
  // One reason per link and code already (agents/ledger.ts ledgerReasons), an AP2 root's two rows included.
  return r.ok ? r : { ...r, reasons: r.reasons.map(useReason) };
}

/** A count the ledger refused, said in the mandate's terms (the ledger only knows transactions per window). */
function useReason(r: Reason): Reason {
  if (r.code !== 'RATE_EXCEEDED' || r.ref === undefined) return r;
  if (r.ref.endsWith('#uses')) return { ...r, message: `the mandate has made every payment it allows (${r.message})` };
  if (r.ref.endsWith('#frequency')) return { ...r, message: `the mandate's recurrence frequency allows no further payment yet (${r.message})` };
  if (r.ref.startsWith('urn:charter:checkout:')) return { ...r, message: 'this checkout (transaction_id) is already paid' };
  return r;
}

/** A vp+jwt: decoded, its binding checked on the unverified claims, then verified under the policy. */
function vpFront(v: Verifier, tools: Tools, vp: string, policy: Exclude<Policy, MandatePolicy | SignaturePolicy>, binding: Binding, fresh: FreshnessContext): Front {
  let d: DecodedJwt;
  try {
    d = decodeJwt(vp, { maxBytes: MAX_VP });
  } catch (e) {
    return { refused: [isCharterError(e) ? { code: e.code, message: e.message } : { code: 'MALFORMED_JWT', message: 'not a compact JWS' }] };
  }
  // A vp+jwt (VC-JOSE-COSE §3.2) or a VC-JWT 1.1 presentation (its `vp` claim); a JWT of any other kind
  // (an OAuth access token sent to the wrong API) is refused and never kept as evidence.
  const recognised = isMediaType(d.header.typ, 'vp+jwt') || (typeof d.payload.vp === 'object' && d.payload.vp !== null) ? ({ recognised: true } as const) : {};
  const bound = [...freshnessReasons(d.header, d.payload, fresh), ...bindingReasons(d.payload, binding)];
  if (bound.length > 0) return { refused: bound, claims: d.payload, ...recognised };
  const p = d.payload;
  const once: Once = {
    scope: 'jti',
    value: String(v.nonces === 'challenge' ? p.nonce : p.jti),
    iat: p.iat as number,
    ...expOf(p),
    ...(typeof p.jti === 'string' ? { iatValue: p.jti } : {}),
  };
  return { claims: p, once, verify: () => verifyVp(vp, d, v, tools, policy, fresh.now), ...recognised };
}

/**
 * An SD-JWT grant presentation (`Authorization: Bearer <issuer-jwt>~<disclosures>~<kb-jwt>`,
 * recognised by its "~"): its key binding JWT plays the vp+jwt's part. The
 * holder signs it with the credential's `cnf` key for this verifier (`aud`),
 * now (`iat`), this request (`htm`/`htu` as DPoP does, or `mcp`), and a
 * `nonce` used once (one this verifier issued, in challenge mode).
 */
async function sdJwtFront(
  v: Verifier,
  tools: Tools,
  token: string,
  policy: Exclude<Policy, MandatePolicy | SignaturePolicy>,
  binding: Binding,
  fresh: FreshnessContext,
): Promise<Front> {
  if (policy.kind !== 'grant') return { refused: [{ code: 'INVALID_PRESENTATION', message: 'an SD-JWT is accepted by a grant guard only; send a vp+jwt presentation' }] };
  const [{ splitSdJwt }, { verifySdJwtGrant }] = await sdJwtCode();
  let kb: DecodedJwt;
  try {
    const split = splitSdJwt(token, MAX_VP);
    if (split.kbJwt === undefined)
      return { refused: [{ code: 'KEY_BINDING_INVALID', message: 'an SD-JWT grant is presented with a key binding JWT (bound to this verifier, this request and a nonce)' }] };
    kb = decodeJwt(split.kbJwt);
  } catch (e) {
    return { refused: [toReason(e, 'MALFORMED_JWT')] };
  }
  // RFC 7515 §4.1.9: the media type in any case, with or without "application/" (as the verifier reads it).
  if (!isMediaType(kb.header.typ, KB_JWT_TYP)) return { refused: [{ code: 'INVALID_TYP', message: `the key binding JWT must have typ ${KB_JWT_TYP}` }] };
  const p = kb.payload;
  const bound = [...nonceProofReasons(p, fresh, 'key binding JWT'), ...bindingReasons(p, binding)];
  if (bound.length > 0) return { refused: bound, claims: p, recognised: true };
  // 'iat' mode keys a KB-JWT by its jti when it has one (charterFetch keeps one jti for a request and its
  // retry with a challenge's nonce, so a relay keeping the first proof gets only one of the two taken), else
  // by its nonce.
  const iatValue = typeof p.jti === 'string' && p.jti !== '' ? p.jti : (p.nonce as string);
  return {
    claims: p,
    once: { scope: 'kb', value: v.nonces === 'challenge' ? (p.nonce as string) : iatValue, iat: p.iat as number, ...expOf(p), iatValue },
    verify: () => verifySdJwtPresentation(verifySdJwtGrant, token, p, v, tools, policy, fresh.now),
    recognised: true,
  };
}

async function verifySdJwtPresentation(
  verifySdJwtGrant: Awaited<ReturnType<typeof sdJwtCode>>[1]['verifySdJwtGrant'],
  token: string,
  p: Record<string, unknown>,
  v: Verifier,
  tools: Tools,
  policy: GrantPolicy,
  now: number,
): Promise<Checked> {
  const grant = await verifySdJwtGrant(token, {
    resolver: tools.resolver,
    status: tools.tokenStatus,
    ...grantAsk(policy),
    aud: v.aud,
    nonce: p.nonce as string,
    now: new Date(now),
    skewSeconds: v.skewSeconds,
    maxKeyBindingAgeSeconds: v.maxAgeSeconds,
  });
  // The holder proved possession of the key the owner bound to the grantee (`sub`): the grantee is presenting.
  return { reasons: grant.reasons, ...(grant.holder !== undefined ? { holder: grant.holder } : {}), grant };
}

/** A payment mandate chain: read from its wire form, its closing layer bound before any signature is checked. */
async function mandateFront(v: Verifier, tools: Tools, proof: unknown, policy: MandatePolicy, binding: Binding, fresh: FreshnessContext): Promise<Front> {
  if (proof === undefined || proof === null || proof === '') return { refused: [{ code: 'INVALID_PRESENTATION', message: 'no mandate chain was sent' }] };
  const [{ closingLayer, readMandateInput }, { verifyMandatePolicy }] = await mandateCode();
  let input: ReturnType<typeof readMandateInput>;
  let closing: ReturnType<typeof closingLayer>;
  try {
    input = readMandateInput(policy.profile, proof);
    closing = closingLayer(policy.profile, input);
  } catch (e) {
    return { refused: [toReason(e, 'INVALID_PRESENTATION')] };
  }
  const p = closing.payload;
  const bound = [...nonceProofReasons(p, fresh, `mandate chain's closing layer (${closing.name})`), ...bindingReasons(p, binding, true)];
  if (bound.length > 0) return { refused: bound, claims: p, recognised: true };
  return {
    recognised: true,
    claims: p,
    once: { scope: 'mandate', value: p.nonce as string, iat: p.iat as number, ...expOf(p), iatValue: p.nonce as string },
    verify: () => verifyMandatePolicy(input, closing, v, policy, new Date(fresh.now), tools.tokenStatus),
  };
}

async function verifyVp(vp: string, d: DecodedJwt, v: Verifier, tools: Tools, policy: Exclude<Policy, MandatePolicy | SignaturePolicy>, now: number): Promise<Checked> {
  const p = d.payload;
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
    const presentation = await verifyDecodedPresentation(vp, d, common);
    return { reasons: presentation.reasons, ...(presentation.holder !== undefined ? { holder: presentation.holder } : {}), presentation };
  }
  if (policy.kind === 'grant') {
    // The presenter must be the grantee; an unauthentic holder fails on the signature.
    const holder = typeof p.holder === 'string' ? p.holder : typeof (p.holder as { id?: unknown } | undefined)?.id === 'string' ? (p.holder as { id: string }).id : undefined;
    const grant = await verifyDecodedGrant(vp, d, {
      ...common,
      ...grantAsk(policy),
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
async function redeem(v: Verifier, holder: string, once: Once, now: number): Promise<Reason | undefined> {
  const s = scopes(v.aud);
  const stale = staleAt(once, now);
  // The used slot outlives both the nonce's issuance here and the proof's freshness anywhere (another
  // verifier of this audience may have issued it, with a longer nonceTtlSeconds).
  const nonceUntil = new Date(Math.max(now + v.nonceTtlSeconds * 1000, stale.getTime()));
  if (v.nonces === 'challenge') {
    if (!(await v.store.consumeNonce(s.used, once.value, nonceUntil))) return replayed();
    if (await v.store.consumeNonce(s.issued, once.value, nonceUntil)) return unknownNonce();
    // Also what an 'iat' verifier of this audience would key it by (see Once).
    return once.iatValue === undefined || (await v.store.consumeNonce(s[once.scope], `${holder} ${once.iatValue}`, stale)) ? undefined : replayed();
  }
  // One key in 'iat' mode: a 'challenge' verifier of this audience uses this key up too, whichever sees the
  // proof first (a nonce in an 'iat' presentation may be one a verifier hands out to many, so it is not used up).
  return (await v.store.consumeNonce(s[once.scope], `${holder} ${once.value}`, stale)) ? undefined : replayed();
}

/**
 * When a used-once key may go: once no verifier sharing the store could still find the proof fresh.
 * Not this verifier's own maxAgeSeconds and skewSeconds: instances of one audience may be configured
 * apart (a rolling deploy, a Veramo agent beside a guardTransaction worker), and a key dropped when the
 * strictest one would refuse the proof let a laxer one take it again. So the widest any may be set to:
 * iat + the largest maxAge (or the proof's exp, which every one enforces, when sooner), plus the largest
 * skew twice (their clocks may disagree by that much), plus a second.
 */
function staleAt(once: Once, now: number): Date {
  const iatMs = Number.isFinite(once.iat) ? once.iat * 1000 : now;
  const lastFresh = Math.min(iatMs + MAX_MAX_AGE_SECONDS * 1000, once.exp !== undefined && Number.isFinite(once.exp) ? once.exp * 1000 : Infinity);
  return new Date(lastFresh + 2 * MAX_SKEW_SECONDS * 1000 + 1000);
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

/** What a grant policy asks of a grant, in the options both grant verifiers (vp+jwt and SD-JWT) take. */
function grantAsk(policy: GrantPolicy) {
  return {
    resource: policy.resource,
    action: policy.action,
    ...(policy.owner !== undefined ? { owner: policy.owner } : {}),
    ...(policy.anyOwner === true ? { anyOwner: true } : {}),
    ...(policy.purpose !== undefined ? { purpose: policy.purpose } : {}),
    ...(policy.processing !== undefined ? { processing: policy.processing } : {}),
  };
}
