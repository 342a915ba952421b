import { join } from 'node:path';
import { createResolver } from '../../src/did/index.js';
import type { CharterResolver } from '../../src/did/types.js';
import type { Issuer, StatusChecker } from '../../src/credentials/types.js';
import { createStatusChecker, currentStatusListJwt } from '../../src/status/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { makeIssuer, serve, tempDir } from '../helpers.js';

/**
 * A real world for agent tests: a SQLite store in a temp dir, did:key
 * parties, and a loopback HTTP server publishing the store's status lists
 * (signed by their issuers), read by the real status checker.
 */
export interface World {
  store: Store;
  baseUrl: string;
  resolver: CharterResolver;
  /** A fresh status checker (a new verifier, with an empty list cache). */
  status: () => StatusChecker;
  issuer: (name: string) => Issuer;
  issuerFor: (did: string) => Promise<Issuer>;
  close: () => Promise<void>;
}

export async function openWorld(): Promise<World> {
  const store = await openSqliteStore(join(tempDir('charter-agents-'), 'charter.db'));
  const parties = new Map<string, Issuer>();
  const byDid = new Map<string, Issuer>();
  const issuerFor = async (did: string) => {
    const i = byDid.get(did);
    if (!i) throw new Error(`unknown issuer ${did}`);
    return i;
  };
  const server = await serve((req, res) => {
    const m = /^\/status\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '');
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    currentStatusListJwt(store, m[1]!, issuerFor).then(
      (jwt) => res.writeHead(200, { 'content-type': 'application/vc+jwt' }).end(jwt),
      () => res.writeHead(404).end(),
    );
  });
  const resolver = createResolver();
  return {
    store,
    baseUrl: server.url,
    resolver,
    status: () => createStatusChecker({ resolver, allowLoopback: true, allowHttp: true }),
    issuer: (name) => {
      let i = parties.get(name);
      if (!i) {
        i = makeIssuer();
        parties.set(name, i);
        byDid.set(i.did, i);
      }
      return i;
    },
    issuerFor,
    close: async () => {
      await server.close();
      await store.close();
    },
  };
}
