import type { Command } from 'commander';
import { CharterError } from '../errors.js';
import { commitSpend, releaseSpend, staleReservations } from '../agents/index.js';
import type { ReservationRecord, ReservationState } from '../store/types.js';
import { homeCommand, leaf, type CliContext, type CommonOptions } from './io.js';
import { MAX_LIST_LIMIT, secondsFlag, wholeNumberFlag } from './args.js';
import { table } from './format.js';

/*
 * `charter agent reservations` (security issue §4): a caller that reserved a
 * spend and died leaves it held, counted against every link of its chain.
 * List them, and settle one by hand (commitSpend / releaseSpend).
 */

function renderReservations(rows: ReservationRecord[]): string {
  return table(
    ['RESERVATION', 'AT', 'STATE', 'AMOUNT', 'LINKS', 'HOLD UNTIL', 'SETTLED'],
    rows.map((r) => [
      r.reservationId,
      r.at,
      r.state,
      r.entries[0] ? `${r.entries[0].amount} ${r.entries[0].currency}` : '',
      String(r.entries.length),
      r.holdUntil ?? '',
      r.settledAt ? `${r.settledBy ?? ''} ${r.settledAt}`.trim() : '',
    ]),
  );
}

const STATES: readonly ReservationState[] = ['reserved', 'committed', 'released'];

export function registerReservations(agent: Command, ctx: CliContext): void {
  leaf(
    agent
      .command('reservations')
      .description("spend reservations in this home's ledger; settle a stale one by hand")
      .option('--stale', 'only reservations still held (neither committed nor released) and older than --older-than')
      .option('--older-than <duration>', 'stale means held for longer than this: 300s (default), 5m, PT5M; implies --stale')
      .option('--state <state>', 'only reservations in this state: reserved, committed or released')
      .option('--commit <reservation>', 'settle one as spent: the transaction happened')
      .option('--release <reservation>', 'settle one as not spent: its amount no longer counts')
      .option('--limit <n>', 'at most this many rows, newest first', '100'),
    ['charter agent reservations --stale', 'charter agent reservations --stale --older-than 1h --json', 'charter agent reservations --release 3f2a…'],
  ).action((o: CommonOptions & { stale?: boolean; olderThan?: string; state?: string; commit?: string; release?: string; limit: string }) =>
    homeCommand(
      ctx,
      o,
      async (home): Promise<ReservationRecord[] | { reservationId: string; state: 'committed' | 'released' }> => {
        if (o.commit !== undefined && o.release !== undefined) throw new CharterError('INVALID_ARGUMENT', 'give --commit or --release, not both');
        if (o.commit !== undefined) {
          await commitSpend(home.store, o.commit);
          return { reservationId: o.commit, state: 'committed' };
        }
        if (o.release !== undefined) {
          await releaseSpend(home.store, o.release);
          return { reservationId: o.release, state: 'released' };
        }
        const limit = wholeNumberFlag(o.limit, '--limit', 1, MAX_LIST_LIMIT);
        if (o.state !== undefined && !STATES.includes(o.state as ReservationState)) throw new CharterError('INVALID_ARGUMENT', `--state must be one of ${STATES.join(', ')}`);
        if (o.stale || o.olderThan !== undefined) {
          if (o.state !== undefined && o.state !== 'reserved') throw new CharterError('INVALID_ARGUMENT', '--stale lists reservations still held: no --state other than reserved');
          return staleReservations(home.store, { olderThanSeconds: secondsFlag(o.olderThan ?? '300s', '--older-than'), limit });
        }
        return home.store.listReservations({ ...(o.state !== undefined ? { state: o.state as ReservationState } : {}), limit });
      },
      (r) => (Array.isArray(r) ? renderReservations(r) : `${r.state} ${r.reservationId}`),
    ),
  );
}
