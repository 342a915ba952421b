import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPresentation, issueCredential, verifyCredential } from '../../src/credentials/index.js';
import { createResolver } from '../../src/did/index.js';
import { allocateStatusEntry, createStatusChecker, currentStatusListJwt } from '../../src/status/index.js';
import { signTokenStatusList } from '../../src/status/token-issuer.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { makeIssuer, serve, tempDir } from '../helpers.js';

/**
 * What the status list URL serves must be a BitstringStatusListCredential (Bitstring Status List §3.2
 * step 7), whoever signed it: the issuer's own key signs many other things, and none of them stands for
 * its list. Served in its place, each is STATUS_INVALID (the credential is then refused, fail closed);
 * the real list, served the same way, reads.
 */
const resolver = createResolver();
const issuer = makeIssuer('P-256');
let store: Store;
let served: string | undefined;
let server: Awaited<ReturnType<typeof serve>>;
let credential: string;
let listId: string;
beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-list-confusion-'), 's.db'));
  server = await serve((_req, res) => (served ? res.writeHead(200, { 'content-type': 'application/vc+jwt' }).end(served) : res.writeHead(404).end()));
  const entry = await allocateStatusEntry(store, { issuerDid: issuer.did, purpose: 'revocation', baseUrl: server.url, credentialId: 'urn:x:held' });
  listId = entry.statusListCredential.split('/').pop()!;
  credential = (
    await issueCredential({ issuer, id: 'urn:x:held', subject: 'did:example:holder', type: 'EmailCredential', claims: { email: 'a@example.com' }, credentialStatus: entry })
  ).jwt;
}, 60_000);
afterAll(async () => {
  await server.close();
  await store.close();
});

const codes = async () =>
  (await verifyCredential(credential, { resolver, status: createStatusChecker({ resolver, allowLoopback: true, allowHttp: true }) })).reasons.map((r) => r.code);

describe('a status list URL serving another artifact of the same issuer', () => {
  it('the real list reads (so the refusals below are the artifact, nothing else)', async () => {
    served = await currentStatusListJwt(store, listId, async () => issuer);
    expect(await codes()).toEqual([]);
  });

  it('the same list as a Status List Token, another credential, the credential itself, a presentation of the list: STATUS_INVALID', async () => {
    const list = (await store.getStatusList(listId))!;
    const real = await currentStatusListJwt(store, listId, async () => issuer);
    const others: Record<string, string> = {
      'Status List Token of the same bits': await signTokenStatusList(list, issuer),
      'another credential of the issuer': (await issueCredential({ issuer, subject: 'did:example:x', type: 'BitstringStatusList', claims: { encodedList: 'x' } })).jwt,
      'the credential itself': credential,
      'a presentation of the list': await createPresentation({ holder: issuer, credentials: [real], aud: 'did:web:x.example', nonce: 'n' }),
    };
    for (const [what, body] of Object.entries(others)) {
      served = body;
      expect([what, await codes()]).toEqual([what, ['STATUS_INVALID']]);
    }
  });

  it('the real list as a file ending in a line break still reads: the fetched body is trimmed (checker.ts), the signed bytes are the same', async () => {
    served = `${await currentStatusListJwt(store, listId, async () => issuer)}\n`;
    expect(await codes()).toEqual([]);
  });
});
