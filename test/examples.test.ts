import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** README says each example runs with one command; run them as a user would and check what they print. */
const ROOT = resolve(__dirname, '..');
const run = (file: string) =>
  new Promise<{ code: number; out: string }>((res) =>
    execFile(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, timeout: 60_000 }, (e, stdout, stderr) =>
      res({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    ),
  );
const statuses = (out: string) => [...out.matchAll(/→ (\d{3}) ?([A-Z_]+)?/g)].map((m) => (m[2] ? `${m[1]} ${m[2]}` : m[1]));

describe('examples/', () => {
  it("grant-api.ts: allowed, another owner's data, unauthenticated, revoked", async () => {
    const r = await run('examples/grant-api.ts');
    expect(r.code).toBe(0);
    expect(statuses(r.out)).toEqual(['200', '403 GRANT_NOT_OWNER', '401 INVALID_PRESENTATION', '403 CREDENTIAL_REVOKED']);
  }, 60_000);
  it('shop-api.ts: orders within the mandate until the budget is spent; a failed order gives its spend back; no amount, no order', async () => {
    const r = await run('examples/shop-api.ts');
    expect(r.code).toBe(0);
    expect(statuses(r.out)).toEqual(['201', '403 AUTHORITY_EXCEEDED', '409', '201', '403 BUDGET_EXCEEDED', '400 AMOUNT_REQUIRED']);
  }, 60_000);
});
