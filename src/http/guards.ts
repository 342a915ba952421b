import type { AgentTrust } from '../agents/types.js';
import type { AmountInput } from '../agents/limits.js';
import { checkOwnerRule, checkTrust, type Policy, type ReputationSource } from '../guard/policy.js';
import { checkDeclaredUse, type DeclaredProcessing } from '../grants/index.js';

/**
 * What a route requires beyond an authentic, bound presentation. Guards are
 * plain data, the same for every framework; `R` is the request type the
 * functions receive (the web Request in the core, the framework's request in
 * an adapter). Built once, checked when built; turned into the pipeline's
 * Policy per request.
 */

/** A value fixed at build time, or computed from the request. */
export type FromRequest<R, T> = T | ((req: R) => T);

export interface GrantGuardOptions<R> {
  /** The resource asked for, e.g. `profile/email` or `(req) => \`photos/${req.params.id}\`` (normalised before matching). */
  resource: FromRequest<R, string>;
  action: FromRequest<R, string>;
  /**
   * Who owns the resource: a grant allows access only to its issuer's own
   * data, so the route says whose data it serves, e.g.
   * `owner: (req) => didOf(req.params.user)`. A grant from anyone else is
   * refused (GRANT_NOT_OWNER).
   */
  owner?: FromRequest<R, string>;
  /** Explicit opt-out: the route's data belongs to no one person, so a grant from any issuer will do. */
  anyOwner?: true;
  /**
   * What the route uses the data for, e.g. `'model-training'`: a grant whose
   * terms limit purposes must name it (PURPOSE_NOT_ALLOWED otherwise).
   */
  purpose?: FromRequest<R, string>;
  /** Where the route processes the data (`on-device` or `trusted-execution`), checked against the grant's terms. */
  processing?: DeclaredProcessing;
}

export interface GrantGuard<R> extends GrantGuardOptions<R> {
  readonly kind: 'grant';
}

export interface AgentGuardOptions<R> {
  action: FromRequest<R, string>;
  /** The amount this request spends, e.g. `(req) => req.body.amount` ("20 USD" or { amount, currency }). Required by a money-limited mandate. */
  amount?: (req: R) => AmountInput | undefined;
  /** The DID the agent deals with. Default: the verifier's `aud`. */
  counterparty?: string;
  trust: AgentTrust;
  /** For `trust.minReputation`: the agent's reputation. */
  reputation?: ReputationSource;
}

export interface AgentGuard<R> extends AgentGuardOptions<R> {
  readonly kind: 'agent';
}

export type Guard<R> = GrantGuard<R> | AgentGuard<R>;

const fromRequest = (v: unknown) => typeof v === 'function' || (typeof v === 'string' && v.length > 0);

/** The caller must hold an unrevoked DataAccessGrant from the resource's owner covering `action` on `resource`. */
export function requireGrant<R = Request>(options: GrantGuardOptions<R>): GrantGuard<R> {
  if (!options || !fromRequest(options.resource)) throw new TypeError('requireGrant: resource must be a non-empty string or a function of the request');
  if (!fromRequest(options.action)) throw new TypeError('requireGrant: action must be a non-empty string or a function of the request');
  checkOwnerRule('requireGrant', options);
  checkDeclaredUse('requireGrant', options);
  return Object.freeze({
    kind: 'grant',
    resource: options.resource,
    action: options.action,
    ...(options.owner !== undefined ? { owner: options.owner } : { anyOwner: true as const }),
    ...(options.purpose !== undefined ? { purpose: options.purpose } : {}),
    ...(options.processing !== undefined ? { processing: options.processing } : {}),
  });
}

/** The caller must be an agent whose identity and mandate chain allow this request (the KYA decision). */
export function requireAgent<R = Request>(options: AgentGuardOptions<R>): AgentGuard<R> {
  if (!options || !fromRequest(options.action)) throw new TypeError('requireAgent: action must be a non-empty string or a function of the request');
  if (options.amount !== undefined && typeof options.amount !== 'function') throw new TypeError('requireAgent: amount must be a function of the request');
  if (options.counterparty !== undefined && (typeof options.counterparty !== 'string' || !options.counterparty.startsWith('did:'))) {
    throw new TypeError('requireAgent: counterparty must be a DID');
  }
  if ((options as { record?: unknown }).record !== undefined) {
    throw new TypeError('requireAgent: "record" is gone: the spend of a chain with a budget or rate is always reserved, and settled when the response ends');
  }
  checkTrust('requireAgent', options.trust, options.reputation);
  return Object.freeze({ ...options, kind: 'agent' as const });
}

export function valueOf<R, T>(v: FromRequest<R, T>, req: R): T {
  return typeof v === 'function' ? (v as (req: R) => T)(req) : v;
}

/** The pipeline's policy for this request. Throws what the route's functions throw (a malformed request). */
export function policyFor<R>(guard: Guard<R> | undefined, req: R): Policy {
  if (guard === undefined) return { kind: 'presentation' };
  if (guard.kind === 'grant') {
    return {
      kind: 'grant',
      resource: valueOf(guard.resource, req),
      action: valueOf(guard.action, req),
      // An owner the route cannot name (an unknown user) is "" : no grant can be its.
      ...(guard.owner !== undefined ? { owner: String(valueOf(guard.owner, req) ?? '') } : { anyOwner: true }),
      ...(guard.purpose !== undefined ? { purpose: String(valueOf(guard.purpose, req)) } : {}),
      ...(guard.processing !== undefined ? { processing: guard.processing } : {}),
    };
  }
  const amount = guard.amount?.(req);
  return {
    kind: 'agent',
    action: valueOf(guard.action, req),
    ...(amount !== undefined ? { amount } : {}),
    ...(guard.counterparty !== undefined ? { counterparty: guard.counterparty } : {}),
    trust: guard.trust,
    ...(guard.reputation ? { reputation: guard.reputation } : {}),
  };
}
