// Reservations per second on the PostgreSQL store (a fleet's shared ledger), with 1 and 8
// concurrent clients over a pool of 8. Against CHARTER_TEST_PG_URL when set; otherwise on a
// throwaway cluster started with scripts/pg-test.sh (Debian's postgresql package), stopped after.
// Alone: node --import tsx bench/postgres.ts
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { Client } from 'pg';
import { openPostgresStore } from '../src/store/postgres/store.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';
import type { LedgerEntry, Store } from '../src/store/types.js';
import { printTable } from './measure.js';

const AGENTS = 1000;
const SECONDS = Number(process.env.CHARTER_BENCH_PG_SECONDS ?? 3);

/** A sub-agent's spend, charged to its own mandate and its parent's (a chain of two links). */
const chain = (agent: number): LedgerEntry[] => [
  { mandateId: `parent-${agent}`, amount: '1.25', currency: 'USD', budget: { amount: '1000000', currency: 'USD', periodSeconds: 86400 } },
  {
    mandateId: `child-${agent}`,
    amount: '1.25',
    currency: 'USD',
    budget: { amount: '1000000', currency: 'USD', periodSeconds: 86400 },
    rate: { count: 1_000_000, periodSeconds: 3600 },
  },
];

/** `clients` loops reserving for `seconds` after a short warm-up; reservations per second overall. */
async function reservationsPerSecond(store: Store, clients: number, pickAgent: () => number, seconds = SECONDS): Promise<number> {
  let n = 0;
  let counting = false;
  let stop = false;
  const tag = randomBytes(4).toString('hex');
  const loop = async (c: number) => {
    for (let i = 0; !stop; i++) {
      const r = await store.reserve({ reservationId: `${tag}-${c}-${i}`, at: new Date(), entries: chain(pickAgent()) });
      if (!r.ok) throw new Error('a bench reservation was refused');
      if (counting) n++;
      // An embedded store answers without I/O: yield so the timers can stop the run.
      if (i % 64 === 63) await new Promise((r) => setImmediate(r));
    }
  };
  const loops = Array.from({ length: clients }, (_, c) => loop(c));
  await new Promise((r) => setTimeout(r, 300));
  counting = true;
  const start = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  counting = false;
  const elapsed = performance.now() - start;
  stop = true;
  await Promise.all(loops);
  return (n * 1000) / elapsed;
}

export interface PostgresBenchFigures {
  /** Reservations/s, 1 client, spread over 1,000 agents. */
  pg1: number;
  /** Reservations/s, 8 concurrent clients, spread over 1,000 agents. */
  pg8: number;
  /** Reservations/s, 8 concurrent clients all charging the same chain (serialised by its row locks). */
  pg8SameChain: number;
  /** The same reservation on the embedded SQLite store, 1 client, for scale. */
  sqlite1: number;
}

const PG_TEST = fileURLToPath(new URL('../scripts/pg-test.sh', import.meta.url));

/** A throwaway cluster for this run: its URL and how to stop it, or undefined when PostgreSQL is not installed. */
function startThrowawayCluster(): { url: string; stop: () => void } | undefined {
  const env = { ...process.env, CHARTER_PG_STATE: join(mkdtempSync(join(tmpdir(), 'charter-bench-pg-')), 'state') };
  try {
    const out = execFileSync(PG_TEST, ['start'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const url = /CHARTER_TEST_PG_URL=(\S+)/.exec(out)?.[1];
    if (!url) return undefined;
    return { url, stop: () => void execFileSync(PG_TEST, ['stop'], { env, stdio: 'ignore' }) };
  } catch {
    return undefined;
  }
}

export async function benchPostgres(given: string | undefined = process.env.CHARTER_TEST_PG_URL): Promise<PostgresBenchFigures | undefined> {
  const cluster = given ? undefined : startThrowawayCluster();
  const url = given ?? cluster?.url;
  if (!url) {
    console.log("\n## PostgreSQL store: skipped (install Debian's postgresql, or set CHARTER_TEST_PG_URL)");
    return undefined;
  }
  try {
    return await benchOn(url);
  } finally {
    cluster?.stop();
  }
}

async function benchOn(url: string): Promise<PostgresBenchFigures> {
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const store = await openPostgresStore(url, { schema, poolSize: 8 });
  const sqlite = await openSqliteStore(join(mkdtempSync(join(tmpdir(), 'charter-bench-')), 'b.db'));
  const spread = () => Math.floor(Math.random() * AGENTS);
  try {
    const figures: PostgresBenchFigures = {
      pg1: await reservationsPerSecond(store, 1, spread),
      pg8: await reservationsPerSecond(store, 8, spread),
      pg8SameChain: await reservationsPerSecond(store, 8, () => 0),
      sqlite1: await reservationsPerSecond(sqlite, 1, spread),
    };
    printTable('Spend ledger: reserve() on a two-link chain (PostgreSQL on loopback, pool of 8)', [
      { name: 'PostgreSQL, 1 client, 1,000 agents', opsPerSec: figures.pg1 },
      { name: 'PostgreSQL, 8 concurrent clients, 1,000 agents', opsPerSec: figures.pg8, note: `x${(figures.pg8 / figures.pg1).toFixed(2)} of 1 client` },
      { name: 'PostgreSQL, 8 concurrent clients, one chain (row locks)', opsPerSec: figures.pg8SameChain },
      { name: 'SQLite (embedded), 1 client, for scale', opsPerSec: figures.sqlite1 },
    ]);
    return figures;
  } finally {
    await Promise.all([store.close(), sqlite.close()]);
    const c = new Client({ connectionString: url });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchPostgres();
