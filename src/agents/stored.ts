import { CharterError } from '../errors.js';
import type { CredentialStore } from '../store/types.js';
import { AGENT_AUTHORITY_TYPE, AGENT_IDENTITY_TYPE } from './types.js';

/** Most links followed up a stored chain: deeper than any depth a mandate may allow, and a stop for a loop in the store. */
const MAX_STORED_LINKS = 32;

/**
 * The mandate chain an agent presents, root first, as this store holds it:
 * the mandate `mandateId` (default: the newest one about the agent) and
 * every parent above it, followed through `parentId`. NOT_FOUND when the
 * agent has no mandate here or a parent is missing.
 */
export async function chainFor(store: CredentialStore, agentDid: string, mandateId?: string): Promise<string[]> {
  let leaf;
  if (mandateId !== undefined) {
    leaf = await store.getCredential(mandateId);
    if (!leaf || !leaf.types.includes(AGENT_AUTHORITY_TYPE)) throw new CharterError('NOT_FOUND', `no mandate ${mandateId.slice(0, 80)} in this home`);
    if (leaf.subject !== agentDid) throw new CharterError('INVALID_ARGUMENT', `mandate ${mandateId.slice(0, 80)} is not about ${agentDid.slice(0, 80)}`);
  } else {
    const mandates = await store.listCredentials({ type: AGENT_AUTHORITY_TYPE, subject: agentDid });
    leaf = mandates[mandates.length - 1];
    if (!leaf) throw new CharterError('NOT_FOUND', `no mandate for ${agentDid.slice(0, 80)} in this home`);
  }
  const chain = [leaf.jwt];
  for (let parent = leaf.parentId; parent !== undefined;) {
    if (chain.length >= MAX_STORED_LINKS)
      throw new CharterError('DELEGATION_DEPTH_EXCEEDED', `the stored chain above ${leaf.id.slice(0, 80)} is longer than ${MAX_STORED_LINKS} links`);
    const rec = await store.getCredential(parent);
    if (!rec) throw new CharterError('NOT_FOUND', `the parent mandate ${parent.slice(0, 80)} is not in this home`);
    chain.unshift(rec.jwt);
    parent = rec.parentId;
  }
  return chain;
}

/** The newest AgentIdentityCredential about the agent in this store, if any. */
export async function identityFor(store: CredentialStore, agentDid: string): Promise<string | undefined> {
  const ids = await store.listCredentials({ type: AGENT_IDENTITY_TYPE, subject: agentDid });
  return ids[ids.length - 1]?.jwt;
}

/** The operator that answers for the agent, per the newest identity credential about it in this store. */
export async function operatorFor(store: CredentialStore, agentDid: string): Promise<string | undefined> {
  const ids = await store.listCredentials({ type: AGENT_IDENTITY_TYPE, subject: agentDid });
  return ids[ids.length - 1]?.issuer;
}
