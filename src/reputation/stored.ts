import type { Reason } from '../errors.js';
import type { AgentReputation } from '../agents/types.js';
import type { Credential, StatusChecker } from '../credentials/types.js';
import type { RatingKey, RatingRecord, ReputationStore } from '../store/types.js';
import { checkScorePolicy, scoreRatings, selfParties, weightPolicy, type ScoredRating } from './scoring.js';
import { receiptKey, sorted } from './aggregate.js';
import { ATTESTATION_TYPE, RECEIPT_TYPE, type ReputationScore, type StoreScorePolicy } from './types.js';
import type { Ignored } from './verify.js';

/**
 * Status answers per rating: `null` when its entries read valid, else the
 * refusal, each kept `statusFreshnessSeconds`, so a steady stream of
 * decisions costs no status work (and does not even read the entries),
 * while the lists behind it are fetched once per list by the checker's own
 * cache. One memo per store and status checker: in one store a rating
 * (attester and id) never changes, so it is keyed by id and checked against
 * the attester, and no key string is built per row.
 */
class StatusMemo {
  readonly #map = new Map<string, { attester: string; at: number; answer: Reason | null }>();
  /** Refusals remembered so far: a listing settled before the latest one was stored may hold its rating (settled). */
  refusals = 0;
  constructor(readonly max: number) {}
  /** An answer given less than `ttl` ms before `now`: each scorer holds the memo to its own statusFreshnessSeconds. */
  get(r: RatingKey, now: number, ttl: number): { at: number; answer: Reason | null } | undefined {
    const e = this.#map.get(r.id);
    return e !== undefined && now < e.at + ttl && e.attester === r.attester ? e : undefined;
  }
  /**
   * Remembers the answer to a question asked at `at`, unless the memo holds the answer to one asked later
   * (or at the same time, and a refusal): answers arrive in any order, and one read from an older list (a
   * fetch begun before a revocation) must not replace a revocation seen since. Returns the answer that stands.
   */
  set(r: RatingKey, answer: Reason | null, at: number): Reason | null {
    const e = this.#map.get(r.id);
    if (e !== undefined && e.attester === r.attester && (e.at > at || (e.at === at && e.answer !== null))) return e.answer;
    if (this.max <= 0) return answer;
    if (answer !== null) this.refusals++;
    this.#map.delete(r.id);
    if (this.#map.size >= this.max) this.#map.delete(this.#map.keys().next().value as string);
    this.#map.set(r.id, { attester: r.attester, at, answer });
    return answer;
  }
}

const memos = new WeakMap<object, WeakMap<StatusChecker, StatusMemo>>();
/** Refusals that say something about the rating; others (the list could not be had) are asked again next time. */
const LASTING = new Set<string>(['CREDENTIAL_REVOKED', 'CREDENTIAL_SUSPENDED']);
/** Above this share of ratings to ask about, read every status entry of the agent in one query rather than by key. */
const READ_ALL_SHARE = 0.25;

function memoFor(store: ReputationStore, status: StatusChecker, max: number): StatusMemo {
  let byChecker = memos.get(store);
  if (byChecker === undefined) memos.set(store, (byChecker = new WeakMap()));
  let m = byChecker.get(status);
  if (m === undefined) byChecker.set(status, (m = new StatusMemo(max)));
  return m;
}

function freshnessMs(policy: StoreScorePolicy): number {
  const f = policy.statusFreshnessSeconds ?? 60;
  if (typeof f !== 'number' || !(f >= 0) || !Number.isFinite(f)) throw new TypeError('statusFreshnessSeconds must be a non-negative number');
  return f * 1000;
}

function checkStorePolicy(policy: StoreScorePolicy): void {
  checkScorePolicy(policy);
  freshnessMs(policy);
  for (const k of ['statusMemoEntries', 'cachedRatings'] as const) {
    const m = policy[k];
    if (m !== undefined && !(Number.isInteger(m) && m >= 0)) throw new TypeError(`${k} must be a non-negative integer`);
  }
}

/**
 * Agents' ratings as last listed, with the store's version for each: reused
 * while the version is unchanged (ratings are only ever added, and every
 * addition moves it). Bounded by rows; the least recently scored agents go
 * first. The version is read before the listing, so kept rows are never
 * older than their version says.
 */
class RatingCache {
  readonly #map = new Map<string, { version: number; rows: RatingRecord[] }>();
  #held = 0;
  constructor(readonly maxRows: number) {}
  async rows(store: ReputationStore, agent: string): Promise<RatingRecord[]> {
    if (this.maxRows <= 0) return store.listRatings(agent);
    const version = await store.ratingsVersion(agent);
    const hit = this.#map.get(agent);
    if (hit !== undefined) {
      this.#map.delete(agent);
      if (hit.version === version) {
        this.#map.set(agent, hit);
        return hit.rows;
      }
      this.#held -= hit.rows.length;
    }
    const rows = await store.listRatings(agent);
    if (rows.length <= this.maxRows) {
      this.#map.set(agent, { version, rows });
      this.#held += rows.length;
      for (const [a, e] of this.#map) {
        if (this.#held <= this.maxRows) break;
        this.#map.delete(a);
        this.#held -= e.rows.length;
      }
    }
    return rows;
  }
}

const keyOf = (k: RatingKey) => `${k.attester}\n${k.id}`;

/**
 * A listing as scoring wants it, worked out once per listing (a cached one
 * is scored again and again): in byTime order, and whether any two ratings
 * share a receipt (almost never: then no subset needs the receipt rule).
 */
const prepared = new WeakMap<readonly RatingRecord[], { rows: readonly RatingRecord[]; distinct: boolean }>();
function prepare(listing: readonly RatingRecord[]): { rows: readonly RatingRecord[]; distinct: boolean } {
  let p = prepared.get(listing);
  if (p === undefined) prepared.set(listing, (p = { rows: sorted(listing), distinct: distinctReceipts(listing) }));
  return p;
}

/**
 * No two ratings share a receipt and attester (receiptKey)? Keyed by the receipt alone, as the store
 * gave it (no key string built per row); only a receipt cited twice is looked at by receiptKey.
 */
function distinctReceipts(listing: readonly RatingRecord[]): boolean {
  const byReceipt = new Map<string, string>();
  let shared = false;
  for (const r of listing) {
    const had = byReceipt.get(r.receipt);
    if (had === undefined) byReceipt.set(r.receipt, r.attester);
    else if (had === r.attester) return false;
    else shared = true;
  }
  if (!shared) return true;
  const keys = new Set<string>();
  for (const r of listing) keys.add(receiptKey(r));
  return keys.size === listing.length;
}

/**
 * Listings whose every revocable rating read valid, with the memo that said
 * so and when the oldest of those answers was given: scored again within a
 * scorer's own freshness of that, they need no status work at all.
 */
const settled = new WeakMap<readonly RatingRecord[], { memo: StatusMemo; oldest: number; refusals: number }>();

/** Drops the ratings whose status entries no longer read valid (revoked or suspended by the attester, or the list is unavailable: fail closed). */
async function unrevoked(
  store: ReputationStore,
  agent: string,
  rows: readonly RatingRecord[],
  policy: StoreScorePolicy,
  now: Date,
  ignored: Ignored[],
): Promise<readonly RatingRecord[]> {
  const ttl = freshnessMs(policy);
  const memo = memoFor(store, policy.status, policy.statusMemoEntries ?? 250_000);
  const clock = Date.now();
  // A refusal remembered since this pass began (another pass's, asked later) may be of one of these rows.
  const refusals = memo.refusals;
  const calm = settled.get(rows);
  if (calm !== undefined && calm.memo === memo && calm.refusals === memo.refusals && (calm.oldest === Infinity || clock < calm.oldest + ttl)) return rows;
  // The steady case in one pass: every answer remembered. Otherwise the
  // answers of this pass (undefined: to ask) are completed below.
  const answers = new Array<Reason | null | undefined>(rows.length);
  const out: RatingRecord[] = [];
  const ask: number[] = [];
  let oldest = Infinity;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (!r.revocable) {
      answers[i] = null;
      out.push(r);
      continue;
    }
    const known = ttl > 0 ? memo.get(r, clock, ttl) : undefined;
    if (known === undefined) {
      ask.push(i);
      continue;
    }
    answers[i] = known.answer;
    if (known.answer === null) out.push(r);
    if (known.at < oldest) oldest = known.at;
  }
  if (ask.length > 0) {
    const keys = ask.map((i) => rows[i]!);
    const entries = await store.listRatingStatus(agent, ask.length > rows.length * READ_ALL_SHARE ? undefined : keys);
    const statusOf = new Map(entries.map((e) => [keyOf(e), e.status]));
    // All at once: ratings on one list share the checker's single fetch of it.
    await Promise.all(
      ask.map(async (i) => {
        const r = rows[i]!;
        // When the question was asked: an answer is as old as that, whenever it arrives.
        const asked = Date.now();
        let reason: Reason | null;
        try {
          const text = statusOf.get(keyOf(r));
          if (text === undefined) throw new Error('no status entry');
          reason = null;
          for (const e of statusEntries(r.attester, agent, JSON.parse(text))) {
            const credential = {
              id: r.id,
              type: ['VerifiableCredential', e.type],
              issuer: e.issuer,
              credentialSubject: { id: agent },
              credentialStatus: e.credentialStatus,
            } as Credential;
            reason = (await policy.status(credential, { issuer: e.issuer, now }))[0] ?? null;
            if (reason !== null) break;
          }
        } catch {
          reason = { code: 'STATUS_INVALID', message: 'the recorded status entry cannot be read' };
        }
        answers[i] = ttl > 0 && (reason === null || LASTING.has(reason.code)) ? memo.set(r, reason, asked) : reason;
        if (asked < oldest) oldest = asked;
      }),
    );
    out.length = 0;
    for (let i = 0; i < rows.length; i++) if (answers[i] === null) out.push(rows[i]!);
  }
  let refused = false;
  for (let i = 0; i < rows.length; i++) {
    const a = answers[i];
    if (!a) continue;
    refused = true;
    ignored.push({ id: rows[i]!.id, code: a.code, message: a.message });
  }
  // Nothing revocable (oldest stays Infinity) never needs asking; otherwise only remembered answers settle.
  if (!refused && (oldest === Infinity || ttl > 0)) settled.set(rows, { memo, oldest, refusals });
  return out;
}

/**
 * The status entries a stored rating keeps (verify.ts ratingStatus): the
 * attestation's alone, or each with its issuer. An entry the rated agent
 * issued (its receipt's, kept by 0.1) is not read: the rated agent must not
 * withdraw the feedback it was given (verify.ts receiptStatusNotRead).
 */
function statusEntries(attester: string, agent: string, stored: unknown): { issuer: string; type: string; credentialStatus: unknown }[] {
  const list = (stored as { ratingStatus?: unknown } | null)?.ratingStatus;
  if (list === undefined) return [{ issuer: attester, type: ATTESTATION_TYPE, credentialStatus: stored }];
  if (!Array.isArray(list) || list.length === 0) throw new Error('unreadable status');
  const entries = list.map((e: { issuer?: unknown; credentialStatus?: unknown }) => {
    if (typeof e?.issuer !== 'string' || e.credentialStatus === undefined) throw new Error('unreadable status');
    return { issuer: e.issuer, type: e.issuer === attester ? ATTESTATION_TYPE : RECEIPT_TYPE, credentialStatus: e.credentialStatus };
  });
  return entries.filter((e) => e.issuer !== agent);
}

async function scoreStored(
  store: ReputationStore,
  agent: string,
  policy: StoreScorePolicy,
  operators: (string | undefined)[],
  detail: boolean,
  list: (agent: string) => Promise<RatingRecord[]> = (a) => store.listRatings(a),
): Promise<ReputationScore> {
  if (typeof agent !== 'string' || agent.length === 0) throw new TypeError('an agent DID is required');
  const now = policy.now ?? new Date();
  const listing = await list(agent);
  const { rows, distinct } = prepare(listing);
  const ignored: Ignored[] = [];
  const live: readonly ScoredRating[] = await unrevoked(store, agent, rows, policy, now, ignored);
  const self = await selfParties(policy, agent, operators);
  return scoreRatings(agent, live, ignored, rows.length, {
    policy,
    weights: await weightPolicy(policy, now.getTime(), self),
    self,
    detail,
    inOrderDistinct: distinct,
  });
}

/**
 * The agent's reputation from ratings the store already verified
 * (importAttestations): one query, the aggregation in memory. Revocation is
 * re-checked through `policy.status` (each list fetched once and cached by
 * the checker; each answer reused for statusFreshnessSeconds); the operator
 * rule uses `policy.operator`. Same rules and result as scoreAgent.
 */
export async function scoreFromStore(store: ReputationStore, agentDid: string, policy: StoreScorePolicy): Promise<ReputationScore> {
  checkStorePolicy(policy);
  return scoreStored(store, agentDid, policy, [policy.operator], true);
}

/**
 * A store-backed reputation source for the agent guard (`trust.minReputation`
 * in requireAgent, guardTransaction, verifyAgent): given the agent and the
 * operator its verified identity credential names, its score and number of
 * trusted attesters, by scoreFromStore's rules. It keeps agents' ratings in
 * memory (`cachedRatings`) while the store's version for them is unchanged,
 * so a steady decision reads one number, not every rating. The policy is
 * checked now (TypeError), not on the first request.
 */
export function reputationSource(store: ReputationStore, policy: StoreScorePolicy): (agent: string, operator: string | undefined) => Promise<AgentReputation> {
  if (!store || typeof store.listRatings !== 'function') throw new TypeError('reputationSource needs a store with ratings (a ReputationStore)');
  checkStorePolicy(policy);
  const cache = new RatingCache(policy.cachedRatings ?? 1_000_000);
  const list = (agent: string) => cache.rows(store, agent);
  return async (agent, operator) => {
    const s = await scoreStored(store, agent, policy, [policy.operator, operator], false, list);
    return { score: s.score, attesters: s.attesters };
  };
}
