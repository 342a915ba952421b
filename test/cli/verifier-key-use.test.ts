import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/keys/index.js';
import { tempDir } from '../helpers.js';
import { inProcess } from './harness.js';

/**
 * `evidence verify --verifier-key FILE`: RFC 7517 §4.2-4.3, a key marked for encryption verifies
 * nothing (keys/jwk.ts assertVerifyUse), and the CLI must not strip the mark before the library
 * sees the key. A lone JWK so marked is refused (exit 2, naming the file); a JWK Set (a verifier's
 * published keys) may hold one beside its signing keys: it is left out, and a set of nothing
 * else is refused. Read before the bundle, so a bundle that is not one never hides the answer.
 */
const dir = tempDir('charter-vkey-');
const run = inProcess(dir, () => 'unused');
const bundle = join(dir, 'bundle.json');
writeFileSync(bundle, '{"not":"a bundle"}');
const file = (name: string, v: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(v));
  return p;
};

describe('evidence verify --verifier-key: keys marked for encryption', () => {
  const ed = generateKeyPair('Ed25519').publicJwk;
  const p256 = generateKeyPair('P-256').publicJwk;

  it('a lone JWK for encryption, or a set of nothing else, is refused naming the file', async () => {
    for (const [i, extra] of [{ use: 'enc' }, { key_ops: ['deriveKey'] }, { use: 'enc', key_ops: ['verify'] }].entries()) {
      for (const [j, v] of [
        { ...ed, ...extra },
        {
          keys: [
            { ...ed, ...extra },
            { ...p256, ...extra },
          ],
        },
      ].entries()) {
        const f = file(`k-${i}-${j}.json`, v);
        const r = await run(['evidence', 'verify', bundle, '--verifier-key', f]);
        expect([JSON.stringify(extra), j, r.code, r.err]).toEqual([
          JSON.stringify(extra),
          j,
          2,
          expect.stringMatching(new RegExp(`${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*(for "enc"|verify|signatures).*\\[INVALID_ARGUMENT\\]`, 's')),
        ]);
      }
    }
  });

  it('a set holding a signing key beside an encryption key is read (the bundle is then what is refused)', async () => {
    for (const v of [
      ed,
      {
        keys: [
          { ...ed, use: 'sig' },
          { ...p256, use: 'enc' },
        ],
      },
    ]) {
      const f = file(`ok-${Math.random()}.json`, v);
      const r = await run(['evidence', 'verify', bundle, '--verifier-key', f]);
      expect(r.err).not.toContain(f);
      expect(r.code).not.toBe(0);
    }
  });

  it('a JWK Set with no key at all is refused as a usage error naming the file (exit 2), not a fault (exit 3)', async () => {
    // A bundle of the right shape, so the keys reach the library's check (checkShape runs first).
    const shaped = file('shaped.json', {
      type: 'CharterEvidenceBundle',
      version: 1,
      receipt: 'x',
      settlements: [],
      credentials: [],
      dids: {},
      statusLists: {},
      log: { entries: [], checkpoint: 'x' },
    });
    for (const v of [{ keys: [] }, { keys: [{ ...ed, use: 'enc' }] }]) {
      const f = file(`empty-${Math.random()}.json`, v);
      const r = await run(['evidence', 'verify', shaped, '--verifier-key', f]);
      expect([JSON.stringify(v).slice(0, 12), r.code, r.err]).toEqual([
        JSON.stringify(v).slice(0, 12),
        2,
        expect.stringMatching(/holds no key for verifying signatures.*\[INVALID_ARGUMENT\]/s),
      ]);
    }
  });
});
