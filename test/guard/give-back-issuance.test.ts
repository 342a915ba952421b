import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide, type GuardDecision } from '../../src/guard/decide.js';
import type { Binding } from '../../src/guard/binding.js';
import type { Policy } from '../../src/guard/policy.js';
import { scopes } from '../../src/guard/verifier.js';
import { CharterError } from '../../src/errors.js';
import { openPostgresStore } from '../../src/store/postgres/store.js';
import type { Store } from '../../src/store/types.js';
import { bound } from '../http/present.js';
import { API, openWorld, type World } from '../http/world.js';
import { dropSchemas, freshSchema, pgUrlOrReport } from '../store/fixtures/pg-env.js';
import { codes, sdGrant, sdPresent, tokenStatusOf } from './seams-fixtures.js';

/**
 * In 'challenge' mode a nonce's issuance is read by consumeNonce on the issued scope, which
 * RECORDS the value when it was not issued (the "unknown nonce" answer): the record that marks
 * a made-up nonce as issued is kept from ever counting only by the used slot taken before it.
 * So giving back what a faulted decision used up must never free the used slot while such a
 * record may stand: a lost COMMIT reply on the issuance read (the row may be stored), a
 * release of the issuance that fails, or a second copy of the request slipping in between the
 * two releases. Each would let a nonce this verifier never issued be allowed.
 */
const SITE = 'http://127.0.0.1:9999';
const EMAIL = `${SITE}/profile/email`;
const http = (): Binding => ({ kind: 'http', method: 'GET', url: EMAIL });
const grantPolicy = (w: World): Policy => ({ kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did });
const fault = () => new CharterError('STORE_UNAVAILABLE', 'the PostgreSQL connection failed while committing: the outcome is unknown');
/** A nonce this verifier never issued: a new one per test (a used slot outlives the test). */
const madeUp = () => `never-issued-${randomUUID()}`;

let w: World;
beforeAll(async () => {
  w = await openWorld();
}, 60_000);
afterAll(async () => {
  await w?.close();
});

type Hooks = {
  /** After the real consumeNonce ran (it may have written): throw instead of answering. */
  lostReply?: (scope: string, value: string) => boolean;
  /** Fails before writing anything. */
  down?: (scope: string, value: string) => boolean;
  /** Around the real releaseNonce. */
  release?: (scope: string, value: string, real: () => Promise<void>) => Promise<void>;
};

function hooked(base: Store, h: Hooks): Store {
  return {
    ...base,
    consumeNonce: async (scope, value, until) => {
      if (h.down?.(scope, value)) throw fault();
      const r = await base.consumeNonce(scope, value, until);
      if (h.lostReply?.(scope, value)) throw fault();
      return r;
    },
    releaseNonce: (scope, value) => (h.release ? h.release(scope, value, () => base.releaseNonce!(scope, value)) : base.releaseNonce!(scope, value)),
  };
}

/** Once: true the first time only. */
const once = () => {
  let spent = false;
  return () => (spent ? false : (spent = true));
};

const vpWith = async (nonce: string) => bound(w.app, [(await w.grant()).jwt], { url: EMAIL, nonce });

function suite(name: string, storeOf: () => Store) {
  describe(`${name}: giving back a faulted decision's keys never makes a made-up challenge nonce count as issued`, () => {
    const s = scopes(API);

    it('the issuance read of a made-up nonce commits but its reply is lost: the retry is refused, never allowed', async () => {
      const MADE_UP = madeUp();
      const first = once();
      const v = w.verifier({ store: hooked(storeOf(), { lostReply: (scope, value) => scope === s.issued && value === MADE_UP && first() }), nonces: 'challenge' });
      const vp = await vpWith(MADE_UP);
      const a = await decide(v, vp, grantPolicy(w), http());
      expect([a.status, codes(a)]).toEqual([503, ['STORE_UNAVAILABLE']]);
      const b = await decide(v, vp, grantPolicy(w), http());
      expect(b.ok).toBe(false);
      expect(b.status).toBe(401);
      // And never later either.
      expect((await decide(v, vp, grantPolicy(w), http())).ok).toBe(false);
    });

    it('SD-JWT (KB-JWT nonce): the same lost reply on the issuance read does not let the made-up nonce through', async () => {
      const MADE_UP = madeUp();
      const nonce = `${MADE_UP}-kb`;
      const first = once();
      const v = w.verifier({
        store: hooked(storeOf(), { lostReply: (scope, value) => scope === s.issued && value === nonce && first() }),
        nonces: 'challenge',
        tokenStatus: tokenStatusOf(w),
      });
      const sd = await sdPresent((await sdGrant(w)).token, { url: EMAIL, holder: w.app, nonce });
      const a = await decide(v, sd, grantPolicy(w), http());
      expect(a.status).toBe(503);
      const b = await decide(v, sd, grantPolicy(w), http());
      expect([b.ok, b.status]).toEqual([false, 401]);
    });

    it('the unknown-nonce refusal cannot issue its fresh nonce (503) and the store then fails to forget the made-up issuance: the used slot stays, the retry is refused', async () => {
      const MADE_UP = madeUp();
      // Every issuance of a new nonce fails during the first decision; afterwards the store answers again.
      let phase: 'first' | 'after' = 'first';
      const v = w.verifier({
        store: hooked(storeOf(), {
          down: (scope, value) => phase === 'first' && scope === s.issued && value !== MADE_UP,
          release: (scope, value, real) => (scope === s.issued ? Promise.reject(fault()) : real()),
        }),
        nonces: 'challenge',
      });
      const vp = await vpWith(MADE_UP);
      const a = await decide(v, vp, grantPolicy(w), http());
      expect([a.status, codes(a)]).toEqual([503, ['STORE_UNAVAILABLE']]);
      phase = 'after';
      const b = await decide(v, vp, grantPolicy(w), http());
      expect([b.ok, b.status]).toEqual([false, 401]);
    });

    it('a copy of the request decided while the first one is giving its keys back is not allowed on the made-up issuance', async () => {
      const MADE_UP = madeUp();
      let phase: 'first' | 'after' = 'first';
      const vp = await vpWith(MADE_UP);
      const during: GuardDecision[] = [];
      const v: ReturnType<World['verifier']> = w.verifier({
        store: hooked(storeOf(), {
          down: (scope, value) => phase === 'first' && scope === s.issued && value !== MADE_UP,
          // The copy arrives the moment the used slot is free again.
          release: async (scope, value, real) => {
            await real();
            if (scope === s.used && phase === 'first') {
              phase = 'after';
              during.push(await decide(v, vp, grantPolicy(w), http()));
            }
          },
        }),
        nonces: 'challenge',
      });
      const a = await decide(v, vp, grantPolicy(w), http());
      expect(a.status).toBe(503);
      phase = 'after';
      const later = await decide(v, vp, grantPolicy(w), http());
      // The copy did run between the releases, and neither it nor any later one is allowed.
      expect(during).toHaveLength(1);
      expect([...during, later].filter((d) => d.ok)).toEqual([]);
      expect(later.status).toBe(401);
    });

    it("gives back only keys this decision's consumeNonce answered true: the key an 'iat' verifier of the audience used first stays used", async () => {
      const iat = w.verifier({ store: storeOf() });
      const { nonce } = await w.verifier({ store: storeOf(), nonces: 'challenge' }).issueNonce();
      const vp = await vpWith(nonce);
      expect(codes(await decide(iat, vp, grantPolicy(w), http()))).toEqual([]);
      // The challenge verifier finds the proof's jti used (a replay): its refusal cannot issue a fresh nonce (503).
      let phase: 'first' | 'after' = 'first';
      const released: string[] = [];
      const v = w.verifier({
        store: hooked(storeOf(), {
          down: (scope, value) => phase === 'first' && scope === s.issued && value !== nonce,
          release: (scope, value, real) => (released.push(scope), real()),
        }),
        nonces: 'challenge',
      });
      expect((await decide(v, vp, grantPolicy(w), http())).status).toBe(503);
      phase = 'after';
      expect(released).toEqual([s.used]);
      expect(codes(await decide(iat, vp, grantPolicy(w), http()))).toEqual(['REPLAY_DETECTED']);
      expect(codes(await decide(v, vp, grantPolicy(w), http()))).toEqual(['REPLAY_DETECTED']);
    });

    it('an ISSUED nonce whose issuance read has an unknown outcome: the retry is refused with a fresh nonce, and that one is allowed once', async () => {
      const v0 = w.verifier({ store: storeOf(), nonces: 'challenge' });
      const { nonce } = await v0.issueNonce();
      const first = once();
      const v = w.verifier({ store: hooked(storeOf(), { lostReply: (scope, value) => scope === s.issued && value === nonce && first() }), nonces: 'challenge' });
      const a = await decide(v, await vpWith(nonce), grantPolicy(w), http());
      expect(a.status).toBe(503);
      const b = await decide(v, await vpWith(nonce), grantPolicy(w), http());
      expect([b.status, codes(b), typeof b.nonce]).toEqual([401, ['REPLAY_DETECTED'], 'string']);
      const c = await decide(v, await vpWith(b.nonce!), grantPolicy(w), http());
      expect([c.status, codes(c)]).toEqual([200, []]);
    });
  });
}

suite('SQLite', () => w.apiStore);

const pgUrl = pgUrlOrReport('giving back never makes a made-up challenge nonce issued, on postgres');
if (pgUrl) {
  const schemas = new Set<string>();
  let pg: Store;
  beforeAll(async () => {
    const schema = freshSchema('issuance');
    schemas.add(schema);
    pg = await openPostgresStore(pgUrl, { schema });
  });
  afterAll(async () => {
    await pg?.close();
    await dropSchemas(pgUrl, schemas);
  });
  suite('PostgreSQL', () => pg);
}
