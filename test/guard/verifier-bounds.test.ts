import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MAX_AGE_SECONDS, MAX_SKEW_SECONDS } from '../../src/credentials/time.js';
import { createVerifier, type VerifierOptions } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { tempDir } from '../helpers.js';

/**
 * createVerifier's option checks at their edges (mutation testing of
 * src/guard/verifier.ts found each bound could move, or a check go, with no
 * test failing): the last value inside each range is taken, the first
 * outside is a TypeError, and so is each malformed spelling.
 */
let store: Store;
beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-verifier-bounds-'), 'v.db'));
});
afterAll(async () => store.close());

const make = (o: Partial<VerifierOptions> & Record<string, unknown>) => () => createVerifier({ aud: 'did:web:api.example', store, http: false, ...o } as VerifierOptions);

describe('createVerifier: numeric options at their range edges', () => {
  const ranges: Array<[string, number, number]> = [
    ['maxAgeSeconds', 1, MAX_MAX_AGE_SECONDS],
    ['skewSeconds', 0, MAX_SKEW_SECONDS],
    ['nonceTtlSeconds', 1, 3600],
    ['holdTimeoutSeconds', 1, 366 * 86_400],
  ];
  for (const [name, min, max] of ranges) {
    it(`${name}: [${min}, ${max}]`, () => {
      expect(make({ [name]: min })()[name as 'maxAgeSeconds']).toBe(min);
      expect(make({ [name]: max })()[name as 'maxAgeSeconds']).toBe(max);
      for (const bad of [min - 1, max + 1, min - 0.5, max + 0.5, Number.NaN, Infinity, -Infinity, String(min)]) {
        expect(make({ [name]: bad }), `${name}=${String(bad)}`).toThrow(TypeError);
      }
    });
  }

  it('a challenge nonce lives nonceTtlSeconds', async () => {
    for (const ttl of [1, 120, 3600]) {
      const before = Date.now();
      const { expiresAt } = await make({ nonceTtlSeconds: ttl, nonces: 'challenge' })().issueNonce();
      expect(expiresAt.getTime(), String(ttl)).toBeGreaterThanOrEqual(before + ttl * 1000);
      expect(expiresAt.getTime(), String(ttl)).toBeLessThanOrEqual(Date.now() + ttl * 1000);
    }
  });
});

describe('createVerifier: the other option checks', () => {
  it('aud: a non-empty string of at most 2048 characters', () => {
    expect(make({ aud: `did:web:${'a'.repeat(2040)}` })().aud).toHaveLength(2048);
    for (const aud of [`did:web:${'a'.repeat(2041)}`, '', 7, undefined]) expect(make({ aud } as never), String(aud).slice(0, 20)).toThrow(TypeError);
  });

  it("nonces: 'iat' or 'challenge' only", () => {
    expect(make({})().nonces).toBe('iat');
    expect(make({ nonces: 'challenge' })().nonces).toBe('challenge');
    for (const nonces of ['IAT', 'none', '', true]) expect(make({ nonces } as never), String(nonces)).toThrow(TypeError);
  });

  it('store: a Charter store (replay cache and ledger both)', () => {
    const { reserve: _r, ...noLedger } = store;
    const { consumeNonce: _c, ...noCache } = store;
    for (const s of [noLedger, noCache, { ...store, reserve: 'x' }, null]) expect(make({ store: s } as never)).toThrow(TypeError);
  });

  it('realm: no quote, backslash or line break (it is written into WWW-Authenticate)', () => {
    expect(make({ realm: 'api example' })().realm).toBe('api example');
    for (const realm of ['a"b', 'a\\b', 'a\rb', 'a\nb', 7]) expect(make({ realm } as never), JSON.stringify(realm)).toThrow(TypeError);
  });

  it('onRouteError: a function or nothing', () => {
    const f = () => undefined;
    expect(make({ onRouteError: f })().onRouteError).toBe(f);
    for (const onRouteError of ['log', 1, {}]) expect(make({ onRouteError } as never), String(onRouteError)).toThrow(TypeError);
  });

  it('exactly one of publicOrigin, trustHostHeader: true, http: false', () => {
    const bare = (o: Record<string, unknown>) => () => createVerifier({ aud: 'did:web:api.example', store, ...o } as never);
    expect(bare({ http: false })().http).toBe(false);
    expect(bare({ trustHostHeader: true })().http).toBe('host-header');
    expect(bare({ publicOrigin: 'https://api.example' })().http).toEqual({ origin: 'https://api.example' });
    for (const o of [
      {},
      { http: false, trustHostHeader: true },
      { http: false, publicOrigin: 'https://api.example' },
      { trustHostHeader: true, publicOrigin: 'https://api.example' },
    ]) {
      expect(bare(o), JSON.stringify(o)).toThrow(TypeError);
    }
  });

  it('publicOrigin: an http(s) origin only, spelt as one', () => {
    const at = (publicOrigin: string) => () => createVerifier({ aud: 'did:web:api.example', store, publicOrigin });
    for (const ok of ['https://api.example', 'https://api.example/', 'http://127.0.0.1:8080', 'HTTPS://API.example:443']) expect(at(ok)().http, ok).toBeTypeOf('object');
    for (const bad of [
      'ftp://api.example',
      'ws://api.example',
      'https://api.example/base',
      'https://api.example/?q',
      'https://api.example/#f',
      'https://u:p@api.example',
      // WHATWG URL reads these as the site root; the spelling is not an origin.
      'https:api.example',
      'https://api.example/.',
      'https://api.example\\',
      'api.example',
    ]) {
      expect(at(bad), bad).toThrow(TypeError);
    }
  });
});
