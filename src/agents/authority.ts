import { CharterError, type Reason } from '../errors.js';
import { sha256Digest } from '../encoding/json.js';
import { actionAllowed, isActionPattern } from './actions.js';
import { checkLimits, validateLimits } from './limits.js';
import type { AgentRequest, Authority } from './types.js';

/**
 * Every field this version understands under `authority`. A mandate carrying
 * anything else is refused (UNKNOWN_CONSTRAINT): a newer issuer's tighter rule
 * must never be silently ignored (DESIGN.md, "fail closed").
 */
type Shape = { readonly [k: string]: Shape | true };
const MONEY: Shape = { amount: true, currency: true };
const AUTHORITY_SHAPE: Shape = {
  actions: true,
  maxDelegationDepth: true,
  parent: { id: true, digest: true },
  limits: {
    perTransaction: MONEY,
    // A period is a duration string or a calendar period; an unknown field in the latter
    // (a start day, a fiscal calendar) is a rule this version would ignore, so it fails closed.
    budget: { ...MONEY, period: { calendar: true, timeZone: true } },
    counterparties: true,
    rate: { count: true, period: true },
  },
};
export const MAX_DELEGATION_DEPTH = 16;
const MAX_ACTIONS = 64;
const DIGEST = /^sha256-[A-Za-z0-9_-]{43}$/;

/**
 * `authority.parent.digest` of a delegated mandate: `sha256-<base64url>` of
 * SHA-256 over the parent's compact JWS exactly as issued (its ASCII bytes),
 * so a verifier can tell that the presented parent is the one delegated.
 */
export function mandateDigest(jwt: string): string {
  return sha256Digest(jwt);
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Paths of fields not in `shape`, at any depth. */
export function unknownConstraints(value: unknown, shape: Shape = AUTHORITY_SHAPE, path = 'authority'): string[] {
  if (!isObj(value)) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const s = Object.hasOwn(shape, k) ? shape[k] : undefined;
    if (s === undefined) out.push(`${path}.${k}`);
    else if (s !== true) out.push(...unknownConstraints(v, s, `${path}.${k}`));
  }
  return out;
}

const bad = (path: string, what: string) => new CharterError('INVALID_ARGUMENT', `${path} ${what}`, { details: { field: path } });

/**
 * Reads an `authority` object (from a credential or from a caller) into a
 * checked copy. Throws UNKNOWN_CONSTRAINT (details.fields) for fields this
 * version does not understand, INVALID_ARGUMENT for malformed values.
 */
export function parseAuthority(value: unknown): Authority {
  if (!isObj(value)) throw bad('authority', 'must be an object');
  const unknown = unknownConstraints(value);
  if (unknown.length > 0) {
    throw new CharterError('UNKNOWN_CONSTRAINT', `the mandate sets ${unknown.slice(0, 5).join(', ')}, which this verifier does not understand`, { details: { fields: unknown } });
  }
  const a = value.actions;
  if (!Array.isArray(a) || a.length === 0 || a.length > MAX_ACTIONS || !a.every(isActionPattern)) {
    throw bad('authority.actions', `must list 1 to ${MAX_ACTIONS} actions such as payments:card or payments:* (a * only at the end)`);
  }
  if (new Set(a).size !== a.length) throw bad('authority.actions', 'must not repeat an action');
  const d = value.maxDelegationDepth;
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > MAX_DELEGATION_DEPTH) {
    throw bad('authority.maxDelegationDepth', `must be an integer from 0 to ${MAX_DELEGATION_DEPTH}`);
  }
  const out: Authority = { actions: [...(a as string[])], maxDelegationDepth: d };
  if (value.limits !== undefined) out.limits = validateLimits(value.limits);
  if (value.parent !== undefined) {
    const p = value.parent;
    if (!isObj(p) || typeof p.id !== 'string' || p.id.length === 0 || p.id.length > 512 || typeof p.digest !== 'string' || !DIGEST.test(p.digest)) {
      throw bad('authority.parent', 'must be { id, digest: "sha256-<base64url>" }');
    }
    out.parent = { id: p.id, digest: p.digest };
  }
  return out;
}

/**
 * Reads the authority of a mandate for a verifier: the authority, or the
 * reasons it cannot be used (UNKNOWN_CONSTRAINT; INVALID_CREDENTIAL for a
 * malformed value that slipped past the schema).
 */
export function readAuthority(value: unknown): { authority?: Authority; reasons: Reason[] } {
  try {
    return { authority: parseAuthority(value), reasons: [] };
  } catch (e) {
    if (e instanceof CharterError && e.code === 'UNKNOWN_CONSTRAINT') return { reasons: [{ code: e.code, message: e.message }] };
    if (e instanceof CharterError) return { reasons: [{ code: 'INVALID_CREDENTIAL', message: e.message }] };
    throw e;
  }
}

/** Stateless checks of one request against one link: action, then limits. */
export function checkRequest(authority: Authority, req: AgentRequest): Reason[] {
  const out: Reason[] = [];
  if (!actionAllowed(authority.actions, req.action)) out.push({ code: 'ACTION_NOT_ALLOWED', message: `the mandate does not allow ${req.action.slice(0, 64)}` });
  out.push(...checkLimits(authority.limits, req));
  return out;
}
