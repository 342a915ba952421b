import { createHash } from 'node:crypto';
import { CharterError } from '../errors.js';
import { decodeCredential, decodeJwt, soleSubject } from '../credentials/index.js';
import { getBit, setStatus, type IssuerFor } from '../status/index.js';
import type { CredentialRecord, Store } from '../store/types.js';
import { GRANT_TYPE, SD_JWT_GRANT_VCT } from './issue.js';

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
}

async function bitsOf(store: Store, id: string): Promise<{ revocation?: { listId: string; index: number; set: boolean }; suspension?: { listId: string; index: number; set: boolean } }> {
  const out: Awaited<ReturnType<typeof bitsOf>> = {};
  for (const a of await store.findStatusAllocation(id)) {
    const list = await store.getStatusList(a.listId);
    if (list) out[list.purpose] = { listId: a.listId, index: a.index, set: getBit(list.bits, a.index) };
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
function sdJwtGrant(token: string): { resources?: string[]; actions?: string[]; purpose?: string } {
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
  const items = (v: unknown) => (Array.isArray(v) ? v.flatMap((x) => (isObj(x) && typeof x['...'] === 'string' ? [byDigest.get(x['...'])] : [x])).filter((x): x is string => typeof x === 'string') : []);
  return { resources: items(g.resources), actions: items(g.actions), ...(typeof g.purpose === 'string' ? { purpose: g.purpose } : {}) };
}

const formatOf = (r: CredentialRecord): GrantFormat | undefined => (r.types.includes(GRANT_TYPE) ? 'vc+jwt' : r.types.includes(SD_JWT_GRANT_VCT) ? 'dc+sd-jwt' : undefined);

/** Every grant issued from this store, in either format, with its state as the issuer knows it. */
export async function listGrants(store: Store, filter: { grantor?: string; grantee?: string } = {}, now = new Date()): Promise<GrantSummary[]> {
  const by = { direction: 'issued' as const, ...(filter.grantor ? { issuer: filter.grantor } : {}), ...(filter.grantee ? { subject: filter.grantee } : {}) };
  const recs = [...(await store.listCredentials({ ...by, type: GRANT_TYPE })), ...(await store.listCredentials({ ...by, type: SD_JWT_GRANT_VCT }))];
  const out: GrantSummary[] = [];
  for (const r of recs) {
    const format = formatOf(r)!;
    const g = format === 'vc+jwt' ? ((soleSubject(decodeCredential(r.jwt))?.grant ?? {}) as { resources?: string[]; actions?: string[]; purpose?: string }) : sdJwtGrant(r.jwt);
    const bits = await bitsOf(store, r.id);
    const expired = r.validUntil !== undefined && Date.parse(r.validUntil) <= now.getTime();
    const state: GrantState = bits.revocation?.set ? 'revoked' : expired ? 'expired' : bits.suspension?.set ? 'suspended' : 'active';
    out.push({ id: r.id, format, grantor: r.issuer, grantee: r.subject ?? '', resources: g.resources ?? [], actions: g.actions ?? [], purpose: g.purpose ?? '', ...(r.validUntil ? { expires: r.validUntil } : {}), state });
  }
  return out;
}

async function change(store: Store, id: string, purpose: 'revocation' | 'suspension', value: boolean, issuerFor: IssuerFor): Promise<void> {
  const rec = await store.getCredential(id);
  const format = rec && rec.direction === 'issued' ? formatOf(rec) : undefined;
  if (!format) throw new CharterError('NOT_FOUND', `no grant ${id.slice(0, 80)} issued from this home`);
  // Token Status List §7.1: a one-bit list says VALID or INVALID; SUSPENDED would need two bits.
  if (format === 'dc+sd-jwt' && purpose === 'suspension') throw new CharterError('INVALID_ARGUMENT', 'an SD-JWT grant can be revoked, not suspended (its Token Status List has one bit)');
  const bits = await bitsOf(store, id);
  const entry = bits[purpose];
  if (!entry) throw new CharterError('NOT_FOUND', `grant ${id.slice(0, 80)} has no ${purpose} entry`);
  if (purpose === 'suspension' && bits.revocation?.set) throw new CharterError('INVALID_ARGUMENT', 'that grant is revoked for good');
  await setStatus(store, entry.listId, entry.index, value, issuerFor);
}

/** Revokes for good: the bit is committed, then the list is re-signed. */
export const revokeGrant = (store: Store, id: string, issuerFor: IssuerFor) => change(store, id, 'revocation', true, issuerFor);
export const suspendGrant = (store: Store, id: string, issuerFor: IssuerFor) => change(store, id, 'suspension', true, issuerFor);
export const resumeGrant = (store: Store, id: string, issuerFor: IssuerFor) => change(store, id, 'suspension', false, issuerFor);

/** Revokes every live grant to one grantee; returns their ids. */
export async function revokeGrantsTo(store: Store, grantee: string, issuerFor: IssuerFor): Promise<string[]> {
  const ids: string[] = [];
  for (const g of await listGrants(store, { grantee })) {
    if (g.state === 'revoked') continue;
    await revokeGrant(store, g.id, issuerFor);
    ids.push(g.id);
  }
  return ids;
}

export { GRANT_TYPE };
