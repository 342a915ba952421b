import { identifierSet } from '../encoding/lists.js';
import { partyKey } from '../did/parties.js';
import { deepFreeze } from '../encoding/json.js';
import type { Reason } from '../errors.js';
import { soleSubject, statusEntriesOf, unreadMembers, unreadTermsOfUse, verifyCredential } from '../credentials/index.js';
import type { CredentialVerification, VerifyCredentialOptions } from '../credentials/types.js';
import { narrowingReasons } from './attenuation.js';
import { MAX_DELEGATION_DEPTH, mandateDigest, readAuthority } from './authority.js';
import { AGENT_AUTHORITY_TYPE, type AgentTrust, type Authority, type ChainLinkResult, type MandateLink } from './types.js';

const isDate = (v: unknown): v is string => typeof v === 'string' && v !== '' && Number.isFinite(Date.parse(v));

/**
 * What the chain rules derive from one mandate alone, per credential object.
 * verifyCredential hands out one deep-frozen credential object per compact
 * JWS from its parse cache, so a platform that sees the same chain on every
 * request reads each authority, hashes each parent and compares each pair
 * once. The objects kept here are frozen too, and the digest is kept with
 * the exact JWS it was computed over (a credential object decoded outside the
 * cache is new each time and never hits). Validity, status and the request
 * are still checked on every call.
 */
interface Derived {
  read: { authority?: Authority; reasons: Reason[] };
  digests: Map<string, string>;
  /** checkNarrowing against each child authority object, by the two validity windows. */
  narrowing: WeakMap<Authority, Map<string, readonly Reason[]>>;
}
const derivedByCredential = new WeakMap<object, Derived>();
const MANDATE_SUBJECT = new Set(['id', 'authority']);

function derivedOf(credential: NonNullable<CredentialVerification['credential']>): Derived {
  let d = derivedByCredential.get(credential);
  if (d === undefined) {
    const subject = soleSubject(credential);
    const read = readAuthority(subject?.authority);
    // The subject of a mandate is its agent and its authority: a `limits` or `notAfter` beside `authority` is unread.
    const extra = [unreadMembers('mandate subject', subject, MANDATE_SUBJECT), unreadTermsOfUse('mandate', credential)].filter((r) => r !== undefined);
    d = { read: deepFreeze(extra.length > 0 ? { reasons: [...read.reasons, ...extra] } : read), digests: new Map(), narrowing: new WeakMap() };
    // Only a frozen credential cannot change under its memo (the parse cache freezes what it keeps).
    if (Object.isFrozen(credential)) derivedByCredential.set(credential, d);
  }
  return d;
}

/** mandateDigest(jwt), once per credential object and exact JWS. */
function digestOf(v: CredentialVerification): string {
  if (!v.credential) return mandateDigest(v.jwt);
  const memo = derivedOf(v.credential).digests;
  let digest = memo.get(v.jwt);
  if (digest === undefined) {
    digest = mandateDigest(v.jwt);
    // One JWS per cached credential object; a second spelling would be a different object, so one entry is the usual size.
    if (memo.size < 4) memo.set(v.jwt, digest);
  }
  return digest;
}

type Window = { validFrom?: string; validUntil?: string };
function narrowingOf(parentCredential: CredentialVerification['credential'], parent: Authority, child: Authority, pw: Window, cw: Window): readonly Reason[] {
  const compute = () => Object.freeze(narrowingReasons(parent, child, pw, cw).map((r) => Object.freeze({ code: r.code, message: r.message })));
  const memo = parentCredential ? derivedOf(parentCredential) : undefined;
  // Memoised only for the authority objects this module keeps (frozen, shared by every call).
  if (memo === undefined || memo.read.authority !== parent || !Object.isFrozen(child)) return compute();
  let byWindow = memo.narrowing.get(child);
  if (byWindow === undefined) memo.narrowing.set(child, (byWindow = new Map()));
  const key = `${pw.validFrom ?? ''} ${pw.validUntil ?? ''} ${cw.validFrom ?? ''} ${cw.validUntil ?? ''}`;
  let out = byWindow.get(key);
  if (out === undefined) {
    out = compute();
    if (byWindow.size < 8) byWindow.set(key, out);
  }
  return out;
}

export interface ChainCheckOptions {
  trust: AgentTrust;
  /** The agent acting: the leaf mandate must be about it. */
  agent?: string;
}

export interface ChainCheck {
  /** Root first. `checks` include each link's own verification reasons. */
  links: ChainLinkResult[];
  /** The links whose authority could be read, in order (for request and ledger checks). */
  mandates: MandateLink[];
  /** Refusals found here (linkage, narrowing, depth, trust), not the links' own verification reasons. */
  reasons: Reason[];
  principal?: string;
  principalTrust?: 'listed' | 'any';
}

/**
 * A trust list must be an array of DIDs: a string (or anything else with an
 * `includes`) would match substrings, so "did:web:acme.com.au" would let
 * did:web:acme.com in.
 */
export function checkTrustLists(who: string, t: { principals?: unknown; identityIssuers?: unknown }): void {
  for (const k of ['principals', 'identityIssuers'] as const) identifierSet(`${who}: trust.${k}`, t[k]);
}

/**
 * The chain rules over links already verified one by one (signature,
 * validity, status): root first, each link issued by its parent's subject
 * and naming the parent's id and digest (DELEGATION_BROKEN), never widening
 * (AUTHORITY_WIDENED), within depth (DELEGATION_DEPTH_EXCEEDED), rooted in a
 * trusted principal (UNTRUSTED_PRINCIPAL). Every link must be revocable and
 * expire, since revoking a link must cut off everything below it.
 */
export function checkChainLinks(verified: readonly CredentialVerification[], options: ChainCheckOptions): ChainCheck {
  if (!options || typeof options.trust !== 'object' || options.trust === null) throw new TypeError('chain verification needs options.trust');
  checkTrustLists('chain verification', options.trust);
  const reasons: Reason[] = [];
  const links: ChainLinkResult[] = [];
  const mandates: MandateLink[] = [];
  const add = (i: number, r: Reason) => {
    const ref = links[i]?.id ?? `mandate ${i}`;
    reasons.push({ ...r, ref });
    links[i]?.checks.push({ ...r, ref });
  };

  if (verified.length === 0) {
    return { links, mandates, reasons: [{ code: 'DELEGATION_BROKEN', message: 'no mandate (AgentAuthorityCredential) was presented' }] };
  }
  verified.forEach((v, i) => {
    const c = v.credential;
    const id = v.id ?? `mandate ${i}`;
    links.push({
      id,
      issuer: v.issuer ?? '',
      subject: v.subject ?? '',
      // Only a date that parses: a malformed one is already the link's INVALID_CREDENTIAL (normalize.ts),
      // and must not reach the window comparison below as a string it cannot read.
      ...(isDate(c?.validFrom) ? { validFrom: c!.validFrom } : {}),
      ...(isDate(c?.validUntil) ? { validUntil: c!.validUntil } : {}),
      checks: v.reasons.map((r) => ({ ...r, ref: id })),
    });
    if (!c || v.issuer === undefined) return; // unreadable: its own reasons say why
    if (!c.type.includes(AGENT_AUTHORITY_TYPE)) add(i, { code: 'INVALID_CREDENTIAL', message: 'a delegation chain holds only AgentAuthorityCredentials' });
    if (v.id === undefined || v.subject === undefined) add(i, { code: 'INVALID_CREDENTIAL', message: 'a mandate needs an id and a subject' });
    if (c.validUntil === undefined) add(i, { code: 'INVALID_CREDENTIAL', message: 'a mandate must expire (validUntil)' });
    if (!statusEntriesOf(c).some((e) => e.statusPurpose === 'revocation'))
      add(i, { code: 'STATUS_INVALID', message: 'a mandate without a revocation status entry cannot be revoked, so it is refused' });
    const read = derivedOf(c).read;
    for (const r of read.reasons) add(i, r);
    if (read.authority) {
      links[i]!.authority = read.authority;
      mandates.push({ id, jwt: v.jwt, issuer: v.issuer, subject: v.subject ?? '', credential: c, authority: read.authority });
    }
  });

  if (new Set(links.map((l) => l.id)).size !== links.length) {
    reasons.push({ code: 'DELEGATION_BROKEN', message: 'the chain names one mandate twice' });
  }
  if (verified.length - 1 > MAX_DELEGATION_DEPTH) {
    reasons.push({ code: 'DELEGATION_DEPTH_EXCEEDED', message: `a chain has at most ${MAX_DELEGATION_DEPTH} delegations` });
  }

  // Root: issued by the principal, naming no parent.
  const root = links[0]!;
  if (root.authority?.parent) add(0, { code: 'DELEGATION_BROKEN', message: 'the first mandate is delegated from one not presented; present the chain from its root' });
  let principalTrust: ChainCheck['principalTrust'];
  if (root.issuer) {
    if (options.trust.principals?.includes(root.issuer)) principalTrust = 'listed';
    else if (options.trust.anyPrincipal === true) principalTrust = 'any';
    else add(0, { code: 'UNTRUSTED_PRINCIPAL', message: `the chain is rooted in ${root.issuer.slice(0, 100)}, not a principal this verifier trusts` });
  }

  // A party appears once: no link may hand authority back to the principal or to an agent above it (a cycle).
  // By key for a did:key or did:jwk (partyKey): one key under its two DIDs is one party.
  const parties = new Set<string>(root.issuer ? [partyKey(root.issuer)] : []);
  links.forEach((l, i) => {
    if (!l.subject) return;
    if (parties.has(partyKey(l.subject))) add(i, { code: 'DELEGATION_CYCLE', message: `the mandate hands authority back to ${l.subject.slice(0, 100)}, already in the chain` });
    parties.add(partyKey(l.subject));
  });

  for (let i = 1; i < links.length; i++) {
    const parent = links[i - 1]!;
    const child = links[i]!;
    const ref = child.authority?.parent;
    if (child.authority && !ref) add(i, { code: 'DELEGATION_BROKEN', message: 'a delegated mandate must name its parent (authority.parent)' });
    if (ref && ref.id !== parent.id) add(i, { code: 'DELEGATION_BROKEN', message: 'the mandate names another parent than the one before it in the chain' });
    if (ref && ref.digest !== digestOf(verified[i - 1]!)) add(i, { code: 'DELEGATION_BROKEN', message: "the parent's digest does not match the parent presented" });
    if (child.issuer !== parent.subject) add(i, { code: 'DELEGATION_BROKEN', message: "the mandate is not issued by its parent's subject" });
    if (parent.authority && child.authority) {
      const window = (l: ChainLinkResult) => ({ ...(l.validFrom ? { validFrom: l.validFrom } : {}), ...(l.validUntil ? { validUntil: l.validUntil } : {}) });
      for (const r of narrowingOf(verified[i - 1]!.credential, parent.authority, child.authority, window(parent), window(child))) add(i, { code: r.code, message: r.message });
    }
  }

  const leaf = links[links.length - 1]!;
  if (options.agent !== undefined && leaf.subject !== options.agent) {
    add(links.length - 1, { code: 'HOLDER_MISMATCH', message: 'the last mandate of the chain is not about the agent presenting it' });
  }
  return { links, mandates, reasons, ...(root.issuer ? { principal: root.issuer } : {}), ...(principalTrust ? { principalTrust } : {}) };
}

export interface VerifyChainOptions extends Omit<VerifyCredentialOptions, 'requireType'>, ChainCheckOptions {}

export interface ChainVerification extends ChainCheck {
  ok: boolean;
}

/**
 * Verifies a delegation chain given as mandate JWTs, root first: each link
 * with verifyCredential (signature, validity, status through `status`), then
 * the chain rules (checkChainLinks). `reasons` holds every refusal.
 */
export async function verifyChain(chain: readonly string[], options: VerifyChainOptions): Promise<ChainVerification> {
  const { trust, agent, ...credentialOptions } = options;
  const verified = await Promise.all(chain.map((jwt) => verifyCredential(jwt, credentialOptions)));
  const check = checkChainLinks(verified, { trust, ...(agent !== undefined ? { agent } : {}) });
  const own = verified.flatMap((v, i) => v.reasons.map((r) => ({ ...r, ref: check.links[i]?.id ?? `mandate ${i}` })));
  const reasons = [...own, ...check.reasons];
  return { ...check, reasons, ok: reasons.length === 0 };
}
