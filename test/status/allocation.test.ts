import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCredential } from '../../src/credentials/index.js';
import { issueGrant, revokeGrant, suspendGrant } from '../../src/grants/index.js';
import { getBit } from '../../src/status/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import type { Issuer } from '../../src/credentials/types.js';
import { makeIssuer, tempDir } from '../helpers.js';

/**
 * The issuer side of revocation: one status entry per credential and
 * purpose however often an issue is tried under one id, so a revocation
 * always sets the bit the issued credential carries; and concurrent first
 * issues share one list (a list of one credential tells its server who is
 * being checked).
 */
const BASE = 'https://alice.example';
let store: Store;
let alice: Issuer;
const issuerFor = async () => alice;
beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-alloc-'), 's.db'));
  alice = makeIssuer();
});
afterAll(() => store.close());

const grantInput = (id?: string) => ({
  ...(id !== undefined ? { id } : {}),
  grantee: makeIssuer().did,
  resources: ['profile/email'],
  actions: ['read'],
  purpose: 'p',
  validUntil: new Date(Date.now() + 86_400_000),
  baseUrl: BASE,
});

/** The bit of one purpose at the entry the credential itself carries. */
async function bitOf(jwt: string, purpose: 'revocation' | 'suspension'): Promise<boolean> {
  const c = decodeCredential(jwt);
  const entries = Array.isArray(c.credentialStatus) ? c.credentialStatus : [c.credentialStatus!];
  const e = entries.find((x) => x.statusPurpose === purpose)!;
  const list = (await store.listStatusLists({ issuerDid: alice.did, purpose })).find((l) => l.url === e.statusListCredential)!;
  return getBit((await store.getStatusList(list.id))!.bits, Number(e.statusListIndex));
}

describe('status entries: one per credential and purpose', () => {
  it('an issue retried under the same id (refused ALREADY_EXISTS) leaves one entry per purpose; revoke and suspend set the bits the grant carries', async () => {
    const first = await issueGrant(store, alice, grantInput('urn:uuid:fixed-1'));
    for (let i = 0; i < 3; i++) await expect(issueGrant(store, alice, grantInput('urn:uuid:fixed-1'))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    const allocations = await store.findStatusAllocation('urn:uuid:fixed-1');
    expect(allocations).toHaveLength(2);
    await suspendGrant(store, first.id, issuerFor);
    expect(await bitOf(first.jwt, 'suspension')).toBe(true);
    await revokeGrant(store, first.id, issuerFor);
    expect(await bitOf(first.jwt, 'revocation')).toBe(true);
  });

  it('an issue whose credential write failed, tried again under its id, carries the entries the first try allocated', async () => {
    let fail = true;
    const flaky = new Proxy(store, {
      get(t, k, r) {
        const v = Reflect.get(t, k, r) as unknown;
        if (k === 'putCredential') {
          return async (rec: unknown) => {
            if (fail) {
              fail = false;
              throw Object.assign(new Error('busy'), { code: 'STORE_UNAVAILABLE' });
            }
            return (v as (x: unknown) => Promise<unknown>).call(t, rec);
          };
        }
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
    await expect(issueGrant(flaky, alice, grantInput('urn:uuid:retried'))).rejects.toBeDefined();
    const before = await store.findStatusAllocation('urn:uuid:retried');
    const g = await issueGrant(flaky, alice, grantInput('urn:uuid:retried'));
    expect(await store.findStatusAllocation('urn:uuid:retried')).toEqual(before);
    await revokeGrant(store, g.id, issuerFor);
    expect(await bitOf(g.jwt, 'revocation')).toBe(true);
  });

  it('concurrent first issues of a new issuer share one list per purpose', async () => {
    const bob = makeIssuer();
    await Promise.all(Array.from({ length: 12 }, () => issueGrant(store, bob, grantInput())));
    for (const purpose of ['revocation', 'suspension'] as const) {
      const lists = await store.listStatusLists({ issuerDid: bob.did, purpose });
      expect(lists.map((l) => l.allocated)).toEqual([12]);
    }
  });
});
