import type { Pool, PoolClient } from 'pg';
import { describe, expect, it } from 'vitest';
import { CharterError } from '../../src/errors.js';
import { classify, createRunner } from '../../src/store/postgres/run.js';

// The fault rules of the PostgreSQL store, driven by a scripted pool (no server needed):
// which faults are retried, and what an unknown COMMIT outcome turns into.

const lost = () => new Error('Connection terminated unexpectedly');
const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

/** A pool whose clients answer each SQL text from `script` (a fault to throw, or nothing). */
function scriptedPool(script: (sql: string, attempt: number) => Error | undefined) {
  const log: string[] = [];
  let attempt = -1;
  const released: unknown[] = [];
  const pool = {
    async connect(): Promise<PoolClient> {
      attempt++;
      const a = attempt;
      return {
        async query(sql: string) {
          log.push(`${a}:${sql}`);
          const fault = script(sql, a);
          if (fault) throw fault;
          return { rows: [], rowCount: 0 };
        },
        release(err?: unknown) {
          released.push(err ?? null);
        },
      } as unknown as PoolClient;
    },
  } as unknown as Pool;
  return { pool, log, released };
}

const fast = { attempts: 4, baseDelayMs: 1, maxDelayMs: 2 };
const work = async (q: PoolClient) => {
  await q.query('WORK');
  return 'value';
};

describe('postgres store fault rules', () => {
  it('classifies connection faults, busy transactions, refusals and conflicts', () => {
    expect(classify(lost())).toBe('connection');
    expect(classify(pgError('ECONNREFUSED'))).toBe('connection');
    expect(classify(pgError('57P01'))).toBe('connection');
    expect(classify(pgError('57P03'))).toBe('connection');
    expect(classify(pgError('08006'))).toBe('connection');
    expect(classify(pgError('40001'))).toBe('busy');
    expect(classify(pgError('40P01'))).toBe('busy');
    expect(classify(pgError('28P01'))).toBe('refused');
    expect(classify(pgError('23505'))).toBe('conflict');
    for (const c of ['22021', '22P02', '22003', '2201W']) expect(classify(pgError(c))).toBe('value');
    expect(classify(pgError('42P01'))).toBe('other');
  });

  it('a session the server ended (idle-in-transaction, transaction or idle-session timeout) is a lost connection, destroyed', () => {
    for (const c of ['25P03', '25P04', '57P05']) expect(classify(pgError(c))).toBe('connection');
    // The driver's query_timeout: the server silent, the client given up.
    expect(classify(new Error('Query read timeout'))).toBe('connection');
  });

  it('lock_timeout and statement_timeout are STORE_UNAVAILABLE, not retried, saying which setting ran out', async () => {
    for (const [c, setting] of [
      ['55P03', /lock_timeout/],
      ['57014', /statement_timeout/],
    ] as const) {
      expect(classify(pgError(c))).toBe('refused');
      const { pool, log } = scriptedPool((sql) => (sql === 'WORK' ? pgError(c) : undefined));
      const err = await createRunner(pool, fast)({ tx: true }, work).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringMatching(setting) });
      expect(log.filter((l) => l.endsWith('WORK')).length).toBe(1);
    }
  });

  it('a wait for a connection that ran out (pool busy, server silent) is retried, then says what to raise', async () => {
    for (const message of ['timeout exceeded when trying to connect', 'Connection terminated due to connection timeout']) {
      expect(classify(new Error(message))).toBe('connection');
      let connects = 0;
      const pool = {
        async connect() {
          connects++;
          throw new Error(message);
        },
      } as unknown as Pool;
      const err = await createRunner(pool, fast)({ tx: true }, work).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringMatching(/connectTimeoutMs.*poolSize/) });
      expect(connects).toBe(4);
    }
  });

  it('a connection lost before COMMIT is retried: the server rolled the transaction back', async () => {
    const { pool, log } = scriptedPool((sql, a) => (sql === 'WORK' && a < 2 ? lost() : undefined));
    expect(await createRunner(pool, fast)({ tx: true }, work)).toBe('value');
    expect(log.filter((l) => l.endsWith('COMMIT'))).toEqual(['2:COMMIT']);
  });

  it('deadlocks and serialization failures are retried, then reported as STORE_UNAVAILABLE', async () => {
    const { pool, log } = scriptedPool((sql) => (sql === 'WORK' ? pgError('40P01') : undefined));
    await expect(createRunner(pool, fast)({ tx: true }, work)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(log.filter((l) => l.endsWith('WORK')).length).toBe(4);
    expect(log.filter((l) => l.endsWith('ROLLBACK')).length).toBe(4);
  });

  it('a connection lost during COMMIT is confirmed by reading back, never assumed', async () => {
    const commitLost = (sql: string, a: number) => (sql === 'COMMIT' && a === 0 ? lost() : undefined);
    const yes = scriptedPool(commitLost);
    expect(await createRunner(yes.pool, fast)({ tx: true, confirm: async () => true }, work)).toBe('value');
    const no = scriptedPool(commitLost);
    await expect(createRunner(no.pool, fast)({ tx: true, confirm: async () => false }, work)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    // Not retried: a second run could apply the write twice.
    expect(no.log.filter((l) => l.endsWith('WORK')).length).toBe(1);
  });

  it('without a way to confirm (nonces), an unknown COMMIT fails closed', async () => {
    const { pool, log } = scriptedPool((sql) => (sql === 'COMMIT' ? lost() : undefined));
    await expect(createRunner(pool, fast)({ tx: true }, work)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(log.filter((l) => l.endsWith('WORK')).length).toBe(1);
  });

  it('an unknown outcome of an idempotent operation is simply retried', async () => {
    const { pool } = scriptedPool((sql, a) => (sql === 'WORK' && a === 0 ? lost() : undefined));
    expect(await createRunner(pool, fast)({ tx: false, idempotent: true }, work)).toBe('value');
  });

  it('a broken connection is destroyed, not returned to the pool; a CharterError from the work rolls back and passes through', async () => {
    const broken = scriptedPool((sql, a) => (sql === 'WORK' && a === 0 ? lost() : undefined));
    await createRunner(broken.pool, fast)({ tx: true }, work);
    expect(broken.released[0]).toBeInstanceOf(Error);
    const refused = scriptedPool(() => undefined);
    const err = await createRunner(refused.pool, fast)({ tx: true }, async () => {
      throw new CharterError('NOT_FOUND', 'no such list');
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NOT_FOUND' });
    expect(refused.log).toEqual(['0:BEGIN ISOLATION LEVEL READ COMMITTED', '0:ROLLBACK']);
  });

  it('unique violations become ALREADY_EXISTS, or are retried where the operation asks', async () => {
    const dup = scriptedPool((sql) => (sql === 'WORK' ? pgError('23505') : undefined));
    await expect(createRunner(dup.pool, fast)({ tx: true }, work)).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    const race = scriptedPool((sql, a) => (sql === 'WORK' && a === 0 ? pgError('23505') : undefined));
    expect(await createRunner(race.pool, fast)({ tx: true, retryOnConflict: true }, work)).toBe('value');
  });

  it('a server that stays down is STORE_UNAVAILABLE after the bounded attempts', async () => {
    let connects = 0;
    const pool = {
      async connect() {
        connects++;
        throw pgError('ECONNREFUSED');
      },
    } as unknown as Pool;
    await expect(createRunner(pool, fast)({ tx: true }, work)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(connects).toBe(4);
  });
});
