import { identifierSet } from '../encoding/lists.js';
import { verifyCredential } from '../credentials/index.js';
import { nowOf } from '../credentials/time.js';
import { aggregate, checkWeightPolicy, oneRatingPerReceipt, str, type VerifiedRating, type WeightPolicy } from './aggregate.js';
import type { ReputationScore, ScorePolicy } from './types.js';
import { isParty, partiesOf, partyKey, pureKeyOf, signerLink, signingKeysOf } from '../did/parties.js';
import { notingKeys, soleKey } from '../did/noting.js';
import type { CharterResolver } from '../did/types.js';
import { AGENT_IDENTITY_TYPE } from '../agents/types.js';
import { skewMs, type Ignored } from './verify.js';

/** The agent and its operators by DID and by signing key: a did:key or did:jwk of one of their keys is the same party. */
export type SelfParties = Awaited<ReturnType<typeof partiesOf>>;

/** Who counts as "self" when scoring `agent` with these operators, resolved through the policy's resolver (fails closed: it throws when a DID cannot be resolved). */
export function selfParties(policy: ScorePolicy, agent: string, operators: readonly (string | undefined)[]): Promise<SelfParties> {
  return partiesOf(policy.resolver, [agent, ...operators]);
}

/** The weights scoring uses, and the attesters whose trust rests on a vouch that cannot be told from the agent's own (weightPolicy). */
export type ScoringWeights = WeightPolicy & { ambiguous?: ReadonlySet<string> };

/**
 * A verified rating as scoring needs it: with its validity end, when it has one, and the key its
 * signature verified with (parties.ts keyString), when that was noted (a rating stored before was not).
 */
export type ScoredRating = VerifiedRating & { validUntil?: number; signedWith?: string };

/** TypeError for a policy that cannot be meant: checked when a scorer is built or called. */
export function checkScorePolicy(policy: ScorePolicy): void {
  if (!policy || typeof policy !== 'object') throw new TypeError('a reputation policy is required');
  if (typeof policy.status !== 'function') throw new TypeError('a reputation policy needs status (a status checker): revoked ratings must not count');
  nowOf(policy.now, 'a reputation policy');
  checkWeightPolicy(policy);
  const u = policy.unknownAttesterWeight;
  if (u !== undefined && !(typeof u === 'number' && u >= 0 && u <= 1)) throw new TypeError('unknownAttesterWeight must be a number from 0 to 1');
  // A string where a list belongs would be matched by substring; a non-string item is a misuse.
  for (const k of ['trustedAttesters', 'trustedIdentityIssuers', 'attesterCredentials'] as const)
    identifierSet(k, policy[k], k === 'attesterCredentials' ? 'credentials (JWTs)' : 'DIDs');
}

/**
 * Charter's own credentials that say something other than who their subject
 * is (a rating, a receipt, a grant, a mandate, a pool's records): from a
 * trusted identity issuer they still vouch for no one. A rating of 0 by a
 * registry is not its word that the rated party is accountable.
 */
const NOT_IDENTITY = new Set([
  'ReputationAttestation',
  'InteractionReceipt',
  'DataAccessGrant',
  'AgentAuthorityCredential',
  'PoolVoteCredential',
  'PoolMembershipCredential',
  'PoolDecisionCredential',
  'PoolEpochCredential',
  'PoolProposal',
  'PoolUsageReport',
]);

/** Who vouched for an attester, and whether only as its operator (an AgentIdentityCredential). */
interface Vouch {
  issuer: string;
  /** The key the vouch's signature verified with (keyString): what ties the issuer to the parties first (signerLink). */
  signedWith: string | undefined;
  /** The credential is an AgentIdentityCredential: the issuer operates the attester. */
  operates: boolean;
}

/**
 * Subjects of valid identity credentials from a trusted identity issuer
 * (attesters someone accountable vouches for), each with who vouched and how.
 */
async function vouchedAttesters(policy: ScorePolicy): Promise<Map<string, Vouch[]>> {
  const out = new Map<string, Vouch[]>();
  const issuers = new Set(policy.trustedIdentityIssuers ?? []);
  if (issuers.size === 0 || !policy.attesterCredentials?.length) return out;
  const checked = await Promise.all(
    policy.attesterCredentials.map(async (j) => {
      // The key each vouch verifies with, noted as it is resolved (noting.ts): never a second lookup.
      const noted = notingKeys(policy.resolver, 'assertionMethod');
      const v = await verifyCredential(j, { resolver: noted.resolver, status: policy.status, ...(policy.now ? { now: policy.now } : {}) });
      return { v, signedWith: v.issuer === undefined ? undefined : soleKey(noted.keys, v.issuer) };
    }),
  );
  for (const { v, signedWith } of checked) {
    if (!v.ok || v.issuer === undefined || !issuers.has(v.issuer) || v.subject === undefined) continue;
    if (v.credential?.type.some((t) => NOT_IDENTITY.has(t))) continue;
    const list = out.get(v.subject) ?? out.set(v.subject, []).get(v.subject)!;
    list.push({ issuer: v.issuer, signedWith, operates: v.credential?.type.includes(AGENT_IDENTITY_TYPE) === true });
  }
  return out;
}

/**
 * The trust weight of each attester under the policy (explicit function
 * first, then the lists, then strangers), for scoring `self` (the agent and
 * its operators): an attester vouched for only by the agent or its operator
 * (by name or by key: a did:web listing their key is them) is the
 * operator's own word, as the operator's rating would be; a voucher whose
 * DID cannot be resolved to tell vouches for no one (fail closed). Only
 * attesters trusted by name, by a vouch or by `attesterWeight` are
 * `trusted`: what minAttesters counts (a stranger's weight moves the score,
 * never the count). Attesters trusted only because an operator issued them
 * an AgentIdentityCredential are that operator's agents: they form one
 * group per operator (`groupOf`), which counts and weighs as one attester,
 * so an operator cannot multiply its voice by running more agents.
 */
export async function weightPolicy(policy: ScorePolicy, now: number, self: SelfParties): Promise<ScoringWeights> {
  const named = new Set(policy.trustedAttesters ?? []);
  const trusted = new Set(named);
  const fleet = new Map<string, string>();
  const ambiguous = new Set<string>();
  const explicit = (did: string) => policy.attesterWeight?.(did);
  const vouched = await vouchedAttesters(policy);
  // Each distinct voucher and key looked up once (the resolver caches documents); one that cannot be looked up
  // is self. By the key the vouch was signed with first (signerLink): a party listing a did:web issuer's own
  // key is the party's doing, and leaves the agent without a score rather than void that issuer's vouches.
  // A vouch tied only by a key the voucher's document shares with a party ('shared') vouches for no one, as before.
  const voucherLinks = new Map<string, Promise<'self' | 'listed' | 'shared' | undefined>>();
  const voucherLink = (v: Vouch) => {
    const k = `${v.issuer}\n${v.signedWith ?? ''}`;
    let p = voucherLinks.get(k);
    if (p === undefined) voucherLinks.set(k, (p = signerLink(policy.resolver, self, v.issuer, v.signedWith).catch(() => 'self' as const)));
    return p;
  };
  for (const [subject, by] of vouched) {
    const valid: Vouch[] = [];
    let listed = false;
    for (const v of by) {
      const link = await voucherLink(v);
      if (link === undefined) valid.push(v);
      else if (link === 'listed') listed = true;
    }
    // Vouched for only by an issuer whose key the agent's or operator's document lists: the operator's own
    // word, or an honest issuer's the operator would silence by listing its key; which cannot be told
    // (parties.ts partyLink), so a rating from it leaves the agent without a score (scoreRatings).
    if (valid.length === 0 && listed && !named.has(subject) && explicit(subject) === undefined) ambiguous.add(subject);
    if (valid.length === 0) continue;
    trusted.add(subject);
    // Independent only by a vouch from someone who is not its operator: an operator's second credential type
    // for its own agent (a MemberCredential beside the AgentIdentityCredential) keeps it in the fleet.
    const operators = new Set(valid.filter((v) => v.operates).map((v) => partyKey(v.issuer)));
    if (named.has(subject) || valid.some((v) => !v.operates && !operators.has(partyKey(v.issuer)))) continue;
    // Only its operators vouch for it: one of that operator's agents (the first operator by party, for a fixed choice).
    fleet.set(subject, `operator ${valid.map((v) => partyKey(v.issuer)).sort()[0]!}`);
  }
  return {
    ...(ambiguous.size > 0 ? { ambiguous } : {}),
    now,
    ...(policy.halfLifeSeconds !== undefined ? { halfLifeSeconds: policy.halfLifeSeconds } : {}),
    attesterWeight: (did: string) => explicit(did) ?? (trusted.has(did) ? 1 : (policy.unknownAttesterWeight ?? 0)),
    trusted: (did: string) => (explicit(did) ?? (trusted.has(did) ? 1 : 0)) > 0,
    ...(fleet.size > 0 ? { groupOf: (did: string) => (explicit(did) === undefined ? fleet.get(did) : undefined) } : {}),
  };
}

/**
 * Per attester, why its ratings signed with `key` (the first key seen of it; undefined: not noted) do
 * not count, or null; `more` the same for any other key it signed with. Most attesters sign with one
 * key: a rating's answer is then one lookup and one comparison (refusalOf).
 */
interface Refusal {
  key: string | undefined;
  why: Ignored | null;
  more?: Map<string | undefined, Ignored | null>;
}
type Refusals = Map<string, Refusal>;

/** Why `r` does not count (refusedAttesters), or null/undefined when it does. */
function refusalOf(refused: Refusals, r: ScoredRating): Ignored | null | undefined {
  const e = refused.get(r.attester);
  return e === undefined ? undefined : e.key === r.signedWith ? e.why : e.more?.get(r.signedWith);
}

/**
 * Per distinct attester, and key its ratings were signed with, that could
 * move the score (a positive weight): why those ratings do not count, or
 * null: the agent or an operator under another name (its own DID, a key of
 * theirs it signed with, or a did:web listing one of their keys;
 * SELF_ATTESTATION), or a DID that cannot be resolved to tell (fail closed).
 * `listed`: the attesters tied to them only by a key the agent's or an
 * operator's own document lists (parties.ts signerLink): the key the rating
 * was signed with, or, for a rating stored before that key was noted, the
 * key a did:key or did:jwk attester is. That may be them rating under
 * another name, or them listing a critic's public key to have its ratings
 * dropped, and which cannot be told. AGAINST: ratings signed with a known
 * key that is not theirs by an attester whose own document shares another
 * key with theirs (signerLink 'shared'): counted only where they lower the
 * score (scoreRatings). Each looked up once per scoring,
 * through the resolver's cache; a did:key or did:jwk needs no lookup, and an
 * attester weighing 0 moves nothing, so it is not looked up.
 */
async function refusedAttesters(
  ratings: readonly ScoredRating[],
  self: SelfParties,
  policy: ScorePolicy,
  weights: WeightPolicy,
): Promise<{ refused: Refusals; listed: Set<string> }> {
  const out: Refusals = new Map();
  const listed = new Set<string>();
  const look: Promise<void>[] = [];
  const weighs = new Map<string, boolean>();
  for (const r of ratings) {
    const did = r.attester;
    const key = r.signedWith;
    const e = out.get(did);
    if (e !== undefined && (e.key === key || e.more?.has(key) === true)) continue;
    let w = weighs.get(did);
    if (w === undefined) weighs.set(did, (w = weights.attesterWeight(did) > 0));
    // One that weighs nothing moves nothing whoever it is: dropped as before when its key is theirs.
    const first: Ignored | null = !w && isParty(self, did) ? SELF : null;
    let set: (why: Ignored | null) => void;
    if (e === undefined) {
      const entry: Refusal = { key, why: first };
      out.set(did, entry);
      set = (why) => void (entry.why = why);
    } else {
      const more = (e.more ??= new Map());
      more.set(key, first);
      set = (why) => void more.set(key, why);
    }
    if (!w) continue;
    look.push(
      signerLink(policy.resolver, self, did, key).then(
        (link) => void (link === 'self' ? set(SELF) : link === 'shared' ? set(AGAINST) : link === 'listed' && listed.add(did)),
        () => set({ id: '', code: 'DID_RESOLUTION_FAILED', message: "the attester's DID cannot be resolved to tell it from the agent and its operator" }),
      ),
    );
  }
  await Promise.all(look);
  return { refused: out, listed };
}

/**
 * Attesters that are one party by a signing key: two DIDs whose ratings
 * were signed by one key (a did:web and the did:key of the key it signed
 * with, or two did:web signing with one key). Each such set is one group
 * ("party <first DID>"), so a key holder counts once toward minAttesters,
 * whatever names it rates under (a did:key and a did:jwk of one key need no
 * lookup: aggregate's partyKey). What a document lists without signing with
 * it ties no one: a trusted attester listing others' keys does not merge
 * them into its own voice. A rating stored before its key was noted falls
 * back on its attester's document: every signing key it lists (a document
 * that cannot be resolved shares nothing here: its attester is dropped by
 * refusedAttesters anyway).
 */
async function sharedKeyGroups(resolver: CharterResolver, attesters: readonly string[], ratings: readonly ScoredRating[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (attesters.every((d) => pureKeyOf(d) !== undefined)) return out;
  const keysOf = new Map<string, Set<string>>(attesters.map((d) => [d, new Set<string>()]));
  const unnoted = new Set<string>();
  for (const r of ratings) {
    const keys = keysOf.get(r.attester);
    if (keys === undefined) continue;
    if (r.signedWith === undefined) unnoted.add(r.attester);
    else keys.add(r.signedWith);
  }
  await Promise.all(
    [...unnoted].map(async (d) => {
      const keys = keysOf.get(d)!;
      for (const k of await signingKeysOf(resolver, d).catch(() => new Set<string>())) keys.add(k);
    }),
  );
  const root = new Map<string, string>(attesters.map((d) => [d, d]));
  const find = (d: string): string => {
    let r = d;
    while (root.get(r) !== r) r = root.get(r)!;
    return r;
  };
  const holder = new Map<string, string>();
  for (const d of [...attesters].sort(str)) {
    for (const k of keysOf.get(d)!) {
      const other = holder.get(k);
      if (other === undefined) {
        holder.set(k, d);
        continue;
      }
      const [a, b] = [find(other), find(d)];
      if (a !== b) root.set(a < b ? b : a, a < b ? a : b);
    }
  }
  const size = new Map<string, number>();
  for (const d of attesters) size.set(find(d), (size.get(find(d)) ?? 0) + 1);
  for (const d of attesters) if (size.get(find(d))! > 1) out.set(d, `party ${find(d)}`);
  return out;
}

/**
 * One group per set of attesters linked by a shared key or by one operator's fleet, whichever links them: a key
 * group must not take a fleet's agents out of their fleet (an operator pairing its did:web agents by a key
 * listed in both documents would otherwise rate with one voice per pair). Named by the smallest label in it.
 */
function joinedGroups(attesters: readonly string[], parties: Map<string, string>, fleet: ((d: string) => string | undefined) | undefined): (d: string) => string | undefined {
  const root = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (root.has(r) && root.get(r) !== r) r = root.get(r)!;
    return r;
  };
  const union = (a: string, b: string) => {
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) root.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  };
  const labels = new Map<string, string[]>();
  for (const d of attesters) {
    const own = [parties.get(d), fleet?.(d)].filter((l): l is string => l !== undefined).map((l) => `\u0001${l}`);
    labels.set(d, own);
    for (const l of own) {
      if (!root.has(l)) root.set(l, l);
      if (!root.has(d)) root.set(d, d);
      union(d, l);
    }
  }
  const named = new Map<string, string>();
  for (const [d, own] of labels) if (own.length > 0) named.set(d, find(d).slice(1));
  return (d) => (labels.has(d) ? named.get(d) : fleet?.(d));
}

const SELF: Ignored = { id: '', code: 'SELF_ATTESTATION', message: 'the agent and its operator cannot rate the agent' };
/**
 * Tied to the parties only by a key the attester's document shares with theirs, not the key it signed with:
 * the attester's own listing (a stranger claiming the agent's key) or the party's (an operator listing a
 * critic's other key) cannot be told apart, so the rating may lower the agent's score, never raise it or
 * add an attester, and never take the score away.
 */
const AGAINST: Ignored = {
  id: '',
  code: 'SELF_ATTESTATION',
  message:
    "the attester's DID document shares a key (not the one it signed with) with the agent's or its operator's: counted only against the agent, and it would not lower the score",
};

/**
 * The score of ratings that are already verified (by import, or just now by
 * scoreAgent): drops the ones rated by the agent or its operator, the ones not
 * valid at `now`, and all but one rating per receipt; then aggregates, overall
 * and per dimension. `ignored` comes in with what was refused before.
 */
export async function scoreRatings(
  agent: string,
  ratings: readonly ScoredRating[],
  ignored: Ignored[],
  count: number,
  opts: {
    policy: ScorePolicy;
    weights: ScoringWeights;
    /** The agent and its operators (selfParties). */
    self: SelfParties;
    detail: boolean;
    /** The ratings are in byTime order and no two share a receipt (a prepared store listing, or a subset of one). */
    inOrderDistinct?: boolean;
  },
): Promise<ReputationScore> {
  const now = opts.weights.now;
  const skew = skewMs(opts.policy.skewSeconds);
  // Per attester, not per rating: most attesters rate many times.
  const { refused, listed } = await refusedAttesters(ratings, opts.self, opts.policy, opts.weights);
  for (const r of ratings) {
    if (!opts.weights.ambiguous?.has(r.attester)) continue;
    const why = refusalOf(refused, r);
    if (!why || why === AGAINST) listed.add(r.attester);
  }
  if (listed.size > 0) {
    // Neither counting nor dropping them is safe (refusedAttesters): no rating counts, and the agent has no
    // score. Only the agent's or an operator's own document can cause this.
    for (const r of ratings) {
      ignored.push({
        id: r.id,
        code: 'SELF_ATTESTATION',
        message: listed.has(r.attester)
          ? "the agent's or its operator's DID document lists the key of this attester (or of the only issuer vouching for it): its ratings cannot be told from theirs, so no rating of the agent counts"
          : "the agent's or its operator's DID document lists the key of another attester of it: which ratings are theirs cannot be told, so none counts",
      });
    }
    ignored.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { score: null, count, counted: 0, attesters: 0, ignored, byDimension: {}, attestations: [] };
  }
  const live: ScoredRating[] = [];
  // Ratings counted only against the agent (AGAINST), the objects themselves (two attesters may give one id):
  // most scorings have none.
  let against: Set<ScoredRating> | undefined;
  for (const r of ratings) {
    const why = refusalOf(refused, r);
    if (why && why !== AGAINST) ignored.push({ ...why, id: r.id });
    else if (r.validUntil !== undefined && r.validUntil <= now - skew)
      ignored.push({ id: r.id, code: 'CREDENTIAL_EXPIRED', message: 'the attestation (or the receipt it rests on) is no longer valid' });
    else if (r.issuedAt > now + skew) ignored.push({ id: r.id, code: 'CREDENTIAL_NOT_YET_VALID', message: 'the attestation is not valid yet' });
    else {
      if (why === AGAINST) (against ??= new Set()).add(r);
      live.push(r);
    }
  }
  const { kept: all, reused } = opts.inOrderDistinct === true ? { kept: live, reused: [] } : oneRatingPerReceipt(live);
  for (const id of reused) ignored.push({ id, code: 'RECEIPT_REUSED', message: 'another attestation already used this receipt' });
  const isTrusted = opts.weights.trusted ?? ((d: string) => opts.weights.attesterWeight(d) > 0);
  const kept = against === undefined ? all : all.filter((r) => !against.has(r));
  const plain = await scoreOf(kept, isTrusted, opts);
  let result = plain;
  if (against !== undefined) {
    const withThem = await scoreOf(all, isTrusted, opts);
    // Only where they lower it, overall and per dimension; never where there is no score without them,
    // and never toward minAttesters (the attesters are those of the score without them).
    const lower = (a: number | null, b: number | null) => a !== null && b !== null && b < a;
    const overall = lower(plain.score, withThem.score);
    const byDimension: ReputationScore['byDimension'] = {};
    for (const d of Object.keys(plain.byDimension)) {
      const [p, w] = [plain.byDimension[d]!, withThem.byDimension[d]];
      byDimension[d] = w !== undefined && lower(p.score, w.score) ? w : p;
    }
    // Each named once: as having lowered the score (overall, or in its dimension), or as ignored. Only those
    // kept (one rating per receipt): a reused receipt is already ignored as RECEIPT_REUSED.
    const lowered: string[] = [];
    for (const r of all) {
      if (!against.has(r)) continue;
      const dim = r.dimension === undefined ? undefined : byDimension[r.dimension];
      if (overall || (dim !== undefined && dim === withThem.byDimension[r.dimension!])) lowered.push(r.id);
      else ignored.push({ ...AGAINST, id: r.id });
    }
    result = {
      score: overall ? withThem.score : plain.score,
      counted: overall ? withThem.counted : plain.counted,
      attesters: plain.attesters,
      byDimension,
      attestations: overall ? withThem.attestations : plain.attestations,
      ...(lowered.length > 0 ? { countedAgainst: lowered.sort(str) } : {}),
    };
  }
  ignored.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    score: result.score,
    count,
    counted: result.counted,
    attesters: result.attesters,
    ignored,
    byDimension: result.byDimension,
    attestations: result.attestations,
    ...(result.countedAgainst ? { countedAgainst: result.countedAgainst } : {}),
  };
}

type Scored = Pick<ReputationScore, 'score' | 'counted' | 'attesters' | 'byDimension' | 'attestations' | 'countedAgainst'>;

/** The score of `kept` (in byTime order, one rating per receipt), overall and, with detail, per dimension. */
async function scoreOf(kept: readonly ScoredRating[], isTrusted: (d: string) => boolean, opts: { policy: ScorePolicy; weights: ScoringWeights; detail: boolean }): Promise<Scored> {
  // One key, one attester: trusted names whose ratings one key signed pool as one (sharedKeyGroups), before
  // any group of operators. Only trusted names: a party weighs what its most trusted name does, so a stranger
  // tied to a trusted attester (by a document listing its key, for a rating whose key was not noted) would
  // rate with that attester's weight. Strangers pool into one voice anyway.
  const weighing = [...new Set(kept.map((r) => r.attester))].filter((d) => isTrusted(d));
  const parties = await sharedKeyGroups(opts.policy.resolver, weighing, kept);
  const fleet = opts.weights.groupOf;
  const weights: WeightPolicy = parties.size === 0 ? opts.weights : { ...opts.weights, groupOf: joinedGroups(weighing, parties, fleet) };
  // oneRatingPerReceipt returns its ratings in order.
  const all = aggregate(kept, weights, { detail: opts.detail, inOrder: true });
  const byDimension: ReputationScore['byDimension'] = {};
  if (opts.detail) {
    const groups = new Map<string, ScoredRating[]>();
    for (const r of kept) if (r.dimension) (groups.get(r.dimension) ?? groups.set(r.dimension, []).get(r.dimension)!).push(r);
    for (const d of [...groups.keys()].sort()) {
      const sub = groups.get(d)!;
      byDimension[d] = { score: aggregate(sub, weights, { detail: false, inOrder: true }).score, counted: sub.length };
    }
  }
  return { score: all.score, counted: kept.length, attesters: all.attesters, byDimension, attestations: all.counted };
}
