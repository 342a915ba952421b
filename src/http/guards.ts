import type { AgentReputation, AgentTrust } from '../agents/types.js';

/**
 * What a route requires beyond an authentic, bound presentation. Guards are
 * plain data, the same for every framework; `R` is the request type the
 * functions receive (the web Request in the core, the framework's request in
 * an adapter). Built once, checked when built.
 */

/** A value fixed at build time, or computed from the request. */
export type FromRequest<R, T> = T | ((req: R) => T);

export interface GrantGuardOptions<R> {
  /** The resource asked for, e.g. `profile/email` or `(req) => \`photos/${req.params.id}\``. */
  resource: FromRequest<R, string>;
  action: FromRequest<R, string>;
}

export interface GrantGuard<R> extends GrantGuardOptions<R> {
  readonly kind: 'grant';
}

export interface AgentGuardOptions<R> {
  action: FromRequest<R, string>;
  /** The amount this request spends, `"20 USD"`; undefined for an action without one. */
  amount?: (req: R) => string | undefined;
  /** The DID the agent deals with. Default: the verifier's `aud`. */
  counterparty?: string;
  trust: AgentTrust;
  /** Reserve the spend on every link of the chain; the handler commits or releases it. */
  record?: boolean;
  /** For `trust.minReputation`: the agent's reputation (see verifyAgent). */
  reputation?: (agent: string, operator: string | undefined) => Promise<AgentReputation>;
}

export interface AgentGuard<R> extends AgentGuardOptions<R> {
  readonly kind: 'agent';
}

export type Guard<R> = GrantGuard<R> | AgentGuard<R>;

const fromRequest = (v: unknown) => typeof v === 'function' || (typeof v === 'string' && v.length > 0);

/** The caller must hold an unrevoked DataAccessGrant covering `action` on `resource`. */
export function requireGrant<R = Request>(options: GrantGuardOptions<R>): GrantGuard<R> {
  if (!options || !fromRequest(options.resource)) throw new TypeError('requireGrant: resource must be a non-empty string or a function of the request');
  if (!fromRequest(options.action)) throw new TypeError('requireGrant: action must be a non-empty string or a function of the request');
  return Object.freeze({ kind: 'grant', resource: options.resource, action: options.action });
}

/** The caller must be an agent whose identity and mandate chain allow this request (the KYA decision). */
export function requireAgent<R = Request>(options: AgentGuardOptions<R>): AgentGuard<R> {
  if (!options || !fromRequest(options.action)) throw new TypeError('requireAgent: action must be a non-empty string or a function of the request');
  if (options.amount !== undefined && typeof options.amount !== 'function') throw new TypeError('requireAgent: amount must be a function of the request');
  if (options.counterparty !== undefined && (typeof options.counterparty !== 'string' || !options.counterparty.startsWith('did:'))) {
    throw new TypeError('requireAgent: counterparty must be a DID');
  }
  checkTrust('requireAgent', options.trust, options.reputation);
  return Object.freeze({ ...options, kind: 'agent' as const });
}

/** The trust a KYA guard needs, checked when the guard is built (`who` names the caller in the TypeError). */
export function checkTrust(who: string, t: AgentTrust | undefined, reputation: AgentGuardOptions<unknown>['reputation']): void {
  if (!t || typeof t !== 'object') throw new TypeError(`${who}: trust is required ({ principals } or { anyPrincipal: true })`);
  if (!t.anyPrincipal && !(Array.isArray(t.principals) && t.principals.length > 0)) {
    throw new TypeError(`${who}: trust needs principals (DIDs) or anyPrincipal: true`);
  }
  if (t.minReputation !== undefined && typeof reputation !== 'function') throw new TypeError(`${who}: trust.minReputation needs a reputation source`);
}

export function valueOf<R, T>(v: FromRequest<R, T>, req: R): T {
  return typeof v === 'function' ? (v as (req: R) => T)(req) : v;
}
