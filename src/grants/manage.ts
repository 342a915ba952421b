import { createHash } from 'node:crypto';
import { CharterError } from '../errors.js';
import { decodeCredential, decodeJwt, soleSubject } from '../credentials/index.js';
import { getBit, setStatus, statusChange, type IssuerFor, type StatusChange } from '../status/index.js';
import type { CredentialRecord, CredentialStore, StatusStore } from '../store/types.js';
import { partyKey, pureKeyOf } from '../did/parties.js';
import { GRANT_TYPE, SD_JWT_GRANT_VCT } from './issue.js';
import { readTerms, type GrantTerms } from './terms.js';

type GrantStore = CredentialStore & StatusStore;

export type GrantState = 'active' | 'revoked' | 'suspended' | 'expired';
/** How the grant was issued: a vc+jwt credential (revocation and suspension), or an SD-JWT VC (revocation only). */
export type GrantFormat = 'vc+jwt' | 'dc+sd-jwt';

export interface GrantSummary {
  id: string;
  format: GrantFormat;
  grantor: string;
  grantee: string;
  resources: string[];
  actions: string[];
  purpose: string;
  expires?: string;
  state: GrantState;
  /** The grant's terms of use, when it has any (`describeTerms` puts them in words). */
  terms?: GrantTerms;
  /** For a pool's grant: the pool DID. Such a grant is revoked by the pool's threshold (pools), never alone. */
  pool?: string;
}

/** The grant's status bits: its issuer's entries only (another issuer's credential may have used the id). */
async function bitsOf(
  store: StatusStore,
  id: string,
  issuer: string,
): Promise<{ revocation?: { listId: string; index: number; set: boolean }; suspension?: { listId: string; index: number; set: boolean } }> {
  const out: Awaited<ReturnType<typeof bitsOf>> = {};
  for (const a of await store.findStatusAllocation(id)) {
    const list = await store.getStatusList(a.listId);
    if (list && list.issuerDid === issuer) out[list.purpose] = { listId: a.listId, index: a.index, set: getBit(list.bits, a.index) };
  }
  return out;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The grant an issued SD-JWT grant carries, every disclosure applied: the
 * issuer reading its own record (never a verification). Grant resources and
 * actions are array-element disclosures (RFC 9901 §4.2.2, sha-256 as issued):
 * `{ "...": digest }` items resolve to the disclosed value.
 */
function sdJwtGrant(token: string): { resources?: string[]; actions?: string[]; purpose?: string; terms?: unknown } {
  const [jwt = '', ...disclosures] = token.split('~');
  const byDigest = new Map<string, unknown>();
  for (const d of disclosures) {
    if (d === '') continue;
    try {
      const arr = JSON.parse(Buffer.from(d, 'base64url').toString('utf8')) as unknown[];
      byDigest.set(createHash('sha256').update(d).digest('base64url'), arr[arr.length - 1]);
    } catch {
      // not a disclosure this record can read: the item stays hidden
    }
  }
  const g = decodeJwt(jwt).payload.grant;
  if (!isObj(g)) return {};
  const items = (v: unknown) =>
    Array.isArray(v) ? v.flatMap((x) => (isObj(x) && typeof x['...'] === 'string' ? [byDigest.get(x['...'])] : [x])).filter((x): x is string => typeof x === 'string') : [];
  return {
    resources: items(g.resources),
    actions: items(g.actions),
    ...(typeof g.purpose === 'string' ? { purpose: g.purpose } : {}),
    ...(g.terms !== undefined ? { terms: g.terms } : {}),
  };
}

const formatOf = (r: CredentialRecord): GrantFormat | undefined => (r.types.includes(GRANT_TYPE) ? 'vc+jwt' : r.types.includes(SD_JWT_GRANT_VCT) ? 'dc+sd-jwt' : undefined);

/**
 * Every grant issued from this store, in either format, with its state as the issuer knows it. A
 * grantee named by a did:key or did:jwk is one party with every other DID of its key (did/parties.ts):
 * a grant to the did:jwk of a did:key (in any of its spellings) is that grantee's too, and its holder
 * presents it as readily, so it is listed (and revoked by revokeGrantsTo) with the rest. Any other DID
 * is matched as written (a did:web listing the key is not looked up: no network here).
 */
export async function listGrants(store: GrantStore, filter: { grantor?: string; grantee?: string } = {}, now = new Date()): Promise<GrantSummary[]> {
  const party = filter.grantee !== undefined && pureKeyOf(filter.grantee) !== undefined ? partyKey(filter.grantee) : undefined;
  const by = {
    direction: 'issued' as const,
    ...(filter.grantor ? { issuer: filter.grantor } : {}),
    ...(filter.grantee && party === undefined ? { subject: filter.grantee } : {}),
  };
  const all = [...(await store.listCredentials({ ...by, type: GRANT_TYPE })), ...(await store.listCredentials({ ...by, type: SD_JWT_GRANT_VCT }))];
  const recs = party === undefined ? all : all.filter((r) => r.subject !== undefined && partyKey(r.subject) === party);
  const out: GrantSummary[] = [];
  for (const r of recs) {
    const format = formatOf(r)!;
    const subject = format === 'vc+jwt' ? soleSubject(decodeCredential(r.jwt)) : undefined;
    const g = format === 'vc+jwt' ? ((subject?.grant ?? {}) as { resources?: string[]; actions?: string[]; purpose?: string; terms?: unknown }) : sdJwtGrant(r.jwt);
    const terms = g.terms === undefined ? undefined : readTerms(g.terms).terms;
    const bits = await bitsOf(store, r.id, r.issuer);
    const expired = r.validUntil !== undefined && Date.parse(r.validUntil) <= now.getTime();
    const state: GrantState = bits.revocation?.set ? 'revoked' : expired ? 'expired' : bits.suspension?.set ? 'suspended' : 'active';
    out.push({
      id: r.id,
      format,
      grantor: r.issuer,
      grantee: r.subject ?? '',
      resources: g.resources ?? [],
      actions: g.actions ?? [],
      purpose: g.purpose ?? '',
      ...(r.validUntil ? { expires: r.validUntil } : {}),
      state,
      ...(terms ? { terms } : {}),
      ...(subject?.pool !== undefined ? { pool: r.issuer } : {}),
    });
  }
  return out;
}

/**
 * Changes one status bit of a grant issued from this store. Every check is a
 * read; setStatus then unlocks the owner's key before it commits the bit, so
 * a refused caller (wrong passphrase) leaves the grant as it was.
 */
async function change(store: GrantStore, id: string, purpose: 'revocation' | 'suspension', value: boolean, issuerFor: IssuerFor): Promise<StatusChange> {
  const rec = await store.getCredential(id);
  const format = rec && rec.direction === 'issued' ? formatOf(rec) : undefined;
  if (!format) throw new CharterError('NOT_FOUND', `no grant ${id.slice(0, 80)} issued from this home`);
  // Token Status List §7.1: a one-bit list says VALID or INVALID; SUSPENDED would need two bits.
  if (format === 'dc+sd-jwt' && purpose === 'suspension')
    throw new CharterError('INVALID_ARGUMENT', 'an SD-JWT grant can be revoked, not suspended (its Token Status List has one bit)');
  if (format === 'vc+jwt' && soleSubject(decodeCredential(rec!.jwt))?.pool !== undefined) {
    throw new CharterError('INVALID_ARGUMENT', "that is a pool's grant: its members revoke it together, by the pool's threshold (charter pool revoke)");
  }
  const bits = await bitsOf(store, id, rec!.issuer);
  const entry = bits[purpose];
  if (!entry) throw new CharterError('NOT_FOUND', `grant ${id.slice(0, 80)} has no ${purpose} entry`);
  if (purpose === 'suspension' && bits.revocation?.set) throw new CharterError('INVALID_ARGUMENT', 'that grant is revoked for good');
  return statusChange(id, await setStatus(store, entry.listId, entry.index, value, issuerFor), entry.index, value);
}

/** Revokes for good: the owner's key is unlocked, the bit committed, then the list re-signed. */
export const revokeGrant = (store: GrantStore, id: string, issuerFor: IssuerFor) => change(store, id, 'revocation', true, issuerFor);
export const suspendGrant = (store: GrantStore, id: string, issuerFor: IssuerFor) => change(store, id, 'suspension', true, issuerFor);
export const resumeGrant = (store: GrantStore, id: string, issuerFor: IssuerFor) => change(store, id, 'suspension', false, issuerFor);

/**
 * Revokes every live grant to one grantee (a did:key or did:jwk: to every DID of its key, as listGrants
 * lists them); one StatusChange per grant revoked.
 */
export async function revokeGrantsTo(store: GrantStore, grantee: string, issuerFor: IssuerFor): Promise<StatusChange[]> {
  const changes: StatusChange[] = [];
  for (const g of await listGrants(store, { grantee })) {
    if (g.state === 'revoked' || g.pool !== undefined) continue;
    changes.push(await revokeGrant(store, g.id, issuerFor));
  }
  return changes;
}

export { GRANT_TYPE };
