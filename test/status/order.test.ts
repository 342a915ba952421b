import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CharterError } from '../../src/errors.js';
import {
  allocateStatusEntry,
  changeCredentialStatus,
  setCredentialStatus,
  setStatus,
  statusPropagation,
  DEFAULT_LIST_TTL_SECONDS,
  DEFAULT_MAX_STALENESS_SECONDS,
} from '../../src/status/index.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { Store } from '../../src/store/types.js';
import { makeIssuer, tempDir } from '../helpers.js';

/** Security issue §8: a status change unlocks the key first, so a refused unlock changes nothing. */
describe('setStatus: key, then bit, then signature', () => {
  let store: Store;
  const issuer = makeIssuer();
  const refused = async () => {
    throw new CharterError('WRONG_PASSPHRASE', 'the passphrase does not unlock this Charter home');
  };
  const entries: { listId: string; index: number; id: string }[] = [];

  beforeAll(async () => {
    store = await openSqliteStore(join(tempDir(), 'order.db'));
    for (const purpose of ['revocation', 'suspension'] as const) {
      for (let i = 0; i < 3; i++) {
        const id = `urn:test:${purpose}:${i}`;
        const e = await allocateStatusEntry(store, { issuerDid: issuer.did, baseUrl: 'https://issuer.example', purpose, credentialId: id });
        entries.push({ listId: e.statusListCredential.split('/').pop()!, index: Number(e.statusListIndex), id });
      }
    }
  });
  afterAll(() => store.close());

  it('property: whatever the bit and value, an issuer that cannot be unlocked leaves the list (bits, version, signature) as it was', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...entries), fc.boolean(), fc.boolean(), async (e, value, byCredential) => {
        const before = await store.getStatusList(e.listId);
        const purpose = before!.purpose;
        const attempt = byCredential ? setCredentialStatus(store, e.id, purpose, value, refused) : setStatus(store, e.listId, e.index, value, refused);
        await expect(attempt).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
        expect(await store.getStatusList(e.listId)).toEqual(before);
      }),
      { numRuns: 40 },
    );
  });

  it('with the key, the bit is committed and the list signed for that version; the change says when verifiers see it', async () => {
    const e = entries[0]!;
    const change = await changeCredentialStatus(store, e.id, 'revocation', true, async () => issuer);
    const list = (await store.getStatusList(e.listId))!;
    expect([list.signedVersion, change.index, change.value]).toEqual([list.version, e.index, true]);
    expect(change.propagation).toEqual({
      ttlSeconds: DEFAULT_LIST_TTL_SECONDS,
      maxStalenessSeconds: DEFAULT_MAX_STALENESS_SECONDS,
      verifierCacheSeconds: 60,
      visibleWithinSeconds: 120,
    });
    // A list that claims a long ttl is still trusted at most the staleness cap by a verifier.
    expect(statusPropagation({ ttlSeconds: 3600 })).toEqual({ ttlSeconds: 3600, maxStalenessSeconds: 300, verifierCacheSeconds: 300, visibleWithinSeconds: 3900 });
    // A ttl of 0 is 1 s in the Status List Token (§5.1: a positive number): a token verifier may keep it 1 s.
    expect(statusPropagation({ ttlSeconds: 0 }).visibleWithinSeconds).toBe(2);
  });
});
