import { describe, expect, it } from 'vitest';
import { EXIT_CODE, ERROR_CODES, type CharterErrorCode } from '../../src/errors.js';
import { runCommand, type CliContext } from '../../src/cli/io.js';

/**
 * A refused decision exits 1; one refused only for faults (every reason's
 * code a fault in the one edge table: a status list or DID document that
 * could not be had, the store down) was not decided and exits 3, as the
 * error itself would (README "Exit codes").
 */
async function exitOf(result: unknown): Promise<number | undefined> {
  let code: number | undefined;
  const ctx = { stdout: () => undefined, stderr: () => undefined, setExitCode: (c: number) => (code = c) } as unknown as CliContext;
  await runCommand(
    ctx,
    { json: true },
    async () => result,
    () => '',
  );
  return code;
}
const reason = (code: string) => ({ code, message: 'm' });
const faults = ERROR_CODES.filter((c) => EXIT_CODE[c] === 3);
const refusals = ERROR_CODES.filter((c) => EXIT_CODE[c] === 1);

describe('the exit code of a refused decision', () => {
  it('every reason a fault (STATUS_UNAVAILABLE, DID_RESOLUTION_FAILED, STORE_UNAVAILABLE, ...): 3', async () => {
    expect(faults).toEqual(expect.arrayContaining<CharterErrorCode>(['STATUS_UNAVAILABLE', 'DID_RESOLUTION_FAILED', 'STORE_UNAVAILABLE']));
    for (const c of faults) expect([c, await exitOf({ ok: false, reasons: [reason(c)] })]).toEqual([c, 3]);
    expect(await exitOf({ ok: false, reasons: [reason('STATUS_UNAVAILABLE'), reason('DID_RESOLUTION_FAILED')] })).toBe(3);
  });
  it('any definite refusal among them decides it: 1 (a revoked or expired credential is refused whatever else failed)', async () => {
    for (const c of refusals) expect([c, await exitOf({ ok: false, reasons: [reason('STATUS_UNAVAILABLE'), reason(c)] })]).toEqual([c, 1]);
    expect(await exitOf({ ok: false, reasons: [reason('CREDENTIAL_REVOKED')] })).toBe(1);
  });
  it('no reasons, reasons of an unknown code or shape, or not a list: 1 (never 0, never a guess at 3)', async () => {
    for (const reasons of [undefined, [], [reason('NOT_A_CODE')], [{}], [null], 'STATUS_UNAVAILABLE', [reason('__proto__')], [reason('toString')]]) {
      expect([reasons, await exitOf({ ok: false, reasons })]).toEqual([reasons, 1]);
    }
    expect(await exitOf({ ok: false, reasons: [reason('STATUS_UNAVAILABLE'), reason('NOT_A_CODE')] })).toBe(1);
  });
  it('allowed: 0', async () => {
    expect(await exitOf({ ok: true, reasons: [] })).toBe(0);
    expect(await exitOf({ ok: true })).toBe(0);
  });
});
