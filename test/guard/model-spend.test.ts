import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import fc from 'fast-check';
import { openWorld, type World } from '../agents/fixture.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { tempDir } from '../helpers.js';
import { modelProperty, seen } from './model-harness.js';

/**
 * Model-based testing of the KYA guard on a real SQLite store file: see
 * model-harness.ts for the commands, the reference model and the invariants.
 * A failure prints fast-check's seed and path (rerun with them to reproduce);
 * CHARTER_MODEL_SEED pins the seed, CHARTER_MODEL_RUNS sets the number of runs (a longer hunt).
 */
const RUNS = Number(process.env.CHARTER_MODEL_RUNS ?? 25);

describe('KYA guard, model-based (SQLite)', () => {
  let w: World;
  let store: Store;
  beforeAll(async () => {
    w = await openWorld();
    store = await openSqliteStore(join(tempDir('charter-model-'), 'verifier.db'));
  });
  afterAll(async () => {
    await store.close();
    await w.close();
  });

  it(
    'any sequence of transactions, replays, revocations, clock moves, settlements and concurrent spends keeps the guard and the model in step',
    async () => {
      const seed = process.env.CHARTER_MODEL_SEED !== undefined ? Number(process.env.CHARTER_MODEL_SEED) : undefined;
      await fc.assert(modelProperty(w, store, 25), { numRuns: RUNS, ...(seed !== undefined ? { seed } : {}) });
      if (process.env.CHARTER_MODEL_STATS)
        console.log(
          [...seen]
            .sort()
            .map(([k, n]) => `${n}\t${k}`)
            .join('\n'),
        );
    },
    Math.max(120_000, RUNS * 3_000),
  );
});
