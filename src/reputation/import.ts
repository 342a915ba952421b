import { isCharterError, type CharterErrorCode } from '../errors.js';
import { decodeJwt, type DecodedJwt } from '../credentials/jws.js';
import { recordCredential } from '../credentials/index.js';
import { checkRating } from '../store/rows.js';
import type { StatusChecker } from '../credentials/types.js';
import type { CharterResolver } from '../did/types.js';
import type { CredentialStore, NewRating, RatingKey, ReputationStore } from '../store/types.js';
import { DEFAULT_EVIDENCE, type EvidenceCheck } from './evidence.js';
import { mapLimit } from './limit.js';
import { ATTESTATION_TYPE } from './types.js';
import { escapeUnprintable } from '../encoding/printable.js';
import { verifyAttestation } from './verify.js';

export interface ImportOptions {
  resolver: CharterResolver;
  /** Checks each attestation's (and receipt's) status as it comes in; scoring re-checks revocation later. */
  status: StatusChecker;
  now?: Date;
  /** Allowed clock skew in seconds. Default 60, capped at 300. */
  skewSeconds?: number;
  /** The kinds of interaction proof accepted in `evidence`. Default DEFAULT_EVIDENCE (the agent's InteractionReceipt, or a verifier's decision receipt of an allow). */
  evidence?: readonly EvidenceCheck[];
  /** Attestations verified at once (default 64): signatures run on the thread pool meanwhile. */
  concurrency?: number;
  /** Also keep each newly imported attestation as a held credential (a home does, so it can be listed, shown and re-scored from its JWT). */
  keep?: CredentialStore;
}

export interface ImportResult {
  /** Ratings recorded by this import. */
  imported: { id: string; attester: string; agent: string }[];
  /** Everything else, with why: refused by a rule, already held, or given twice. */
  skipped: { id: string; code: CharterErrorCode; message: string }[];
  /**
   * With `keep`: ratings recorded (they count) whose JWT could not be kept as
   * a held credential, because the credential store holds another
   * credential with that id (its ids are one namespace for every issuer).
   * The rating is keyed by attester and id, so it is not shadowed; only its
   * JWT is not listed with the home's credentials.
   */
  notKept: { id: string; attester: string; code: CharterErrorCode; message: string }[];
}

/** Attestations verified and written per round: bounds memory and the size of one transaction. */
const BATCH = 16_384;
/** Attestations decoded, looked up and verified at once within a round: bounds the decoded tokens held. */
const PART = 1024;

/** The longest unverified id reported as it is. */
const MAX_SHOWN_ID = 128;

/**
 * An id an attestation claims but that was not verified (given twice, refused), as the import reports
 * it: whoever sent the file chose it, so it is capped and each control or invisible character is a
 * visible `\uXXXX` escape; it can neither forge a line of a report ("\nimported 25") nor run long.
 */
function unverifiedId(id: string): string {
  const s = escapeUnprintable(id);
  return s.length > MAX_SHOWN_ID ? `${s.slice(0, MAX_SHOWN_ID)}…` : s;
}

/**
 * The attestation decoded (decodeJwt: what verification decodes first, so it is not decoded twice),
 * with the id and issuer it claims (unverified: used only to skip what is already held); neither when
 * it does not decode, and verification then says why.
 */
function claimed(jwt: string): { key?: RatingKey; decoded?: DecodedJwt } {
  let decoded: DecodedJwt;
  try {
    decoded = decodeJwt(jwt);
  } catch {
    return {};
  }
  const p = decoded.payload;
  const vc = (typeof p.vc === 'object' && p.vc !== null ? p.vc : p) as Record<string, unknown>;
  const id = typeof p.jti === 'string' ? p.jti : vc.id;
  const iss = typeof vc.issuer === 'string' ? vc.issuer : typeof (vc.issuer as { id?: unknown })?.id === 'string' ? (vc.issuer as { id: string }).id : p.iss;
  return typeof id === 'string' && typeof iss === 'string' ? { key: { attester: iss, id }, decoded } : { decoded };
}

const keyOf = (k: RatingKey) => `${k.attester}\n${k.id}`;

/** What the store would refuse (and so fail the whole batch for): one odd rating is skipped instead. */
function storable(r: NewRating): boolean {
  try {
    checkRating(r);
    return true;
  } catch {
    return false;
  }
}

/**
 * Verifies attestations once, as they arrive, and records the ratings that
 * count in the store: each attestation's signature, validity, status, type
 * and schema (named or not: a score is a finite number in [0, 1]), one agent
 * as subject that is not its own attester, and an interaction proof in its
 * evidence (by default the agent's receipt naming the attester, itself
 * verified). Signatures are checked on the thread pool, many at once.
 * Scoring later reads the store and verifies nothing again; it re-checks
 * revocation and applies the operator rule, which are the verifier's view at
 * decision time. Attestations already held (same attester and id) are
 * skipped before any crypto. Store faults throw (STORE_*); what was
 * recorded before a fault stays recorded.
 */
export async function importAttestations(store: ReputationStore, jwts: readonly string[], options: ImportOptions): Promise<ImportResult> {
  if (!store || typeof store.putRatings !== 'function') throw new TypeError('importAttestations needs a store with ratings (a ReputationStore)');
  if (!Array.isArray(jwts)) throw new TypeError('importAttestations needs an array of attestation JWTs');
  if (!options || typeof options.resolver?.resolveKey !== 'function' || typeof options.status !== 'function')
    throw new TypeError('importAttestations needs options.resolver and options.status');
  const concurrency = options.concurrency ?? 64;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new TypeError('concurrency must be a positive integer');
  const check = {
    resolver: options.resolver,
    status: options.status,
    now: options.now ?? new Date(),
    evidence: options.evidence ?? DEFAULT_EVIDENCE,
    ...(options.skewSeconds !== undefined ? { skewSeconds: options.skewSeconds } : {}),
  };
  const result: ImportResult = { imported: [], skipped: [], notKept: [] };
  const given = new Set<string>();
  for (let at = 0; at < jwts.length; at += BATCH) {
    // Two attestations claiming one attester and id: the one scoreAgent counts is recorded (the earliest,
    // then the smaller JWT), whatever the order they came in, and kept with its own JWT.
    const chosen = new Map<string, { rating: NewRating; jwt: string }>();
    const end = Math.min(at + BATCH, jwts.length);
    // Decoded a part at a time: a part's decoded tokens are held only until it is verified.
    for (let from = at; from < end; from += PART) {
      const part: { jwt: string; key?: RatingKey; decoded?: DecodedJwt }[] = [];
      for (let i = from; i < Math.min(from + PART, end); i++) {
        const jwt = jwts[i];
        if (typeof jwt !== 'string') {
          result.skipped.push({ id: '?', code: 'MALFORMED_JWT', message: 'not a JWT string' });
          continue;
        }
        if (given.has(jwt)) {
          const id = claimed(jwt).key?.id;
          result.skipped.push({ id: id !== undefined ? unverifiedId(id) : `#${jwt.slice(-16)}`, code: 'ALREADY_EXISTS', message: 'given twice in this import' });
          continue;
        }
        given.add(jwt);
        part.push({ jwt, ...claimed(jwt) });
      }
      const claimedKeys = part.flatMap((b) => (b.key ? [b.key] : []));
      const held = new Set((claimedKeys.length ? await store.findRatings(claimedKeys) : []).map(keyOf));
      const todo = part.filter((b) => {
        if (!b.key || !held.has(keyOf(b.key))) return true;
        result.skipped.push({ id: b.key.id, code: 'ALREADY_EXISTS', message: 'already held' });
        return false;
      });
      const checked = await mapLimit(todo, concurrency, (b) => verifyAttestation(b.jwt, check, b.decoded));
      for (const [i, c] of checked.entries()) {
        if ('code' in c) result.skipped.push({ ...c, id: unverifiedId(c.id) });
        else if (!storable(c)) result.skipped.push({ id: c.id, code: 'INVALID_CREDENTIAL', message: 'the rating cannot be recorded (an empty or oversized field)' });
        else {
          const jwt = todo[i]!.jwt;
          const had = chosen.get(keyOf(c));
          if (had !== undefined) result.skipped.push({ id: c.id, code: 'INVALID_CREDENTIAL', message: 'another attestation by this attester has the same id' });
          if (had === undefined || c.issuedAt < had.rating.issuedAt || (c.issuedAt === had.rating.issuedAt && jwt < had.jwt)) chosen.set(keyOf(c), { rating: c, jwt });
        }
      }
    }
    const rows: NewRating[] = [];
    const jwtOf = new Map<string, string>();
    for (const [k, { rating, jwt }] of chosen) {
      rows.push(rating);
      jwtOf.set(k, jwt);
    }
    const added = new Set((await store.putRatings(rows)).map(keyOf));
    for (const r of rows) {
      if (!added.has(keyOf(r))) {
        result.skipped.push({ id: r.id, code: 'ALREADY_EXISTS', message: 'another attestation with this attester and id is held' });
        continue;
      }
      added.delete(keyOf(r));
      result.imported.push({ id: r.id, attester: r.attester, agent: r.agent });
      if (options.keep && !(await keepHeld(options.keep, r, jwtOf.get(keyOf(r))!)))
        result.notKept.push({
          id: r.id,
          attester: r.attester,
          code: 'ALREADY_EXISTS',
          message: 'another credential with this id is held, so this JWT is not kept with them (the rating is recorded and counts)',
        });
    }
  }
  return result;
}

/** Keeps the JWT as a held credential; false when another credential (another issuer's, or other content) holds its id. */
async function keepHeld(keep: CredentialStore, r: NewRating, jwt: string): Promise<boolean> {
  try {
    await recordCredential(
      keep,
      { id: r.id, jwt },
      {
        direction: 'held',
        issuer: r.attester,
        subject: r.agent,
        types: [ATTESTATION_TYPE],
        validFrom: new Date(r.issuedAt).toISOString(),
        ...(r.validUntil !== undefined ? { validUntil: new Date(r.validUntil).toISOString() } : {}),
      },
    );
    return true;
  } catch (e) {
    if (!(isCharterError(e) && e.code === 'ALREADY_EXISTS')) throw e;
    // This home issued it (or holds it already): kept. Anything else under that id is not this JWT.
    const had = await keep.getCredential(r.id);
    return had?.jwt === jwt;
  }
}
