import { CharterError } from '../errors.js';
import { decodeCredential, soleSubject } from '../credentials/index.js';
import { getBit, setStatus, statusChange, type IssuerFor, type StatusChange } from '../status/index.js';
import type { CredentialStore, StatusStore } from '../store/types.js';

type GrantStore = CredentialStore & StatusStore;
import { GRANT_TYPE } from './issue.js';
import { readTerms, type GrantTerms } from './terms.js';

export type GrantState = 'active' | 'revoked' | 'suspended' | 'expired';

export interface GrantSummary {
  id: string;
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

async function bitsOf(store: StatusStore, id: string): Promise<{ revocation?: { listId: string; index: number; set: boolean }; suspension?: { listId: string; index: number; set: boolean } }> {
  const out: Awaited<ReturnType<typeof bitsOf>> = {};
  for (const a of await store.findStatusAllocation(id)) {
    const list = await store.getStatusList(a.listId);
    if (list) out[list.purpose] = { listId: a.listId, index: a.index, set: getBit(list.bits, a.index) };
  }
  return out;
}

/** Every grant issued from this store, with its state as the issuer knows it. */
export async function listGrants(store: GrantStore, filter: { grantor?: string; grantee?: string } = {}, now = new Date()): Promise<GrantSummary[]> {
  const recs = await store.listCredentials({ direction: 'issued', type: GRANT_TYPE, ...(filter.grantor ? { issuer: filter.grantor } : {}), ...(filter.grantee ? { subject: filter.grantee } : {}) });
  const out: GrantSummary[] = [];
  for (const r of recs) {
    const c = decodeCredential(r.jwt);
    const subject = soleSubject(c);
    const g = (subject?.grant ?? {}) as { resources?: string[]; actions?: string[]; purpose?: string; terms?: unknown };
    const terms = g.terms === undefined ? undefined : readTerms(g.terms).terms;
    const bits = await bitsOf(store, r.id);
    const expired = r.validUntil !== undefined && Date.parse(r.validUntil) <= now.getTime();
    const state: GrantState = bits.revocation?.set ? 'revoked' : expired ? 'expired' : bits.suspension?.set ? 'suspended' : 'active';
    out.push({
      id: r.id,
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
  if (!rec || rec.direction !== 'issued' || !rec.types.includes(GRANT_TYPE)) throw new CharterError('NOT_FOUND', `no grant ${id.slice(0, 80)} issued from this home`);
  if (soleSubject(decodeCredential(rec.jwt))?.pool !== undefined) {
    throw new CharterError('INVALID_ARGUMENT', "that is a pool's grant: its members revoke it together, by the pool's threshold (charter pool revoke)");
  }
  const bits = await bitsOf(store, id);
  const entry = bits[purpose];
  if (!entry) throw new CharterError('NOT_FOUND', `grant ${id.slice(0, 80)} has no ${purpose} entry`);
  if (purpose === 'suspension' && bits.revocation?.set) throw new CharterError('INVALID_ARGUMENT', 'that grant is revoked for good');
  return statusChange(id, await setStatus(store, entry.listId, entry.index, value, issuerFor), entry.index, value);
}

/** Revokes for good: the owner's key is unlocked, the bit committed, then the list re-signed. */
export const revokeGrant = (store: GrantStore, id: string, issuerFor: IssuerFor) => change(store, id, 'revocation', true, issuerFor);
export const suspendGrant = (store: GrantStore, id: string, issuerFor: IssuerFor) => change(store, id, 'suspension', true, issuerFor);
export const resumeGrant = (store: GrantStore, id: string, issuerFor: IssuerFor) => change(store, id, 'suspension', false, issuerFor);

/** Revokes every live grant to one grantee; one StatusChange per grant revoked. */
export async function revokeGrantsTo(store: GrantStore, grantee: string, issuerFor: IssuerFor): Promise<StatusChange[]> {
  const changes: StatusChange[] = [];
  for (const g of await listGrants(store, { grantee })) {
    if (g.state === 'revoked' || g.pool !== undefined) continue;
    changes.push(await revokeGrant(store, g.id, issuerFor));
  }
  return changes;
}

export { GRANT_TYPE };
