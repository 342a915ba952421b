import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWorld, type World } from '../agents/fixture.js';
import { issueGrant, verifyGrant } from '../../src/grants/index.js';
import { verifyCredential } from '../../src/credentials/index.js';
import type { CharterResolver } from '../../src/did/types.js';
import type { StatusChecker } from '../../src/credentials/types.js';

/**
 * A resolver or status checker of the caller's own may answer with nothing usable (undefined, an object
 * where a list belongs). The decision is then a refusal with a code that says "could not check" (503:
 * retry), never a raw TypeError and never an allow.
 */
let w: World;
beforeAll(async () => {
  w = await openWorld();
});
afterAll(async () => {
  await w.close();
});

const ANSWERS: unknown[] = [undefined, null, {}, 'ok', 0, true, { length: 0 }];

describe('foreign answers from plug-in resolvers and status checkers', () => {
  it('a resolver answering without a key: DID_RESOLUTION_FAILED', async () => {
    const owner = w.issuer('fa-owner');
    const g = await issueGrant(w.store, owner, {
      grantee: w.issuer('fa-shop').did,
      resources: ['a'],
      actions: ['read'],
      purpose: 'p',
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: w.baseUrl,
    });
    for (const answer of ANSWERS.filter((a) => typeof a !== 'object' || a === null)) {
      const resolver = { ...w.resolver, resolveKey: async () => answer } as unknown as CharterResolver;
      const v = await verifyCredential(g.jwt, { resolver, status: w.status() });
      expect([String(answer), v.ok, v.reasons.map((r) => r.code)]).toEqual([String(answer), false, ['DID_RESOLUTION_FAILED']]);
    }
  });

  it('a status checker answering without a list: STATUS_UNAVAILABLE in verifyCredential and verifyGrant', async () => {
    const owner = w.issuer('fa-owner2');
    const g = await issueGrant(w.store, owner, {
      grantee: w.issuer('fa-shop2').did,
      resources: ['a'],
      actions: ['read'],
      purpose: 'p',
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: w.baseUrl,
    });
    expect((await verifyGrant(g.jwt, { resolver: w.resolver, status: w.status(), resource: 'a', action: 'read', owner: owner.did })).ok).toBe(true);
    for (const answer of ANSWERS) {
      const status = (async () => answer) as unknown as StatusChecker;
      const v = await verifyCredential(g.jwt, { resolver: w.resolver, status });
      expect([JSON.stringify(answer), v.reasons.map((r) => r.code)]).toEqual([JSON.stringify(answer), ['STATUS_UNAVAILABLE']]);
      const d = await verifyGrant(g.jwt, { resolver: w.resolver, status, resource: 'a', action: 'read', owner: owner.did });
      expect([JSON.stringify(answer), d.ok, d.reasons.map((r) => r.code)]).toEqual([JSON.stringify(answer), false, ['STATUS_UNAVAILABLE']]);
    }
  });
});
