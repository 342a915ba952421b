import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initHome, openHome } from '../../src/home/home.js';
import { CharterError } from '../../src/errors.js';
import { everythingShown, tempDir } from '../helpers.js';

/*
 * The public URL is signed into every status entry a home issues and published with every
 * credential: a user name or password in it would go to every verifier, and a query or fragment
 * would land in the middle of each status list URL. It is refused, the refusal never repeats the
 * secret, and a home's URL already set is kept.
 */
const PASS = 'correct horse battery staple';
const SECRET = 'Tr0ub4dor-and-3';

function leaksNothing(e: unknown): CharterError {
  expect(e).toBeInstanceOf(CharterError);
  const err = e as CharterError;
  expect(err.code).toBe('INVALID_ARGUMENT');
  expect(everythingShown(err)).not.toContain(SECRET);
  expect(everythingShown(err)).not.toContain(encodeURIComponent(SECRET));
  return err;
}

const withCredentials = [
  `https://ops:${SECRET}@status.example`,
  `https://${SECRET}@status.example/charter`,
  `https://:${SECRET}@status.example`,
  `http://ops:${encodeURIComponent(SECRET)}@127.0.0.1:8080`,
  `HTTPS://OPS:${SECRET}@STATUS.EXAMPLE/`,
];
const withQueryOrFragment = ['https://status.example/?a=1', 'https://status.example/base#x', 'https://status.example/?', 'https://status.example/#'];
const unparsable = [`https://ops:${SECRET}@[::1/`, `ops:${SECRET}@status.example`, `//ops:${SECRET}@status.example`, '', ' '];

describe('the public URL', () => {
  it('init refuses a user or password, a query or fragment, or an unparsable URL, and creates no home', async () => {
    for (const publicUrl of [...withCredentials, ...withQueryOrFragment, ...unparsable]) {
      const home = join(tempDir('charter-public-url-'), 'home');
      const e = await initHome({ home, env: {}, publicUrl, passphrase: async () => PASS }).then(
        () => undefined,
        (x: unknown) => x,
      );
      const err = leaksNothing(e);
      if (withCredentials.includes(publicUrl)) expect(err.message).toMatch(/user name or password/);
      if (withQueryOrFragment.includes(publicUrl)) expect(err.message).toMatch(/query or fragment/);
      expect(existsSync(join(home, 'charter.db'))).toBe(false);
    }
  });

  it('setting it later refuses the same and keeps the URL already set', async () => {
    const home = join(tempDir('charter-public-url-'), 'home');
    await initHome({ home, env: {}, publicUrl: 'https://status.example/charter/', passphrase: async () => PASS });
    const h = await openHome({ home, env: {}, create: false, passphrase: async () => PASS });
    try {
      expect(await h.publicUrl()).toBe('https://status.example/charter');
      for (const url of [...withCredentials, ...withQueryOrFragment, ...unparsable]) {
        leaksNothing(
          await h.setPublicUrl(url).then(
            () => undefined,
            (x: unknown) => x,
          ),
        );
        expect(await h.publicUrl()).toBe('https://status.example/charter');
      }
      await h.setPublicUrl('https://status.example:8443/other');
      expect(await h.publicUrl()).toBe('https://status.example:8443/other');
    } finally {
      await h.close();
    }
  });

  it('plain http only on loopback: verifiers fetch http from loopback only, so an http URL elsewhere publishes what no one reads', async () => {
    const home = join(tempDir('charter-public-url-'), 'home');
    await initHome({ home, env: {}, publicUrl: 'https://status.example', passphrase: async () => PASS });
    const h = await openHome({ home, env: {}, create: false, passphrase: async () => PASS });
    try {
      for (const url of [
        'http://status.example',
        'http://192.168.1.10:8080',
        'http://10.0.0.2',
        'HTTP://STATUS.EXAMPLE',
        'http://localhost.status.example',
        'http://127.0.0.1.nip.io',
      ]) {
        const e = await h.setPublicUrl(url).then(
          () => undefined,
          (x: unknown) => x,
        );
        expect([url, (e as CharterError | undefined)?.code, (e as Error | undefined)?.message]).toEqual([url, 'INVALID_ARGUMENT', expect.stringMatching(/http on loopback/)]);
        expect(await h.publicUrl()).toBe('https://status.example');
      }
      for (const url of ['http://127.0.0.1:8080', 'http://localhost:9', 'http://[::1]:8080', 'http://127.1.2.3', 'http://app.localhost:8080']) {
        await h.setPublicUrl(url);
        expect(await h.publicUrl()).toBe(url);
      }
    } finally {
      await h.close();
    }
  });
});
