import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/guard/decide.js';
import type { GrantPolicy } from '../../src/guard/policy.js';
import type { SdJwtStatusChecker } from '../../src/sdjwt/types.js';
import { openWorld, type World } from '../http/world.js';
import { codes, sdGrant, sdPresent, tokenStatusOf } from './seams-fixtures.js';

/**
 * An SD-JWT grant presentation's key binding JWT is used once by its nonce (decide.ts sdJwtFront), so the nonce
 * is bounded as a vp+jwt's jti is: at most 256 characters (credentials/binding.ts nonceProofReasons). A longer
 * one is refused before any signature is checked, and kept nowhere; the SD-JWT verifier alone would accept it
 * (it only compares the nonce with itself in 'iat' mode).
 */
const EMAIL = 'http://127.0.0.1:9999/profile/email';
let w: World;
let tokenStatus: SdJwtStatusChecker;
beforeAll(async () => {
  w = await openWorld();
  tokenStatus = tokenStatusOf(w);
}, 60_000);
afterAll(async () => w?.close());

const policy = (): GrantPolicy => ({ kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did });
const http = { kind: 'http' as const, method: 'GET', url: EMAIL };

describe("an SD-JWT key binding JWT's nonce is at most 256 characters", () => {
  it('257 or 4,096 characters: a 401 before any crypto; 256 characters: allowed once', async () => {
    const v = w.verifier({ tokenStatus });
    const g = await sdGrant(w);
    for (const nonce of ['n'.repeat(257), 'x'.repeat(4096)]) {
      const d = await decide(v, await sdPresent(g.token, { url: EMAIL, holder: w.app, nonce }), policy(), http);
      expect([d.ok, d.status, codes(d), d.holder], `${nonce.length} characters`).toEqual([false, 401, ['INVALID_PRESENTATION'], undefined]);
      expect(d.grant).toBeUndefined();
    }
    const p = await sdPresent(g.token, { url: EMAIL, holder: w.app, nonce: 'n'.repeat(256) });
    expect(codes(await decide(v, p, policy(), http))).toEqual([]);
    expect(codes(await decide(v, p, policy(), http))).toEqual(['REPLAY_DETECTED']);
  });
});
