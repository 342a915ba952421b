import type { Home } from '../home/home.js';
import { signDirectory, type DirectoryResponse } from '../httpsig/index.js';
import { agentIdentityState } from '../agents/index.js';

/** Lifetime of the directory's signatures: signed per request, so short (the draft's "Directory Response Signature Lifetimes"). */
export const DIRECTORY_EXPIRES_SECONDS = 300;
/** Cache-Control max-age: well inside the signatures' lifetime, so a cached copy is never served expired. */
export const DIRECTORY_CACHE_SECONDS = 60;
/** Charter's verifier reads at most 16 keys from one directory (the draft, "Key count"). */
const MAX_KEYS = 16;

/** The directory `charter serve` answers with; `omitted` names the agents left out (over the cap), oldest kept. */
export type AgentDirectory = DirectoryResponse & { omitted: string[] };

/**
 * The signed key directory (`/.well-known/http-message-signatures-directory`)
 * of this home's agents: the identities created as agents (`charter agent
 * create`, `meta.role` "agent") whose key RFC 9421 can sign with (Ed25519,
 * P-256). A person's or an operator's key is never published here: the
 * directory says "requests signed by these keys are this origin's automated
 * traffic", so an agent whose newest identity credential in the home is
 * revoked or expired is left out. The authority signed (`"@authority";req`) is the home's public
 * URL's, never the Host header; `fallbackOrigin` (where the server listens)
 * when no public URL is set. Undefined when the home has no such agent.
 * A verifier reads at most 16 keys (the draft's "Key count"), so with more
 * agents the 16 created first are published (oldest first, then by alias:
 * the same on every request, and a new agent never pushes out one already in
 * use) and the rest are named in `omitted`; never an error for all of them.
 */
export async function agentDirectory(home: Home, fallbackOrigin: string, now?: Date): Promise<AgentDirectory | undefined> {
  const candidates = (await home.store.listIdentities()).filter((r) => r.meta?.role === 'agent' && (r.keyType === 'Ed25519' || r.keyType === 'P-256'));
  // An agent its operator no longer answers for (its newest identity credential here revoked, e.g. for a
  // stolen key, or expired) is not this origin's traffic: its key is left out. An agent of the home with no
  // identity credential here is the home's own word (meta.role), as before.
  const at = now ?? new Date();
  const withdrawn = new Set(['revoked', 'expired']);
  const live = await Promise.all(candidates.map(async (r) => !withdrawn.has((await agentIdentityState(home.store, r.did, at)).state)));
  const agents = candidates
    .filter((_, i) => live[i])
    .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.alias < b.alias ? -1 : a.alias > b.alias ? 1 : 0));
  if (agents.length === 0) return undefined;
  const listed = agents.slice(0, MAX_KEYS);
  const keys = await Promise.all(listed.map(async (r) => ({ jwk: r.publicJwk, signer: (await home.issuer(r.alias)).signer })));
  const authority = new URL((await home.publicUrl()) ?? fallbackOrigin).host;
  const dir = await signDirectory({ keys, authority, expiresInSeconds: DIRECTORY_EXPIRES_SECONDS, cacheSeconds: DIRECTORY_CACHE_SECONDS, ...(now ? { now } : {}) });
  return { ...dir, omitted: agents.slice(MAX_KEYS).map((r) => r.alias) };
}

/**
 * Where a verifier finds this identity's request signing key: the home's
 * public URL (the origin `charter serve` publishes the agents' directory
 * at), when the identity is one of the home's agents and a public URL is
 * set; else undefined (then the verifier must hold the key itself).
 */
export async function signatureAgentOf(home: Home, aliasOrDid: string): Promise<string | undefined> {
  const rec = await home.identity(aliasOrDid);
  if (rec.meta?.role !== 'agent') return undefined;
  const url = await home.publicUrl();
  return url === undefined ? undefined : new URL(url).origin;
}
