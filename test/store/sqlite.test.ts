import { statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { ensureHome } from '../../src/home/dir.js';
import { tempDir } from '../helpers.js';
import { runStoreContract } from './contract.js';

runStoreContract('sqlite', () => openSqliteStore(join(tempDir(), 'charter.db')));

function run(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.stderr.on('data', (d: Buffer) => (err += d));
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
  });
}

describe('sqlite store files', () => {
  it('creates the database 0600 inside a 0700 home', async () => {
    const home = ensureHome(join(tempDir(), 'home'));
    const s = await openSqliteStore(join(home, 'charter.db'));
    await s.close();
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, 'charter.db')).mode & 0o777).toBe(0o600);
  });

  it('real parallel processes never overspend any link of a chain and never share a status index', async () => {
    const db = join(tempDir(), 'shared.db');
    const init = await openSqliteStore(db);
    await init.createStatusList({ id: 'l', issuerDid: 'did:key:zi', purpose: 'revocation', size: 131072, ttlSeconds: 60, url: 'https://x/status/l' });
    await init.close();
    // 4 processes x 15 reservations of 7 USD against a chain whose tighter link allows 60: exactly 8 fit.
    const outs = await Promise.all([0, 1, 2, 3].map((w) => run('sqlite-worker.ts', [db, String(w), '15'])));
    const results = outs.map((o) => JSON.parse(o) as { ok: number; indices: number[] });
    expect(results.reduce((a, r) => a + r.ok, 0)).toBe(8);
    const check = await openSqliteStore(db);
    const usage = await check.previewReservation({
      reservationId: 'q',
      at: new Date(),
      entries: [{ mandateId: 'parent', amount: '0', currency: 'USD', budget: { amount: '100', currency: 'USD', periodSeconds: 3600 } }],
    });
    expect(usage.usage[0]!.spent).toBe('56');
    await check.close();
    const all = results.flatMap((r) => r.indices);
    expect(all.length).toBe(60);
    expect(new Set(all).size).toBe(60);
  }, 60_000);
});
