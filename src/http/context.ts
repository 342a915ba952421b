import { commitSpend, releaseSpend } from '../agents/index.js';
import type { AgentDecision } from '../agents/types.js';
import type { GrantDecision } from '../grants/index.js';
import type { RequestDecision } from './request.js';
import type { Verifier } from './verifier.js';

/**
 * What a handler behind a guard sees (`req.charter`, `request.charter`,
 * `c.get('charter')`): the verified holder and the decision, and, for a
 * requireAgent guard with `record: true`, the reserved spend to commit or
 * release. Adapters settle it when the response ends: a success (< 400)
 * commits what the handler left open, anything else releases it.
 */
export interface CharterContext {
  holder: string;
  decision: RequestDecision;
  grant?: GrantDecision;
  agent?: AgentDecision;
  /** Reservation made for this request, if any, until committed or released. */
  reservationId?: string;
  /** Turn the reserved spend into a spend (idempotent; no-op without a reservation). */
  commit(): Promise<void>;
  /** Give the reserved spend back (idempotent; no-op without a reservation). */
  release(): Promise<void>;
  /** Commit on success, release otherwise, if the handler did neither. */
  settle(success: boolean): Promise<void>;
}

export function createContext(verifier: Verifier, decision: RequestDecision): CharterContext {
  const reservationId = decision.agent?.reservationId;
  let done: Promise<void> | undefined;
  const finish = (commit: boolean) => {
    if (reservationId === undefined) return Promise.resolve();
    done ??= commit ? commitSpend(verifier.store, reservationId) : releaseSpend(verifier.store, reservationId);
    return done;
  };
  return {
    holder: decision.holder!,
    decision,
    ...(decision.grant ? { grant: decision.grant } : {}),
    ...(decision.agent ? { agent: decision.agent } : {}),
    ...(reservationId !== undefined ? { reservationId } : {}),
    commit: () => finish(true),
    release: () => finish(false),
    settle: (success) => finish(success).catch(() => undefined),
  };
}
