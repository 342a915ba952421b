import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPresentation } from '../../src/credentials/index.js';
import { decide } from '../../src/guard/decide.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { makeIssuer, tempDir } from '../helpers.js';

/**
 * createVerifier's default resolver refuses loopback and plain-http did:web unless allowLoopback is set
 * (VerifierOptions.allowLoopback; "a library never relaxes its network rules"): a presentation naming a
 * holder on 127.0.0.1 makes no connection there. With allowLoopback: true it does (the rule is the option's).
 */
const AUD = 'https://api.example';
let store: Store;
let server: Server;
let hits = 0;
let holderDid: string;
beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-loopback-'), 'guard.db'));
  server = createServer((_req, res) => res.writeHead(404).end());
  // Connections, not requests: an https attempt on this plain-http port is a connection too.
  server.on('connection', () => void hits++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  holderDid = `did:web:127.0.0.1%3A${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.close();
  await store.close();
});

const presentation = () => {
  const key = makeIssuer('P-256');
  return createPresentation({ holder: { ...key, did: holderDid, kid: `${holderDid}#key-1` }, credentials: [], aud: AUD });
};

describe('the default resolver of createVerifier never fetches from loopback unless allowLoopback', () => {
  it('without allowLoopback: refused (401) and nothing connects to 127.0.0.1; with it, the DID is fetched', async () => {
    const strict = createVerifier({ aud: AUD, store, http: false });
    const d = await decide(strict, await presentation(), { kind: 'presentation' }, { kind: 'none' });
    expect([d.ok, d.status]).toEqual([false, 401]);
    expect(hits).toBe(0);
    const lax = createVerifier({ aud: AUD, store, http: false, allowLoopback: true });
    expect((await decide(lax, await presentation(), { kind: 'presentation' }, { kind: 'none' })).ok).toBe(false);
    expect(hits).toBeGreaterThan(0);
  });
});
