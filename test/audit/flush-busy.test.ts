import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../helpers.js';

/**
 * A script or a shutdown that awaits AuditWriter.flush() must see its entries
 * stored, even when another process holds the store for longer than the busy
 * timeout: the writer's retry timers do not keep a server up on their own,
 * so flush holds the process until it settles (it used to exit mid-wait with
 * flush never settled and the entry of a receipt already handed out lost).
 */
describe('AuditWriter.flush with the store locked by another process', () => {
  // (Before reply, the append itself refuses once the busy timeout passes: STORE_UNAVAILABLE, the decision with it.)
  for (const mode of ['after-reply'] as const) {
    it(`${mode}: the process waits, the entry is stored once the lock is gone`, async () => {
      const dir = tempDir();
      const db = join(dir, 'charter.db');
      await (await openSqliteStore(db)).close();
      const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'flush-busy.ts'), db, mode], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      const exited = new Promise<number | null>((r) => child.once('exit', r));
      for (let i = 0; i < 600 && !out.includes('ready'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out, err).toContain('ready');
      // Held well past the child's 100 ms busy timeout, so its first tries fail with SQLITE_BUSY.
      const lock = new Database(db);
      lock.exec('BEGIN IMMEDIATE');
      child.stdin.write('go\n');
      await new Promise((r) => setTimeout(r, 1500));
      lock.exec('COMMIT');
      lock.close();
      const code = await exited;
      const lines = out.trim().split('\n');
      expect([code, lines.length], err).toEqual([0, 2]);
      const result = JSON.parse(lines[1]!) as { seq: number; outcome: string; stored: number };
      expect(result).toEqual({ seq: 1, outcome: 'resolved', stored: 1 });
    }, 60_000);
  }
});

describe('the writer never keeps a process up on its own', () => {
  it('after reply with the store down and nobody awaiting flush: the checkpoint timer fires, the process still exits', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'checkpoint-down.ts')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    const killed = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await exited;
    clearTimeout(killed);
    expect([code, out.trim().split('\n')]).toEqual([0, ['handed out 1', 'closed']]);
  }, 30_000);
});
