import { shown } from '../errors.js';
import type { CharterErrorCode, Reason } from '../errors.js';
import { canonicalJson } from '../encoding/json.js';
import { decodeJwt, verifyPresentation } from '../credentials/index.js';
import type { StatusChecker } from '../credentials/types.js';
import type { CharterResolver } from '../did/types.js';
import { verifyGrant } from '../grants/index.js';
import { verifyAgent } from '../agents/index.js';
import { ownerFormsClash, type DecisionReceipt } from './receipt.js';
import { bindingReasons, freshnessReasons, isId, nonceProofReasons, type FreshnessContext, type ProofBinding } from '../credentials/binding.js';
import type { TokenStatusCheck } from './capture.js';

/** Where a re-check reads keys and status from: the bundle's recorded documents and lists. */
export interface RecheckTools {
  resolver: CharterResolver;
  status: StatusChecker;
  /** The Token Status List check of SD-JWT grants. */
  tokenStatus: TokenStatusCheck;
}

/**
 * Codes a verifier decides from its own store or configuration, not from
 * the evidence: a replay, an issued nonce, a budget or rate on the ledger,
 * which principals and identity issuers it trusts, the reputation it
 * consulted, its freshness window, a store fault. A refusal for one of them
 * is taken as recorded (the signed receipt says so); it cannot be re-derived
 * offline.
 */
export const RECORDED_ONLY: ReadonlySet<CharterErrorCode> = new Set([
  'REPLAY_DETECTED',
  'NONCE_MISMATCH',
  'BUDGET_EXCEEDED',
  'RATE_EXCEEDED',
  'UNTRUSTED_PRINCIPAL',
  'UNTRUSTED_ISSUER',
  'IDENTITY_MISSING',
  'REPUTATION_TOO_LOW',
  'PRESENTATION_STALE',
  'ISSUED_IN_FUTURE',
  'STORE_UNAVAILABLE',
  'STORE_ERROR',
  // The request's own RFC 9421 signature (Web Bot Auth) is checked against the live request and its
  // key directory; neither is in a bundle, so such refusals are taken as the signed receipt records them.
  'SIGNATURE_MISSING',
  'SIGNATURE_INVALID',
  'SIGNATURE_EXPIRED',
  'SIGNATURE_REPLAYED',
  'SIGNATURE_TAG_MISMATCH',
  'SIGNATURE_KEY_UNKNOWN',
  'CONTENT_DIGEST_MISMATCH',
  'SIGNER_NOT_HOLDER',
  'DIRECTORY_INVALID',
  'DIRECTORY_UNAVAILABLE',
]);

/** The widest freshness window a verifier may be configured with (createVerifier's maxAgeSeconds bound). */
const WIDEST_MAX_AGE = 3600;
/** The widest clock skew a verifier accepts (createVerifier caps skewSeconds at 300). */
export const WIDEST_SKEW = 300;
/** The decision's skew and max age as its receipt records them (exact), or the widest a verifier may have. */
const skewOf = (r: DecisionReceipt) => r.window?.skew ?? WIDEST_SKEW;
const maxAgeOf = (r: DecisionReceipt) => r.window?.maxAge ?? WIDEST_MAX_AGE;

const same = (a: unknown, b: unknown) => {
  try {
    return canonicalJson(a) === canonicalJson(b);
  } catch {
    return false;
  }
};

/** The request the receipt records, as the binding the guard checked; undefined for claims recorded by digest only. */
function bindingOf(r: DecisionReceipt): ProofBinding | undefined {
  const req = r.request;
  // A receipt records the URL without its query: an htq claim was compared by the guard, and is not here.
  if ('htm' in req) return { kind: 'http', method: req.htm, url: req.htu, queryUnknown: true };
  if ('mcp' in req) return { kind: 'claims', claims: { mcp: req.mcp } };
  if ('none' in req) return { kind: 'none' };
  // Other bound claims are recorded by digest of the caller's values: not re-derivable from the presentation alone.
  return undefined;
}

/**
 * The guard's checks of the proof's own claims (credentials/binding.ts), before
 * any signature: audience, time claims, the used-once value and the transport
 * binding, against the request the receipt records, at the decision's time,
 * with the widest window and skew a verifier can be configured with (its own
 * are configuration: a refusal for them is recorded-only).
 */
function frontReasons(r: DecisionReceipt, p: Record<string, unknown>, header: Record<string, unknown> | undefined): Reason[] {
  const fresh: FreshnessContext = {
    aud: r.verifier,
    now: Date.parse(r.time),
    maxAgeSeconds: maxAgeOf(r),
    skewSeconds: skewOf(r),
    // As recorded; a receipt without it: a vp+jwt used up by its jti ('iat' mode) or, without a usable jti,
    // by a nonce this verifier issued ('challenge').
    mode: r.window?.nonces ?? (header !== undefined && !isId(p.jti) && p.nonce !== undefined ? 'challenge' : 'iat'),
  };
  const b = bindingOf(r);
  return [...(header !== undefined ? freshnessReasons(header, p, fresh) : nonceProofReasons(p, fresh, 'key binding JWT')), ...(b ? bindingReasons(p, b) : [])];
}

export interface Recheck {
  /** What the evidence shows, re-checked offline. */
  reasons: Reason[];
  holder?: string;
  chain: { id: string; iss: string }[];
  principal?: string;
  /** Set when the decision could not be re-run offline, and why: the signed receipt is then the record. */
  recorded?: string;
}

/**
 * Runs the decision again on the evidence, at `at`: the binding the
 * presentation carries, then the policy the receipt records (presentation,
 * grant, agent), with the bundle's DID documents and status lists as the
 * only sources. Trust configuration (which principals, which identity
 * issuers) is the verifier's, so the agent check accepts any principal and
 * the caller compares the principal found with the one recorded.
 */
export async function recheckDecision(r: DecisionReceipt, vp: string | undefined, tools: RecheckTools, at: Date): Promise<Recheck> {
  // Proofs a bundle cannot re-run: a signature-only decision's proof was the live request's signature
  // (not in a bundle); a payment mandate chain's trust roots are the verifier's configuration. The signed
  // receipt is the record, and the verification says so (EvidenceVerification.decision: 'recorded').
  const recorded =
    r.policy.kind === 'signature'
      ? 'a signature-only decision: the request and its signature are not in the bundle'
      : r.policy.kind === 'mandate'
        ? "a payment mandate chain: its trust roots are the verifier's configuration"
        : undefined;
  if (recorded !== undefined)
    return { reasons: [], ...(r.sub !== undefined ? { holder: r.sub } : {}), chain: r.chain, ...(r.principal !== undefined ? { principal: r.principal } : {}), recorded };
  if (vp === undefined) return { reasons: [{ code: 'INVALID_PRESENTATION', message: 'no presentation was sent' }], chain: [] };
  // An SD-JWT (recognised by its "~", as the guard does) is accepted by a grant guard only.
  if (vp.includes('~')) {
    if (r.policy.kind !== 'grant') return { reasons: [{ code: 'INVALID_PRESENTATION', message: 'an SD-JWT is accepted by a grant guard only' }], chain: [] };
    return recheckSdJwtGrant(r, r.policy, vp, tools, at);
  }
  let p: Record<string, unknown>;
  let header: Record<string, unknown>;
  try {
    ({ payload: p, header } = decodeJwt(vp, { maxBytes: 512 * 1024 }));
  } catch (e) {
    return { reasons: [{ code: (e as { code?: CharterErrorCode }).code ?? 'MALFORMED_JWT', message: 'the presentation does not decode' }], chain: [] };
  }
  const bound = frontReasons(r, p, header);
  const common = {
    resolver: tools.resolver,
    status: tools.status,
    aud: r.verifier,
    now: at,
    maxAgeSeconds: maxAgeOf(r),
    skewSeconds: skewOf(r),
    ...(typeof p.nonce === 'string' ? { nonce: p.nonce } : { allowMissingNonce: true }),
  };
  const policy = r.policy;
  if (policy.kind === 'presentation') {
    const v = await verifyPresentation(vp, common);
    return { reasons: [...bound, ...v.reasons], ...(v.holder !== undefined ? { holder: v.holder } : {}), chain: [] };
  }
  if (policy.kind === 'grant') {
    const holder =
      typeof p.holder === 'string'
        ? p.holder
        : typeof (p.holder as { id?: unknown })?.id === 'string'
          ? (p.holder as { id: string }).id
          : typeof p.iss === 'string'
            ? p.iss
            : undefined;
    const g = await verifyGrant(vp, {
      ...common,
      resource: policy.resource,
      action: policy.action,
      ...(policy.owner !== undefined ? { owner: policy.owner } : { anyOwner: true }),
      // The use the route declared, against the grant's terms (PURPOSE_NOT_ALLOWED, PROCESSING_NOT_ALLOWED).
      ...(typeof policy.purpose === 'string' ? { purpose: policy.purpose } : {}),
      ...(policy.processing === 'on-device' || policy.processing === 'trusted-execution' ? { processing: policy.processing } : {}),
      ...(holder !== undefined ? { grantee: holder } : {}),
    });
    return {
      reasons: [...bound, ...g.reasons],
      ...(g.holder !== undefined ? { holder: g.holder } : {}),
      chain: g.id !== undefined && g.grantor !== undefined ? [{ id: g.id, iss: g.grantor }] : [],
    };
  }
  if (policy.kind !== 'agent') return { reasons: [{ code: 'RECEIPT_INVALID', message: `a receipt policy of kind ${shown(policy.kind, 20)} cannot be re-checked` }], chain: [] };
  const a = await verifyAgent(vp, {
    ...common,
    action: policy.action,
    ...(policy.amount ? { amount: policy.amount } : {}),
    counterparty: policy.counterparty,
    trust: { anyPrincipal: true, requireIdentity: false },
  });
  return {
    reasons: [...bound, ...a.reasons],
    ...(a.agent !== undefined ? { holder: a.agent } : {}),
    chain: a.chain.map((l) => ({ id: l.id, iss: l.issuer })),
    ...(a.principal !== undefined ? { principal: a.principal } : {}),
  };
}

/**
 * An SD-JWT grant, re-run as the guard ran it (guard/decide.ts sdJwtFront):
 * its key binding JWT bound to the request the receipt records, then the
 * grant verified with the bundle's DID documents and its Token Status List
 * as fetched at decision time.
 */
async function recheckSdJwtGrant(
  r: DecisionReceipt,
  policy: Extract<DecisionReceipt['policy'], { kind: 'grant' }>,
  token: string,
  tools: RecheckTools,
  at: Date,
): Promise<Recheck> {
  const [{ splitSdJwt }, { verifySdJwtGrant }] = await Promise.all([import('../sdjwt/verify.js'), import('../sdjwt/grant-verify.js')]);
  let p: Record<string, unknown>;
  try {
    const kb = splitSdJwt(token, 512 * 1024).kbJwt;
    if (kb === undefined) return { reasons: [{ code: 'KEY_BINDING_INVALID', message: 'the SD-JWT grant has no key binding JWT' }], chain: [] };
    p = decodeJwt(kb).payload;
  } catch (e) {
    return { reasons: [{ code: (e as { code?: CharterErrorCode }).code ?? 'MALFORMED_JWT', message: 'the SD-JWT grant does not decode' }], chain: [] };
  }
  const bound = frontReasons(r, p, undefined);
  const g = await verifySdJwtGrant(token, {
    resolver: tools.resolver,
    status: tools.tokenStatus,
    resource: policy.resource,
    action: policy.action,
    ...(policy.owner !== undefined ? { owner: policy.owner } : { anyOwner: true }),
    ...(typeof policy.purpose === 'string' ? { purpose: policy.purpose } : {}),
    ...(policy.processing === 'on-device' || policy.processing === 'trusted-execution' ? { processing: policy.processing } : {}),
    aud: r.verifier,
    ...(typeof p.nonce === 'string' ? { nonce: p.nonce } : {}),
    now: at,
    skewSeconds: skewOf(r),
    maxKeyBindingAgeSeconds: maxAgeOf(r),
  });
  return {
    reasons: [...bound, ...g.reasons],
    ...(g.holder !== undefined ? { holder: g.holder } : {}),
    chain: g.id !== undefined && g.grantor !== undefined ? [{ id: g.id, iss: g.grantor }] : [],
  };
}

/** The refusals that depend on who owns the data (grants/verify.ts, grants/collective.ts). */
const OWNER_CODES: ReadonlySet<CharterErrorCode> = new Set(['GRANT_NOT_OWNER', 'MEMBER_WITHDRAWN']);

/** The codes of a DID that could not be resolved (the guard tells remote parties DID_RESOLUTION_FAILED for each). */
const UNRESOLVED: ReadonlySet<CharterErrorCode> = new Set(['DID_NOT_FOUND', 'DID_RESOLUTION_FAILED', 'FORBIDDEN_ADDRESS']);

/** Does the offline re-check agree with the recorded decision? Returns why not. */
export function disagreement(r: DecisionReceipt, c: Recheck): string | undefined {
  // Not re-run (a signature, a mandate chain): the signed receipt is the record, allow
  // or deny. Without this, every recorded refusal on the merits (GRANT_SCOPE, PURPOSE_NOT_ALLOWED,
  // REQUEST_MISMATCH, ...) would be reported as a reason "the evidence does not show".
  if (c.recorded !== undefined) return undefined;
  const found = new Set(c.reasons.map((x) => x.code));
  // A policy withholds its owner, names it, or accepts any: never two of these (which owner was the re-check's?).
  if (r.policy.kind === 'grant' && ownerFormsClash(r.policy)) {
    return 'the receipt both names and withholds (or waives) the owner of the data';
  }
  if (r.decision === 'allow') {
    // An allow names the owner it was checked against: one withheld would have been re-checked for any owner.
    if (r.policy.kind === 'grant' && r.policy.ownerWithheld !== undefined) return 'the receipt says allow but does not name the owner of the data';
    if (c.reasons.length > 0) return `the receipt says allow, but the evidence shows ${[...found].join(', ')}`;
    if (r.sub !== undefined && c.holder !== r.sub) return 'the evidence names another holder than the receipt';
    if (!same(c.chain, r.chain)) return 'the evidence shows another chain of authority than the receipt';
    if (r.principal !== undefined && c.principal !== r.principal) return 'the evidence roots the mandate chain in another principal than the receipt';
    return undefined;
  }
  // A binding recorded by digest only (other claims than a transport's) cannot be compared again.
  const byDigest = 'claims' in r.request;
  // A DID that could not be resolved at the time (unreachable, refused address, not there) has no document in
  // the bundle, so offline it reads as DID_NOT_FOUND: one failure to resolve, whichever code recorded it.
  const unresolved = [...found].some((c) => UNRESOLVED.has(c));
  const shown = (code: string) => found.has(code as CharterErrorCode) || (unresolved && UNRESOLVED.has(code as CharterErrorCode));
  // The owner withheld from the receipt: the re-check ran for any owner, so the owner's own codes are taken as recorded.
  const withheld = r.policy.kind === 'grant' && r.policy.ownerWithheld === true;
  const missing = r.reasons.filter(
    (code) =>
      !RECORDED_ONLY.has(code as CharterErrorCode) && !shown(code) && !(byDigest && code === 'REQUEST_MISMATCH') && !(withheld && OWNER_CODES.has(code as CharterErrorCode)),
  );
  if (missing.length > 0) return `the receipt refuses for ${missing.join(', ')}, which the evidence does not show`;
  return undefined;
}
