import { afterAll, beforeAll, describe, it } from 'vitest';
import fc from 'fast-check';
import { openWorld, type World } from '../agents/fixture.js';
import { openPostgresStore } from '../../src/store/postgres/store.js';
import type { Store } from '../../src/store/types.js';
import { dropSchemas, freshSchema, pgUrlOrReport } from '../store/fixtures/pg-env.js';
import { modelProperty } from './model-harness.js';

/**
 * The model-based run of model-spend.test.ts with the verifier's store on
 * PostgreSQL (the replay cache and ledger a fleet shares): fewer runs, the
 * same commands, model and invariants. The issuer's store (status lists) stays SQLite.
 */
const RUNS = Number(process.env.CHARTER_MODEL_RUNS ?? 12);
const url = pgUrlOrReport('KYA guard, model-based (PostgreSQL)');
if (url) {
  describe('KYA guard, model-based (PostgreSQL)', () => {
    const schema = freshSchema('model');
    let w: World;
    let store: Store;
    beforeAll(async () => {
      w = await openWorld();
      store = await openPostgresStore(url, { schema });
    });
    afterAll(async () => {
      await store?.close();
      await w?.close();
      await dropSchemas(url, [schema]);
    });

    it(
      'the guard on a PostgreSQL store keeps in step with the model',
      async () => {
        const seed = process.env.CHARTER_MODEL_SEED !== undefined ? Number(process.env.CHARTER_MODEL_SEED) : undefined;
        await fc.assert(modelProperty(w, store, 20), { numRuns: RUNS, ...(seed !== undefined ? { seed } : {}) });
      },
      Math.max(120_000, RUNS * 3_000),
    );
  });
}
