import { beforeAll, describe, expect, it } from 'vitest';
import { inProcess, type InProcess } from './harness.js';
import { tempDir } from '../helpers.js';

/*
 * A URL typed on the command line may hold a password. `charter http get|post` and
 * `charter config set public-url` / `init --public-url` refuse it as INVALID_ARGUMENT (exit 2),
 * in one line, and neither stdout nor stderr repeats the secret.
 */
const SECRET = 'pa55-w0rd-in-url';
let run: (args: string[], stdin?: string) => Promise<InProcess>;

function refusedQuietly(r: InProcess): void {
  expect(r.code).toBe(2);
  expect(`${r.out}\n${r.err}`).not.toContain(SECRET);
  const body = JSON.parse(r.out) as { error: { code: string } };
  expect(body.error.code).toBe('INVALID_ARGUMENT');
}

beforeAll(async () => {
  run = inProcess(tempDir('charter-url-secrets-'), () => 'correct horse battery staple', { CHARTER_ALLOW_LOOPBACK: '1' });
  expect((await run(['init', '--public-url', 'https://status.example', '--json'])).code).toBe(0);
  expect((await run(['id', 'create', '--alias', 'bot', '--json'])).code).toBe(0);
});

describe('URLs with a password on the command line', () => {
  it('http get and post: refused before anything is sent, the password not repeated', async () => {
    for (const verb of ['get', 'post']) {
      for (const url of [`http://ops:${SECRET}@127.0.0.1:9/x`, `https://${SECRET}@api.example/`, `https://ops:${SECRET} x@[::1/`]) {
        refusedQuietly(await run(['http', verb, url, '--as', 'bot', '--sign', '--json']));
      }
    }
  });

  it('config set public-url and init --public-url: refused, and the URL set before stays', async () => {
    for (const url of [`https://ops:${SECRET}@status.example`, `https://status.example/?token=${SECRET}`, `https://status.example/#${SECRET}`]) {
      refusedQuietly(await run(['config', 'set', 'public-url', url, '--json']));
    }
    const home = tempDir('charter-url-secrets-init-');
    const fresh = inProcess(home, () => 'correct horse battery staple');
    refusedQuietly(await fresh(['init', '--public-url', `https://ops:${SECRET}@status.example`, '--json']));
    const shown = await run(['config', 'get', '--json']);
    expect(shown.code).toBe(0);
    expect((JSON.parse(shown.out) as Record<string, unknown>)['public-url']).toBe('https://status.example');
  });
});
