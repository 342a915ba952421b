import { join } from 'node:path';
import { openHome, type Home } from '../../src/home/home.js';
import { serveHome, type RunningServer } from '../../src/server/serve.js';
import { issueGrant, revokeGrant } from '../../src/grants/index.js';
import { issueAgentIdentity, issueMandate, type Authority } from '../../src/agents/index.js';
import { createResolver } from '../../src/did/index.js';
import type { CharterResolver } from '../../src/did/types.js';
import type { Issuer, StatusChecker } from '../../src/credentials/types.js';
import { createStatusChecker } from '../../src/status/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { createVerifier, type Verifier, type VerifierOptions } from '../../src/guard/verifier.js';
import { tempDir } from '../helpers.js';
import { CharterError } from '../../src/errors.js';

/** The API's identifier: presentations name it in `aud`, and agents' mandates name it as counterparty. */
export const API = 'did:web:api.example';

/**
 * A real world for middleware tests: a Charter home whose status lists are
 * served by `serveHome` on 127.0.0.1 (as `charter serve` does), a data owner
 * (alice), a grantee app, and an agent with its operator and principal; the
 * API verifies with its own SQLite store (replay cache and ledger).
 */
export interface World {
  home: Home;
  server: RunningServer;
  apiStore: Store;
  resolver: CharterResolver;
  alice: Issuer;
  app: Issuer;
  agent: Issuer;
  principal: Issuer;
  operator: Issuer;
  agentIdentity: string;
  /** A status checker that tests can empty (a revocation is then seen at once). */
  status: StatusChecker;
  freshStatus(): void;
  grant(o?: { resources?: string[]; actions?: string[]; validMs?: number; to?: string }): Promise<{ id: string; jwt: string }>;
  revoke(id: string): Promise<void>;
  /** A fresh root mandate for the agent (so each test has its own budget). */
  mandate(authority?: Partial<Authority>): Promise<string>;
  verifier(o?: Partial<VerifierOptions>): Verifier;
  /**
   * Makes the API's store fail as an unreachable database does (STORE_UNAVAILABLE on the replay
   * cache and ledger); the real PostgreSQL outage is in test/store/postgres-fault.test.ts.
   */
  storeDown(down: boolean): void;
  /** Finer faults: only the ledger's commit fails (the store answers everything else). */
  faults: { commit: boolean };
  close(): Promise<void>;
}

export async function openWorld(): Promise<World> {
  const dir = tempDir('charter-http-');
  const home = await openHome({ home: join(dir, 'home'), passphrase: async () => 'http tests passphrase', allowLoopback: true });
  await home.init();
  const server = await serveHome(home, { port: 0 });
  await home.setPublicUrl(server.url);
  for (const alias of ['alice', 'app', 'agent', 'principal', 'operator']) await home.createIdentity({ alias });
  const [alice, app, agent, principal, operator] = (await Promise.all(['alice', 'app', 'agent', 'principal', 'operator'].map((a) => home.issuer(a)))) as [
    Issuer,
    Issuer,
    Issuer,
    Issuer,
    Issuer,
  ];
  const realApiStore = await openSqliteStore(join(dir, 'api.db'));
  let down = false;
  const faults = { commit: false };
  const fault = () => Promise.reject(new CharterError('STORE_UNAVAILABLE', 'the store is unreachable: try again'));
  const apiStore: Store = {
    ...realApiStore,
    consumeNonce: (...a) => (down ? fault() : realApiStore.consumeNonce(...a)),
    reserve: (...a) => (down ? fault() : realApiStore.reserve(...a)),
    previewReservation: (...a) => (down ? fault() : realApiStore.previewReservation(...a)),
    commitReservation: (...a) => (down || faults.commit ? fault() : realApiStore.commitReservation(...a)),
    releaseReservation: (...a) => (down ? fault() : realApiStore.releaseReservation(...a)),
  };
  const resolver = createResolver({ allowLoopback: true, allowHttp: true });
  let checker = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
  // Delegates to the current checker, snapshots included (what receipts record as evidence).
  const status = Object.assign((c: Parameters<StatusChecker>[0], ctx: Parameters<StatusChecker>[1]) => checker(c, ctx), { snapshot: (url: string) => checker.snapshot(url) });
  const identity = await issueAgentIdentity(home.store, operator, { agent: agent.did, name: 'shopper', software: { name: 'bot', version: '1.0.0' } });
  return {
    home,
    server,
    apiStore,
    resolver,
    alice,
    app,
    agent,
    principal,
    operator,
    agentIdentity: identity.jwt,
    status,
    freshStatus: () => {
      checker = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
    },
    grant: async (o = {}) =>
      issueGrant(home.store, alice, {
        grantee: o.to ?? app.did,
        resources: o.resources ?? ['profile/email', 'photos/*'],
        actions: o.actions ?? ['read'],
        purpose: 'tests',
        validUntil: new Date(Date.now() + (o.validMs ?? 30 * 86_400_000)),
        baseUrl: server.url,
      }),
    revoke: async (id) => {
      await revokeGrant(home.store, id, (did) => home.issuer(did));
    },
    mandate: async (a = {}) =>
      (
        await issueMandate(home.store, principal, {
          agent: agent.did,
          authority: {
            actions: ['purchase'],
            maxDelegationDepth: 0,
            limits: { perTransaction: { amount: '50', currency: 'USD' }, budget: { amount: '100', currency: 'USD', period: 'P30D' }, counterparties: [API] },
            ...a,
          },
          validUntil: new Date(Date.now() + 86_400_000),
          baseUrl: server.url,
        })
      ).jwt,
    // Test servers listen on random loopback ports, so by default their verifier binds htu to the Host
    // header (the explicit opt-in); tests of publicOrigin pass their own.
    verifier: (o = {}) =>
      createVerifier({
        aud: API,
        store: apiStore,
        resolver,
        status,
        skewSeconds: 0,
        maxAgeSeconds: 30,
        ...(o.publicOrigin !== undefined || o.http === false ? {} : { trustHostHeader: true }),
        ...o,
      }),
    faults,
    storeDown: (d) => {
      down = d;
    },
    close: async () => {
      await server.close();
      await apiStore.close();
      await home.close();
    },
  };
}
