import type { AgentReputation, AgentTrust } from '../agents/types.js';
import type { AmountInput } from '../agents/limits.js';
import type { DeclaredProcessing } from '../grants/index.js';

/** Where a decision looks up an agent's reputation (e.g. `reputationSource(store, policy)`). */
export type ReputationSource = (agent: string, operator: string | undefined) => Promise<AgentReputation>;

/**
 * What a guarded call requires beyond an authentic, bound, fresh
 * presentation, with every value already taken from the request: the
 * transport adapters turn their route options into one of these per call.
 */
export type Policy = PresentationPolicy | GrantPolicy | AgentPolicy | SignaturePolicy;

/** Only an authentic, bound, fresh presentation (whatever it holds). */
export interface PresentationPolicy {
  kind: 'presentation';
}

/**
 * No presentation at all: the request's own HTTP message signature (an
 * `http` binding with `signature`) is the only proof, its nonce used once.
 */
export interface SignaturePolicy {
  kind: 'signature';
}

/** An unrevoked DataAccessGrant from the resource's owner to the holder, covering `action` on `resource`. */
export interface GrantPolicy {
  kind: 'grant';
  resource: string;
  action: string;
  /** The DID that owns the resource asked for; the grant must be its issuer's. */
  owner?: string;
  /** Explicitly: a grant from any issuer will do. */
  anyOwner?: boolean;
  /** The purpose of this use (e.g. `model-training`), checked against the grant's terms. */
  purpose?: string;
  /** Where this verifier processes the data, checked against the grant's terms. */
  processing?: DeclaredProcessing;
}

/** An agent whose identity and mandate chain allow `action` (for `amount`, with `counterparty`). */
export interface AgentPolicy {
  kind: 'agent';
  action: string;
  /** Required when a link limits money (AMOUNT_REQUIRED otherwise). */
  amount?: AmountInput;
  /** The DID the agent deals with. Default: the verifier's `aud`. */
  counterparty?: string;
  trust: AgentTrust;
  reputation?: ReputationSource;
}

/** The trust a KYA guard needs, checked when the guard is built (`who` names the caller in the TypeError). */
export function checkTrust(who: string, t: AgentTrust | undefined, reputation: ReputationSource | undefined): void {
  if (!t || typeof t !== 'object') throw new TypeError(`${who}: trust is required ({ principals } or { anyPrincipal: true })`);
  if (!t.anyPrincipal && !(Array.isArray(t.principals) && t.principals.length > 0)) throw new TypeError(`${who}: trust needs principals (DIDs) or anyPrincipal: true`);
  if (t.minReputation !== undefined && typeof reputation !== 'function') throw new TypeError(`${who}: trust.minReputation needs a reputation source`);
}

/** The owner rule a grant guard needs, checked when built: an owner (or a function giving one) or, explicitly, anyOwner. */
export function checkOwnerRule(who: string, o: { owner?: unknown; anyOwner?: unknown }): void {
  const hasOwner = o.owner !== undefined;
  if (hasOwner === (o.anyOwner === true)) {
    throw new TypeError(
      `${who}: say whose data the route serves: owner (a DID, or a function of the request giving the DID that owns the resource), ` +
        'or anyOwner: true (a grant from anyone will do; a grant then allows access to data that is not its issuer\'s)',
    );
  }
  if (hasOwner && typeof o.owner !== 'function' && !(typeof o.owner === 'string' && o.owner.startsWith('did:'))) {
    throw new TypeError(`${who}: owner must be a DID or a function of the request`);
  }
}
