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

// A platform sees the same grant or mandate on every request: read each once. The cache is filled before
// anything is verified, so what a request may leave in it is bounded three ways: entries, characters in all
// (the JWTs and what was read from them), and the length of one JWT (a longer one is read afresh each time).
const DESCRIBED_TTL_MS = 300_000;
const DESCRIBED_MAX = 4096;
const DESCRIBED_MAX_JWT = 16 * 1024;
const DESCRIBED_MAX_CHARS = 4 * 1024 * 1024;
// The clock is read at each call (not captured once), as before: tests and callers that set the time are followed.
const described = new TtlCache<string, ReceiptCredential>(DESCRIBED_TTL_MS, DESCRIBED_MAX, () => Date.now(), DESCRIBED_MAX_CHARS);

const sizeOf = (jwt: string, d: ReceiptCredential) => jwt.length + d.h.length + (d.id?.length ?? 0) + (d.iss?.length ?? 0) + (d.type ?? []).reduce((n, t) => n + t.length, 0);

/**
 * A credential as a receipt names it: the hash of the JWT, and its id, issuer and types when readable.
 * Frozen (with its `type`): one object may be shared by every receipt that names the same JWT.
 */
export function describeCredential(jwt: string): ReceiptCredential {
  const hit = described.get(jwt);
  if (hit) return hit;
  const d: ReceiptCredential = { h: sha256Digest(jwt) };
  try {
    const c = decodeCredential(jwt);
    if (typeof c.id === 'string') d.id = c.id;
    const iss = typeof c.issuer === 'string' ? c.issuer : c.issuer?.id;
    if (typeof iss === 'string') d.iss = iss;
    d.type = Object.freeze(c.type.filter((t) => t !== 'VerifiableCredential')) as string[];
  } catch {
    // Unreadable: the hash alone names it.
  }
  Object.freeze(d);
  if (typeof jwt !== 'string' || jwt.length > DESCRIBED_MAX_JWT) return d;
  described.set(jwt, d, DESCRIBED_TTL_MS, sizeOf(jwt, d));
  return d;
}

/** What the describeCredential cache holds (tests: that junk and outsized presentations take no place in it). */
export function describedCacheSize(): { entries: number; chars: number } {
  return { entries: described.size, chars: described.weight };
}
