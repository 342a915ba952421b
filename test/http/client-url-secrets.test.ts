import { describe, expect, it } from 'vitest';
import { charterFetch } from '../../src/http/client.js';
import { CharterError } from '../../src/errors.js';
import { everythingShown, makeIssuer } from '../helpers.js';

/*
 * A URL may carry a password (https://user:secret@host/). charterFetch refuses it before anything
 * is presented or sent, as INVALID_ARGUMENT, and no part of the refusal (message, JSON, the error
 * object's own properties) repeats the secret: fetch's own TypeError keeps the whole URL as `input`.
 */
const SECRET = 'hunter2-s3cret';
const holder = makeIssuer();

function counting() {
  const calls: string[] = [];
  const fetch = (async (input: string | URL | Request) => {
    calls.push(String(input));
    return new Response('ok');
  }) as typeof globalThis.fetch;
  return { calls, fetch };
}

async function refusal(url: string | URL): Promise<CharterError> {
  const f = counting();
  const e = await charterFetch(url, {}, { holder, credentials: ['not-even-a-credential'], fetch: f.fetch }).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(f.calls).toEqual([]);
  expect(e).toBeInstanceOf(CharterError);
  const err = e as CharterError;
  expect(err.code).toBe('INVALID_ARGUMENT');
  expect(everythingShown(err)).not.toContain(SECRET);
  expect(everythingShown(err)).not.toContain(encodeURIComponent(SECRET));
  return err;
}

describe('charterFetch: URLs with credentials, unparsable or not http(s)', () => {
  const withCredentials = [
    `https://alice:${SECRET}@api.example/data`,
    `https://${SECRET}@api.example/data`,
    `https://:${SECRET}@api.example/data`,
    `http://alice:${encodeURIComponent(SECRET)}@127.0.0.1:8080/x?q=1`,
    `HTTPS://alice:${SECRET}@API.EXAMPLE`,
    `https://alice:${SECRET}@@api.example/`,
  ];
  for (const url of withCredentials) {
    it(`a user or password is refused, as text and as a URL object: ${url.replace(SECRET, '…')}`, async () => {
      expect((await refusal(url)).message).toMatch(/user name or password/);
      expect((await refusal(new URL(url))).message).toMatch(/user name or password/);
    });
  }

  it('an unparsable URL holding a password is refused without repeating it', async () => {
    for (const url of [`https://alice:${SECRET} @api.example/`, `https://alice:${SECRET}@[::1/`, `alice:${SECRET}@api.example`, `//alice:${SECRET}@api.example/`]) {
      expect((await refusal(url)).message).toMatch(/not an absolute http\(s\) URL|must be http\(s\)|user name or password/);
    }
  });

  it('a scheme other than http(s) is INVALID_ARGUMENT, not a TypeError', async () => {
    for (const url of ['ftp://api.example/x', 'file:///etc/passwd', `data:text/plain,${SECRET}`, 'javascript:alert(1)']) {
      expect((await refusal(url)).message).toMatch(/must be http\(s\)/);
    }
  });

  it('a plain http(s) URL still goes out, once, with its query', async () => {
    const f = counting();
    const r = await charterFetch('http://127.0.0.1:9/x?page=2', {}, { holder, credentials: [], fetch: f.fetch });
    expect(r.status).toBe(200);
    expect(f.calls).toEqual(['http://127.0.0.1:9/x?page=2']);
  });
});
