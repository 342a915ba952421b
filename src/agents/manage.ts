import { CharterError } from '../errors.js';
import { decodeCredential, soleSubject } from '../credentials/index.js';
import { getBit, setStatus, statusChange, type IssuerFor, type StatusChange } from '../status/index.js';
import type { CredentialStore, StatusStore } from '../store/types.js';
import { MAX_DELEGATION_DEPTH, readAuthority } from './authority.js';
import { AGENT_AUTHORITY_TYPE, AGENT_IDENTITY_TYPE, type Authority } from './types.js';

export type MandateState = 'active' | 'revoked' | 'expired';

export interface MandateSummary {
  id: string;
  issuer: string;
  agent: string;
  authority?: Authority;
  parentId?: string;
  expires?: string;
  /** Its own state, or the state of the nearest revoked or expired mandate above it (`inheritedFrom`): a link stops working with its chain. */
  state: MandateState;
  /** The ancestor whose revocation or expiry this mandate's state is, when it is not its own. */
  inheritedFrom?: string;
}

/** The credential's revocation bit: its issuer's entry only (another issuer's credential may have used the id). */
async function revocationOf(store: StatusStore, id: string, issuer: string): Promise<{ listId: string; index: number; set: boolean } | undefined> {
  for (const a of await store.findStatusAllocation(id)) {
    const list = await store.getStatusList(a.listId);
    if (list?.purpose === 'revocation' && list.issuerDid === issuer) return { listId: a.listId, index: a.index, set: getBit(list.bits, a.index) };
  }
  return undefined;
}

/**
 * Whether this store's newest AgentIdentityCredential about `agent` still
 * stands: 'missing' when there is none, else revoked (its issuer's bit),
 * expired, or active. What decides whether the home presents the agent's key
 * as its automated traffic (the Web Bot Auth directory).
 */
export async function agentIdentityState(store: CredentialStore & StatusStore, agent: string, now = new Date()): Promise<{ state: MandateState | 'missing'; id?: string }> {
  const ids = await store.listCredentials({ type: AGENT_IDENTITY_TYPE, subject: agent });
  const r = ids[ids.length - 1];
  if (!r) return { state: 'missing' };
  if ((await revocationOf(store, r.id, r.issuer))?.set) return { state: 'revoked', id: r.id };
  if (r.validUntil !== undefined && Date.parse(r.validUntil) <= now.getTime()) return { state: 'expired', id: r.id };
  return { state: 'active', id: r.id };
}

/** Mandates issued from this store (root and delegated), with their state as the issuer knows it. */
export async function listMandates(
  store: CredentialStore & StatusStore,
  filter: { issuer?: string; agent?: string; parentId?: string } = {},
  now = new Date(),
): Promise<MandateSummary[]> {
  const recs = await store.listCredentials({
    direction: 'issued',
    type: AGENT_AUTHORITY_TYPE,
    ...(filter.issuer ? { issuer: filter.issuer } : {}),
    ...(filter.agent ? { subject: filter.agent } : {}),
    ...(filter.parentId ? { parentId: filter.parentId } : {}),
  });
  const out: MandateSummary[] = [];
  const known = new Map<string, MandateState>();
  const stateOf = async (r: { id: string; issuer: string; validUntil?: string }): Promise<MandateState> => {
    let st = known.get(r.id);
    if (st === undefined) {
      const expired = r.validUntil !== undefined && Date.parse(r.validUntil) <= now.getTime();
      st = (await revocationOf(store, r.id, r.issuer))?.set ? 'revoked' : expired ? 'expired' : 'active';
      known.set(r.id, st);
    }
    return st;
  };
  for (const r of recs) {
    const { authority } = readAuthority(soleSubject(decodeCredential(r.jwt))?.authority);
    let state = await stateOf(r);
    // A link below a revoked or expired mandate stops working with it (verifiers check every link): it shows
    // its nearest such ancestor's state, as far as this store holds the chain.
    let inheritedFrom: string | undefined;
    const seen = new Set([r.id]);
    for (let up = r.parentId; state === 'active' && up !== undefined && !seen.has(up) && seen.size <= MAX_DELEGATION_DEPTH + 1;) {
      seen.add(up);
      const parent = await store.getCredential(up);
      if (!parent || parent.direction !== 'issued' || !parent.types.includes(AGENT_AUTHORITY_TYPE)) break;
      const ps = await stateOf(parent);
      if (ps !== 'active') {
        state = ps;
        inheritedFrom = parent.id;
      }
      up = parent.parentId;
    }
    out.push({
      id: r.id,
      issuer: r.issuer,
      agent: r.subject ?? '',
      ...(authority ? { authority } : {}),
      ...(r.parentId ? { parentId: r.parentId } : {}),
      ...(r.validUntil ? { expires: r.validUntil } : {}),
      state,
      ...(inheritedFrom ? { inheritedFrom } : {}),
    });
  }
  return out;
}

/**
 * Revokes a mandate issued from this store: the issuer's key is unlocked,
 * the bit committed, then the list re-signed (setStatus), so a refused
 * caller changes nothing. Every link delegated below it is cut off too,
 * because a verifier checks the status of every link of a chain.
 */
export async function revokeMandate(store: CredentialStore & StatusStore, id: string, issuerFor: IssuerFor): Promise<StatusChange> {
  return revokeIssued(store, id, issuerFor, AGENT_AUTHORITY_TYPE, 'mandate');
}

/**
 * Revokes an agent identity credential issued from this store with a
 * revocation entry (`issueAgentIdentity({ baseUrl })`): its operator no
 * longer answers for the agent (a stolen agent key), and every verifier that
 * checks status refuses the agent's presentations with it. The mandates the
 * key holds stay valid until their principals revoke them (revokeMandate):
 * the key can still sign a delegation of one to another agent.
 */
export async function revokeAgentIdentity(store: CredentialStore & StatusStore, id: string, issuerFor: IssuerFor): Promise<StatusChange> {
  return revokeIssued(store, id, issuerFor, AGENT_IDENTITY_TYPE, 'agent identity credential');
}

async function revokeIssued(store: CredentialStore & StatusStore, id: string, issuerFor: IssuerFor, type: string, what: string): Promise<StatusChange> {
  const rec = await store.getCredential(id);
  if (!rec || rec.direction !== 'issued' || !rec.types.includes(type)) {
    throw new CharterError('NOT_FOUND', `no ${what} ${id.slice(0, 80)} issued from this home`);
  }
  const entry = await revocationOf(store, id, rec.issuer);
  if (!entry) throw new CharterError('NOT_FOUND', `${what} ${id.slice(0, 80)} has no revocation entry (issued without a status list)`);
  return statusChange(id, await setStatus(store, entry.listId, entry.index, true, issuerFor), entry.index, true);
}
