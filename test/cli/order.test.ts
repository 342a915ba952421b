import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { openHome } from '../../src/home/home.js';
import { tempDir } from '../helpers.js';
import { inProcess } from './harness.js';

/**
 * Security issue §8, order of effects: revoke, suspend and resume unlock the
 * signing key before they change anything, so a caller with the wrong
 * passphrase is refused (WRONG_PASSPHRASE, exit 2) and leaves the status bit
 * and the signed list exactly as they were.
 */
const RIGHT = 'order of effects passphrase';
const dir = join(tempDir('charter-order-'), 'home');
let passphrase = RIGHT;
const run = inProcess(dir, () => passphrase);
const json = <T>(r: { out: string }) => JSON.parse(r.out) as T;

/** Every list a credential has an entry in: its bits, version and signed form. */
async function snapshot(id: string) {
  const home = await openHome({ home: dir, create: false, env: {} });
  try {
    const out: Record<string, unknown> = {};
    for (const a of await home.store.findStatusAllocation(id)) {
      const l = (await home.store.getStatusList(a.listId))!;
      out[l.purpose] = { bits: Buffer.from(l.bits).toString('base64'), version: l.version, signedVersion: l.signedVersion, signedJwt: l.signedJwt };
    }
    return out;
  } finally {
    await home.close();
  }
}

type Case = { name: string; args: (id: string) => string[]; id: () => string };

describe('revoke, suspend and resume with the wrong passphrase change nothing', () => {
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    expect((await run(['init', '--public-url', 'http://127.0.0.1:9'])).code).toBe(0);
    for (const a of ['alice', 'shop', 'acme']) expect((await run(['id', 'create', '--alias', a])).code).toBe(0);
    expect((await run(['agent', 'create', '--alias', 'bot', '--as', 'acme'])).code).toBe(0);
    const grant = () => run(['grant', 'issue', '--as', 'alice', '--to', 'shop', '--resource', 'profile/email', '--action', 'read', '--expires', '30d', '--json']);
    ids.grant = json<{ id: string }>(await grant()).id;
    ids.suspended = json<{ id: string }>(await grant()).id;
    expect((await run(['grant', 'suspend', ids.suspended])).code).toBe(0);
    ids.mandate = json<{ id: string }>(await run(['agent', 'authorize', '--as', 'alice', '--agent', 'bot', '--action', 'purchase', '--json'])).id;
    const receipt = json<{ jwt: string }>(await run(['rep', 'receipt', '--as', 'bot', '--counterparty', 'shop', '--interaction', 'o-1', '--json'])).jwt;
    ids.attestation = json<{ id: string }>(await run(['rep', 'attest', '--as', 'shop', '--receipt', receipt, '--score', '0.8', '--json'])).id;
    const bob = json<{ did: string }>(await run(['id', 'create', '--alias', 'bob', '--key', 'p256', '--json'])).did;
    ids.sdjwt = json<{ id: string }>(
      await run(['sd-jwt', 'issue', '--as', 'alice', '--subject', bob, '--type', 'https://example.com/vct/Email', '--claims', '{"email":"b@x.y"}', '--json']),
    ).id;
  }, 240_000);

  const cases: Case[] = [
    { name: 'grant suspend', args: (id) => ['grant', 'suspend', id], id: () => ids.grant! },
    // after suspend: a revoked grant cannot be suspended
    { name: 'grant revoke', args: (id) => ['grant', 'revoke', id], id: () => ids.grant! },
    { name: 'grant resume', args: (id) => ['grant', 'resume', id], id: () => ids.suspended! },
    { name: 'agent revoke (a mandate)', args: (id) => ['agent', 'revoke', id], id: () => ids.mandate! },
    { name: 'rep revoke (an attestation)', args: (id) => ['rep', 'revoke', id], id: () => ids.attestation! },
    { name: 'sd-jwt revoke', args: (id) => ['sd-jwt', 'revoke', id], id: () => ids.sdjwt! },
  ];

  it('property: for every verb and kind, any wrong passphrase exits 2 (WRONG_PASSPHRASE) and leaves bit and signed list as they were', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...cases),
        fc.string({ minLength: 1, maxLength: 40 }).filter((p) => p !== RIGHT),
        async (c, wrong) => {
          const before = await snapshot(c.id());
          passphrase = wrong;
          try {
            const r = await run([...c.args(c.id()), '--json']);
            expect(r.code).toBe(2);
            expect(json<{ error: { code: string } }>(r).error.code).toBe('WRONG_PASSPHRASE');
          } finally {
            passphrase = RIGHT;
          }
          expect(await snapshot(c.id())).toEqual(before);
        },
      ),
      { numRuns: 30 },
    );
  }, 240_000);

  it.each(cases.map((c) => [c.name, c] as const))(
    '%s with the right passphrase does change the bit (the property above can fail)',
    async (_n, c) => {
      const before = await snapshot(c.id());
      const r = await run(c.args(c.id()));
      expect([r.code, r.err]).toEqual([0, '']);
      const after = await snapshot(c.id());
      expect(after).not.toEqual(before);
      // The changed list is signed from the committed bits: the stored signature is for its current version.
      const changed = Object.entries(after as Record<string, { version: number; signedVersion?: number }>).filter(
        ([p, l]) => l.version !== (before as Record<string, { version: number }>)[p]!.version,
      );
      expect(changed).toHaveLength(1);
      for (const [, l] of changed) expect(l.signedVersion).toBe(l.version);
    },
    60_000,
  );
});
