import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openHome } from '../../src/home/home.js';
import { tempDir } from '../helpers.js';
import { inProcess } from './harness.js';

const PASS = 'reservations passphrase';
const dir = join(tempDir('charter-reservations-'), 'home');
const run = inProcess(dir, () => PASS);
const json = <T>(r: { out: string }) => JSON.parse(r.out) as T;
type Row = { reservationId: string; state: string; at: string };

/** A reservation in the home's ledger made `ageSeconds` ago and never settled (a crashed caller's). */
async function reserve(id: string, ageSeconds: number): Promise<void> {
  const home = await openHome({ home: dir, create: false, env: {} });
  try {
    const r = await home.store.reserve({
      reservationId: id,
      at: new Date(Date.now() - ageSeconds * 1000),
      entries: [{ mandateId: 'did:key:z6Mkexample urn:uuid:m-1', amount: '5', currency: 'USD' }],
    });
    expect(r.ok).toBe(true);
  } finally {
    await home.close();
  }
}

describe('charter agent reservations: list the stale ones, settle one by hand (security issue §4)', () => {
  beforeAll(async () => {
    expect((await run(['init'])).code).toBe(0);
    await reserve('stale-1', 900);
    await reserve('stale-2', 600);
    await reserve('fresh-1', 10);
  }, 90_000);

  it('--stale lists reservations held longer than 300 s by default, --older-than moves the line', async () => {
    const ids = async (...a: string[]) =>
      json<Row[]>(await run(['agent', 'reservations', ...a, '--json']))
        .map((r) => r.reservationId)
        .sort();
    expect(await ids('--stale')).toEqual(['stale-1', 'stale-2']);
    expect(await ids('--stale', '--older-than', '700s')).toEqual(['stale-1']);
    expect(await ids('--older-than', 'PT1M')).toEqual(['stale-1', 'stale-2']);
    expect(await ids('--stale', '--older-than', '0')).toEqual(['fresh-1', 'stale-1', 'stale-2']);
    expect(await ids()).toEqual(['fresh-1', 'stale-1', 'stale-2']);
    const table = await run(['agent', 'reservations', '--stale']);
    expect(table.out).toMatch(/^RESERVATION\s+AT\s+STATE\s+AMOUNT\s+LINKS\s+HOLD UNTIL\s+SETTLED\n-+/);
    expect(table.out).toMatch(/stale-1\s+\S+\s+reserved\s+5 USD\s+1/);
    const bad = await run(['agent', 'reservations', '--stale', '--older-than', 'soon']);
    expect([bad.code, bad.err]).toEqual([2, expect.stringMatching(/\[INVALID_ARGUMENT\]$/)]);
  });

  it('--release and --commit settle one explicitly; a settled or unknown one is RESERVATION_NOT_FOUND (exit 2)', async () => {
    const released = await run(['agent', 'reservations', '--release', 'stale-1', '--json']);
    expect([released.code, json(released)]).toEqual([0, { reservationId: 'stale-1', state: 'released' }]);
    expect((await run(['agent', 'reservations', '--commit', 'stale-2'])).out).toBe('committed stale-2');
    expect(json<Row[]>(await run(['agent', 'reservations', '--stale', '--json'])).map((r) => r.reservationId)).toEqual([]);
    expect(json<Row[]>(await run(['agent', 'reservations', '--state', 'released', '--json'])).map((r) => [r.reservationId, r.state])).toEqual([['stale-1', 'released']]);
    const again = await run(['agent', 'reservations', '--commit', 'stale-1', '--json']);
    expect([again.code, json<{ error: { code: string } }>(again).error.code]).toEqual([2, 'RESERVATION_NOT_FOUND']);
    const unknown = await run(['agent', 'reservations', '--release', 'nope']);
    expect([unknown.code, unknown.err]).toEqual([2, expect.stringMatching(/\[RESERVATION_NOT_FOUND\]$/)]);
    expect((await run(['agent', 'reservations', '--commit', 'a', '--release', 'b'])).code).toBe(2);
  });
});
