import { sha256Digest } from '../encoding/json.js';
import { decodeCredential } from '../credentials/index.js';
import { TtlCache } from '../did/cache.js';
import type { ReceiptCredential } from './receipt.js';

const ENVELOPE = 'data:application/vc+jwt,';
const MAX = 32;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The credential JWTs a presentation carries (a vp+jwt's enveloped
 * credentials, or a VCDM 1.1 `vp.verifiableCredential`), read leniently:
 * what is hashed into a receipt is what was sent, whether or not it verified.
 */
export function presentedCredentials(payload: Record<string, unknown> | undefined): string[] {
  if (!payload) return [];
  const raw = payload.verifiableCredential ?? (isObj(payload.vp) ? payload.vp.verifiableCredential : undefined);
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  const out: string[] = [];
  for (const c of list.slice(0, MAX)) {
    if (typeof c === 'string') out.push(c);
    else if (isObj(c) && typeof c.id === 'string' && c.id.slice(0, ENVELOPE.length).toLowerCase() === ENVELOPE) out.push(c.id.slice(ENVELOPE.length));
  }
  return out;
}

// A platform sees the same grant or mandate on every request: read each once.
const described = new TtlCache<string, ReceiptCredential>(300_000, 4096);

/** A credential as a receipt names it: the hash of the JWT, and its id, issuer and types when readable. */
export function describeCredential(jwt: string): ReceiptCredential {
  const hit = described.get(jwt);
  if (hit) return hit;
  const d: ReceiptCredential = { h: sha256Digest(jwt) };
  try {
    const c = decodeCredential(jwt);
    if (typeof c.id === 'string') d.id = c.id;
    const iss = typeof c.issuer === 'string' ? c.issuer : c.issuer?.id;
    if (typeof iss === 'string') d.iss = iss;
    d.type = c.type.filter((t) => t !== 'VerifiableCredential');
  } catch {
    // Unreadable: the hash alone names it.
  }
  described.set(jwt, d);
  return d;
}
