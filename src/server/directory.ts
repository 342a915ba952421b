import { CharterError } from '../errors.js';
import type { Home } from '../home/home.js';
import { signDirectory, type DirectoryResponse } from '../httpsig/index.js';

/** Lifetime of the directory's signatures: signed per request, so short (the draft's "Directory Response Signature Lifetimes"). */
export const DIRECTORY_EXPIRES_SECONDS = 300;
/** Cache-Control max-age: well inside the signatures' lifetime, so a cached copy is never served expired. */
export const DIRECTORY_CACHE_SECONDS = 60;
/** Charter's verifier reads at most 16 keys from one directory (the draft, "Key count"). */
const MAX_KEYS = 16;

/**
 * The signed key directory (`/.well-known/http-message-signatures-directory`)
 * of this home's agents: the identities created as agents (`charter agent
 * create`, `meta.role` "agent") whose key RFC 9421 can sign with (Ed25519,
 * P-256). A person's or an operator's key is never published here: the
 * directory says "requests signed by these keys are this origin's automated
 * traffic". The authority signed (`"@authority";req`) is the home's public
 * URL's, never the Host header; `fallbackOrigin` (where the server listens)
 * when no public URL is set. Undefined when the home has no such agent.
 */
export async function agentDirectory(home: Home, fallbackOrigin: string, now?: Date): Promise<DirectoryResponse | undefined> {
  const agents = (await home.store.listIdentities()).filter((r) => r.meta?.role === 'agent' && (r.keyType === 'Ed25519' || r.keyType === 'P-256'));
  if (agents.length === 0) return undefined;
  if (agents.length > MAX_KEYS) throw new CharterError('CONFIG_INVALID', `this home has ${agents.length} agents; a key directory lists at most ${MAX_KEYS} keys`);
  const keys = await Promise.all(agents.map(async (r) => ({ jwk: r.publicJwk, signer: (await home.issuer(r.alias)).signer })));
  const authority = new URL((await home.publicUrl()) ?? fallbackOrigin).host;
  return signDirectory({ keys, authority, expiresInSeconds: DIRECTORY_EXPIRES_SECONDS, cacheSeconds: DIRECTORY_CACHE_SECONDS, ...(now ? { now } : {}) });
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
