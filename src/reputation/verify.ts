import { toReason, type Reason } from '../errors.js';
import { partiesOf, signerLink } from '../did/parties.js';
import { notingKeys, soleKey } from '../did/noting.js';
import { DEFAULT_SKEW_SECONDS, MAX_SKEW_SECONDS, soleSubject, type DecodedJwt } from '../credentials/index.js';
import { verifyDecodedCredential, verifyCredential } from '../credentials/verify.js';
import type { Credential, CredentialVerification, StatusChecker } from '../credentials/types.js';
import type { CharterResolver } from '../did/types.js';
import { parseDateTime } from '../encoding/time.js';
import type { NewRating } from '../store/types.js';
import type { EvidenceCheck, EvidenceContext, InteractionProof } from './evidence.js';
import { ATTESTATION_TYPE, RECEIPT_TYPE, type ReputationScore } from './types.js';

export type Ignored = ReputationScore['ignored'][number];

/** schemas/ReputationAttestation.json `rating.score`: the range every counted score lies in (a test keeps the two equal). */
export const SCORE_RANGE = { minimum: 0, maximum: 1 } as const;

/** Evidence entries read per attestation: each may cost a signature check. */
const MAX_EVIDENCE = 4;
const MAX_ID = 2048;
/** The widest instant a JS Date holds (ECMA-262 §21.4.1.1): beyond it toISOString throws. */
const MAX_TIME = 8.64e15;

export interface AttestationCheck {
  resolver: CharterResolver;
  status: StatusChecker;
  now: Date;
  skewSeconds?: number;
  evidence: readonly EvidenceCheck[];
  /** Only attestations about this agent (scoreAgent); any agent when absent (import). */
  agent?: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const pick = (r: Reason) => ({ code: r.code, message: r.message });
const firstOf = (v: CredentialVerification): Reason => v.reasons[0] ?? { code: 'INVALID_CREDENTIAL', message: 'invalid' };

/** The skew in seconds, as verifyCredential reads it (it refuses bad values itself). */
export const skewMs = (s: number | undefined) => Math.min(typeof s === 'number' && Number.isFinite(s) && s >= 0 ? s : DEFAULT_SKEW_SECONDS, MAX_SKEW_SECONDS) * 1000;

/**
 * An interaction receipt's status entry is not read: the receipt is the rated
 * agent's own word that the interaction happened, and a status list the agent
 * controls would let it take that word back once a rating it dislikes arrives
 * (a revoked receipt dropped the rating: the one party rated decided which
 * feedback counts). The attestation's status is its attester's, and is read.
 * An agent whose key was stolen is withdrawn as a whole (its identity
 * credential revoked), not rating by rating.
 */
const receiptStatusNotRead: StatusChecker = async () => [];

/**
 * verifyCredential for one type (whose schema holds whether or not the credential names it: schemas.ts);
 * `decoded`, when given, is decodeJwt(jwt), so the token is not decoded again.
 */
async function verifyAs(jwt: string, type: string, c: AttestationCheck, decoded?: DecodedJwt): Promise<CredentialVerification> {
  const options = {
    resolver: c.resolver,
    status: type === RECEIPT_TYPE ? receiptStatusNotRead : c.status,
    now: c.now,
    requireType: type,
    // Each attestation and receipt is verified once, at import: the per-JWS caches would only cost.
    once: true as const,
    ...(c.skewSeconds !== undefined ? { skewSeconds: c.skewSeconds } : {}),
  };
  return decoded === undefined ? verifyCredential(jwt, options) : verifyDecodedCredential(jwt, decoded, options);
}

/** A finite number in the schema's range, or undefined. -0 reads as 0. */
export function readScore(v: unknown): number | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < SCORE_RANGE.minimum || v > SCORE_RANGE.maximum) return undefined;
  return v === 0 ? 0 : v;
}

/**
 * validFrom (and nbf) and validUntil (and exp), the strictest of each, in ms;
 * undefined when a date-time given is not strict RFC 3339 with a time zone
 * (encoding/time.ts, as verifyCredential reads them): a validUntil no clock
 * reads must not make a rating count forever.
 */
function validity(c: Credential): { from?: number; until?: number } | undefined {
  const validFrom = c.validFrom === undefined ? undefined : parseDateTime(c.validFrom);
  const validUntil = c.validUntil === undefined ? undefined : parseDateTime(c.validUntil);
  if ((c.validFrom !== undefined && validFrom === undefined) || (c.validUntil !== undefined && validUntil === undefined)) return undefined;
  // Whole milliseconds (a store keeps them as integers): a fractional NumericDate (RFC 7519 §2 allows one)
  // rounds inward, so the rating is never taken as valid for a moment its credential was not.
  const from = Math.ceil(Math.max(validFrom ?? -Infinity, typeof c.nbf === 'number' ? c.nbf * 1000 : -Infinity));
  const until = Math.floor(Math.min(validUntil ?? Infinity, typeof c.exp === 'number' ? c.exp * 1000 : Infinity));
  return { ...(Number.isFinite(from) && Math.abs(from) <= MAX_TIME ? { from } : {}), ...(Number.isFinite(until) && Math.abs(until) <= MAX_TIME ? { until } : {}) };
}

/** The first evidence entry that proves the interaction the attestation names, or why none does. */
async function proofOf(c: Credential, interaction: unknown, ctx: EvidenceContext, checks: readonly EvidenceCheck[]): Promise<InteractionProof | Reason> {
  const entries = (Array.isArray(c.evidence) ? c.evidence : [c.evidence]).filter(isObj).slice(0, MAX_EVIDENCE);
  let why: Reason | undefined;
  for (const entry of entries) {
    for (const check of checks) {
      const r = await check(entry, ctx);
      if (r === undefined) continue;
      if ('code' in r) why ??= r;
      else if (r.id !== interaction) why ??= { code: 'RECEIPT_INVALID', message: 'the attestation and its evidence disagree on the interaction' };
      else return r;
      break;
    }
  }
  return why ?? { code: 'RECEIPT_INVALID', message: 'no interaction proof (receipt) in evidence' };
}

/**
 * Checks one attestation and the evidence it rests on, once: signature,
 * validity, status, type, schema (named or not), one agent as subject, not
 * rated by itself, a score in range, and an interaction proof. Returns the
 * rating to record or why it does not count. The operator rule is not here:
 * who operates an agent is the verifier's view at decision time. `decoded`,
 * when the caller has it, is decodeJwt(jwt) (importAttestations).
 */
export async function verifyAttestation(jwt: string, c: AttestationCheck, decoded?: DecodedJwt): Promise<NewRating | Ignored> {
  // The key the signature verifies with, noted as it is resolved (noting.ts): never a second lookup.
  const noted = notingKeys(c.resolver, 'assertionMethod');
  const v = await verifyAs(jwt, ATTESTATION_TYPE, { ...c, resolver: noted.resolver }, decoded);
  const id = typeof v.id === 'string' ? v.id.slice(0, MAX_ID) : `#${String(jwt).slice(-16)}`;
  if (!v.ok || !v.credential || !v.issuer) return { id, ...pick(firstOf(v)) };
  const signedWith = soleKey(noted.keys, v.issuer);
  if (signedWith === undefined) return { id, code: 'INVALID_CREDENTIAL', message: 'the key that signed the attestation cannot be told' };
  const cred = v.credential;
  if (typeof cred.id !== 'string' || cred.id.length === 0 || cred.id.length > MAX_ID)
    return { id, code: 'INVALID_CREDENTIAL', message: `an attestation needs an id (at most ${MAX_ID} characters)` };
  const agent = v.subject;
  if (agent === undefined) return { id, code: 'INVALID_CREDENTIAL', message: 'an attestation rates exactly one agent' };
  if (c.agent !== undefined && agent !== c.agent) return { id, code: 'INVALID_CREDENTIAL', message: 'the attestation is about another agent' };
  const attester = v.issuer;
  // Signed with the agent's own key (its did:key or did:jwk), under any DID, it is the agent: refused. Not
  // when only the agent's own document lists the signing key (anyone's public key can be listed, a critic's
  // too): such a rating is kept, and scoring counts no rating of that agent (scoring.ts refusedAttesters).
  // A did:web attester whose own document lists the agent's key beside the one it signed with is kept too:
  // who listed the shared key cannot be told, so scoring counts its ratings only against the agent
  // (parties.ts signerLink 'shared', scoring.ts AGAINST).
  let self: boolean;
  try {
    self = (await signerLink(c.resolver, await partiesOf(c.resolver, [agent]), attester, signedWith)) === 'self';
  } catch (e) {
    return { id, ...pick(toReason(e, 'DID_RESOLUTION_FAILED')) };
  }
  if (self) return { id, code: 'SELF_ATTESTATION', message: 'an agent cannot rate itself (the attester signs with a key of the agent)' };
  const subject = soleSubject(cred)!;
  const rating = subject.rating as Record<string, unknown>;
  const score = readScore(rating.score);
  if (score === undefined) return { id, code: 'SCHEMA_INVALID', message: `a score is a finite number from ${SCORE_RANGE.minimum} to ${SCORE_RANGE.maximum}` };
  const dates = validity(cred);
  if (dates === undefined) return { id, code: 'INVALID_CREDENTIAL', message: 'validFrom and validUntil are RFC 3339 date-times with a time zone' };
  const { from, until } = dates;
  if (from === undefined) return { id, code: 'INVALID_CREDENTIAL', message: 'an attestation needs validFrom: its age decides its weight' };
  const ctx: EvidenceContext = { agent, attester, now: c.now, resolver: c.resolver, verify: (j, type) => verifyAs(j, type, c) };
  const proof = await proofOf(cred, subject.interaction, ctx, c.evidence);
  if ('code' in proof) return { id, ...pick(proof) };
  // DESIGN.md "Time": a rating is of an interaction that happened, so it is not older than it, and the
  // interaction (a decision receipt's time is its signer's word alone) is not in the future.
  const skew = skewMs(c.skewSeconds);
  if (proof.at !== undefined && proof.at > c.now.getTime() + skew) return { id, code: 'RECEIPT_INVALID', message: 'the interaction it rates is dated in the future' };
  if (proof.at !== undefined && from + skew < proof.at) return { id, code: 'INVALID_CREDENTIAL', message: 'the attestation is dated before the interaction it rates' };
  return {
    id: cred.id,
    attester,
    agent,
    receipt: proof.id,
    score,
    ...(typeof rating.dimension === 'string' ? { dimension: rating.dimension } : {}),
    issuedAt: from,
    // The rating lasts while both the attestation and the proof it rests on are valid (scoreAgent verifies both at its time).
    ...validEnd(until, proof.until),
    // A proof's status issued by the rated agent itself is never kept (receiptStatusNotRead).
    ...ratingStatus(attester, cred.credentialStatus, proof.status?.issuer === agent ? undefined : proof.status),
    importedAt: Date.now(),
    signedWith,
  };
}

/** The earlier of two validity ends (ms), as a stored rating's validUntil; none when neither ends (or either lies beyond a Date). */
function validEnd(a: number | undefined, b: number | undefined): { validUntil?: number } {
  const until = Math.min(a ?? Infinity, typeof b === 'number' && Math.abs(b) <= MAX_TIME ? b : Infinity);
  return until !== Infinity ? { validUntil: until } : {};
}

/**
 * What a stored rating keeps to re-check revocation at scoring time: the
 * attestation's status entry (as before: the entry itself), or, when the
 * receipt it rests on is revocable too, both with who issued each
 * (`{ ratingStatus: [...] }`): a receipt its agent revoked (a stolen key) must
 * stop counting in the store as it does in scoreAgent.
 */
function ratingStatus(attester: string, own: unknown, proof: InteractionProof['status']): { status?: string } {
  if (proof === undefined) return own !== undefined ? { status: JSON.stringify(own) } : {};
  const entries = [...(own !== undefined ? [{ issuer: attester, credentialStatus: own }] : []), proof];
  return { status: JSON.stringify({ ratingStatus: entries }) };
}
