// Shared by the audit-log tamper tests: a real SQLite log of alternating allows and denies, written through
// the pipeline once, and fresh copies of it altered with raw SQL behind the store's back.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { decide } from '../../src/guard/decide.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { verifyAuditLog, type AuditVerification, type VerifyAuditOptions } from '../../src/audit/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { bound } from '../http/present.js';
import { API, openWorld, type World } from '../http/world.js';
import { tempDir } from '../helpers.js';

export interface AuditLogWorld {
  w: World;
  /** The verifier's signing identity (checkpoint every 4 entries). */
  api: Issuer;
  chain: string;
  dir: string;
  /** The untouched log's file: copy it, never change it. */
  base: string;
}

/** Writes `n` decisions (even: an allow of profile/email; odd: a deny of calendar) to a new SQLite log. */
export async function writeAuditLog(n: number, prefix: string): Promise<AuditLogWorld> {
  const w = await openWorld();
  await w.home.createIdentity({ alias: 'api' });
  const api = await w.home.issuer('api');
  const dir = tempDir(prefix);
  const base = join(dir, 'base.db');
  const store = await openSqliteStore(base);
  const v = createVerifier({ aud: API, store, resolver: w.resolver, status: w.status, http: false, receipts: { signer: api, checkpointEvery: 4 } });
  const g = await w.grant();
  for (let i = 0; i < n; i++) {
    const resource = i % 2 === 0 ? 'profile/email' : 'calendar';
    await decide(
      v,
      await bound(w.app, [g.jwt]),
      { kind: 'grant', resource, action: 'read', owner: w.alice.did },
      { kind: 'claims', claims: { htm: 'GET', htu: 'http://127.0.0.1:9999/profile/email' } },
    );
  }
  const chain = v.receipts!.chain;
  await store.close();
  return { w, api, chain, dir, base };
}

let copies = 0;
/** A fresh copy of the log, altered with raw SQL, then verified through the store. */
export async function tamperedLog(
  log: AuditLogWorld,
  mutate: (db: Database.Database) => unknown,
  checkpoints: string[] = [],
  options: Omit<VerifyAuditOptions, 'resolver' | 'checkpoints'> = {},
): Promise<AuditVerification> {
  const file = join(log.dir, `copy-${copies++}.db`);
  copyFileSync(log.base, file);
  const db = new Database(file);
  await mutate(db);
  db.close();
  const store = await openSqliteStore(file);
  try {
    return await verifyAuditLog(store, { resolver: log.w.resolver, checkpoints, ...options });
  } finally {
    await store.close();
  }
}
