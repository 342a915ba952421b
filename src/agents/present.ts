import { CharterError } from '../errors.js';
import { createPresentation, decodeCredential, soleSubject } from '../credentials/index.js';
import type { Issuer } from '../credentials/types.js';

export interface CreateAgentPresentationInput {
  /** The agent, signing with its authentication key. */
  agent: Issuer;
  /** Its AgentIdentityCredential (JWT). */
  identity?: string;
  /** Its mandate and every link above it, in any order; presented root first. */
  chain: string[];
  aud: string;
  nonce: string;
  expiresInSeconds?: number;
  /** Extra JWT claims (e.g. `htm`, `htu`). */
  claims?: Record<string, unknown>;
}

interface Node {
  jwt: string;
  id: string | undefined;
  parentId: string | undefined;
}

/** Orders mandates root first by their `authority.parent.id`; throws INVALID_ARGUMENT when they do not form one line. */
export function orderChain(chain: readonly string[]): string[] {
  const nodes: Node[] = chain.map((jwt) => {
    const c = decodeCredential(jwt);
    const p = (soleSubject(c)?.authority as { parent?: { id?: unknown } } | undefined)?.parent?.id;
    return { jwt, id: c.id, parentId: typeof p === 'string' ? p : undefined };
  });
  const ids = new Set(nodes.map((n) => n.id));
  const roots = nodes.filter((n) => n.parentId === undefined || !ids.has(n.parentId));
  if (roots.length !== 1) throw new CharterError('INVALID_ARGUMENT', 'the mandates do not form one delegation chain');
  const out: Node[] = [roots[0]!];
  for (;;) {
    const last = out[out.length - 1]!;
    const next = nodes.filter((n) => n !== last && n.parentId !== undefined && n.parentId === last.id);
    if (next.length > 1) throw new CharterError('INVALID_ARGUMENT', 'two mandates delegate from the same parent; present one chain');
    if (next.length === 0 || out.includes(next[0]!)) break;
    out.push(next[0]!);
  }
  if (out.length !== nodes.length) throw new CharterError('INVALID_ARGUMENT', 'the mandates do not form one delegation chain');
  return out.map((n) => n.jwt);
}

/**
 * The presentation an agent sends: its identity credential and its mandate
 * chain (root first), signed by the agent and bound to the verifier's
 * audience and nonce.
 */
export async function createAgentPresentation(input: CreateAgentPresentationInput): Promise<string> {
  if (!Array.isArray(input.chain) || input.chain.length === 0) throw new CharterError('INVALID_ARGUMENT', 'an agent presents at least its own mandate');
  const chain = orderChain(input.chain);
  return createPresentation({
    holder: input.agent,
    credentials: [...(input.identity !== undefined ? [input.identity] : []), ...chain],
    aud: input.aud,
    nonce: input.nonce,
    ...(input.expiresInSeconds !== undefined ? { expiresInSeconds: input.expiresInSeconds } : {}),
    ...(input.claims ? { claims: input.claims } : {}),
  });
}
