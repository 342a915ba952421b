import { CharterError, isCharterError } from '../errors.js';
import type { AgentRemaining } from '../agents/types.js';
import type { Ledger } from '../store/types.js';

export type SpendState = 'reserved' | 'committed' | 'released' | 'held';

/**
 * The spend a guarded call reserved, until it is settled. `commit` and
 * `release` settle it (idempotent; the first settlement wins, and settling
 * the other way afterwards throws RESERVATION_NOT_FOUND) and throw a store
 * fault. `settle` never throws: when the store fails it keeps trying
 * in the background (with backoff, for up to `retryForMs`), so a reservation
 * is settled once the store is back, never left held for ever; meanwhile it
 * still counts against every budget (never an overspend), and it is listed
 * by `staleReservations` should the process die first.
 */
export interface SpendHold {
  readonly reservationId: string;
  /** What is left on the tightest link after this spend. */
  readonly remaining: AgentRemaining;
  readonly state: SpendState;
  /** With a receipts verifier: the settlement receipt, once the commit or release is logged. */
  readonly receipt?: string;
  /**
   * With `holdTimeoutSeconds`: when the ledger releases this reservation if it is not settled. Work done
   * after it is done on budget others may already have reserved (README "Strict defaults").
   */
  readonly holdUntil?: Date;
  commit(): Promise<void>;
  release(): Promise<void>;
  settle(success: boolean): Promise<SpendState>;
}

const RETRY_FOR_MS = 10 * 60_000;

export function holdSpend(ledger: Ledger, reservationId: string, remaining: AgentRemaining, options: { retryForMs?: number; holdUntil?: Date } = {}): SpendHold {
  let state: SpendState = 'reserved';
  let pending: Promise<void> | undefined;
  let wanted: 'committed' | 'released' | undefined;

  const apply = (to: 'committed' | 'released') => (to === 'committed' ? ledger.commitReservation(reservationId) : ledger.releaseReservation(reservationId));

  function settleOnce(to: 'committed' | 'released'): Promise<void> {
    // Settled (or being settled) the other way: a commit must never look done when the spend was released, nor a
    // release when it was committed. The same answer the ledger gives (store/ledger.ts).
    if (wanted !== undefined && wanted !== to) {
      return Promise.reject(
        new CharterError('RESERVATION_NOT_FOUND', `that reservation was already ${wanted === 'released' ? 'released: the spend was not recorded' : 'committed'}`),
      );
    }
    wanted = to;
    pending ??= apply(to).then(
      () => {
        state = to;
      },
      (e: unknown) => {
        // Not settled (the store said so): the next attempt may settle the other way.
        pending = undefined;
        wanted = undefined;
        throw e;
      },
    );
    return pending;
  }

  function retryInBackground(to: 'committed' | 'released'): void {
    state = 'held';
    const deadline = Date.now() + (options.retryForMs ?? RETRY_FOR_MS);
    let delay = 250;
    const attempt = () => {
      settleOnce(to).catch((e: unknown) => {
        // A reservation gone (released by its hold timeout, then settled elsewhere) needs nothing more.
        if (isCharterError(e, 'RESERVATION_NOT_FOUND')) return;
        if (Date.now() + delay > deadline) return;
        setTimeout(attempt, delay).unref();
        delay = Math.min(delay * 2, 30_000);
      });
    };
    setTimeout(attempt, delay).unref();
  }

  return {
    reservationId,
    remaining,
    ...(options.holdUntil ? { holdUntil: options.holdUntil } : {}),
    get state() {
      return state;
    },
    commit: () => settleOnce('committed'),
    release: () => settleOnce('released'),
    async settle(success) {
      if (state === 'committed' || state === 'released') return state;
      const to = wanted ?? (success ? 'committed' : 'released');
      try {
        await settleOnce(to);
        return state;
      } catch {
        retryInBackground(to);
        return 'held';
      }
    },
  };
}

/** The longest delay a Node timer takes (2^31 - 1 ms): a longer one fires at once, with a warning. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * What a guarded function or handler is told of its hold (holdTimeoutSeconds): a signal aborted with
 * RESERVATION_NOT_FOUND when the hold runs out while the spend is still only reserved; never without a
 * hold, and never once settled (by commit() or release(), here or on the spend itself). `stop()` ends the
 * watch. The timer is unref'd, and re-armed in steps a Node timer can take (a hold may last 366 days).
 */
export function holdSignal(spend: SpendHold | undefined): { signal: AbortSignal; stop(): void } {
  const abort = new AbortController();
  const until = spend?.holdUntil?.getTime();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    const left = until! - Date.now();
    if (left > 0) {
      timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
      timer.unref();
      return;
    }
    timer = undefined;
    if (spend!.state !== 'reserved') return;
    abort.abort(new CharterError('RESERVATION_NOT_FOUND', 'the hold on this spend ran out (holdTimeoutSeconds)'));
  };
  if (until !== undefined) arm();
  return {
    signal: abort.signal,
    stop: () => {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
