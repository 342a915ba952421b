import { afterEach, describe, expect, it } from 'vitest';
import { isCharterError } from '../../src/errors.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import {
  createDirectoryResolver,
  directoryFor,
  signDirectory,
  signRequest,
  signatureHeaders,
  verifyDirectoryResponse,
  verifyRequestSignature,
  DIRECTORY_PATH,
  type DirectoryResponse,
} from '../../src/httpsig/index.js';
import { serve } from '../helpers.js';

/**
 * The clock options of every HTTP message signature entry point (DESIGN.md
 * "Time"): `skewSeconds` a finite number in [0, 300], `now` a valid Date. A
 * NaN bound compares false and a huge one makes every expiry pass, so each
 * bad value must be a TypeError, never a directory or signature accepted
 * long after it expired.
 */

const DAY = 86_400_000;
const AUTHORITY = 'agent.example';
const URL_OF_DIRECTORY = `https://${AUTHORITY}${DIRECTORY_PATH}`;

function key() {
  const kp = generateKeyPair('Ed25519');
  return { jwk: kp.publicJwk, signer: createSigner(kp.privateJwk) };
}

/** A directory whose binding signatures (300 s) were made `agoMs` ago. */
async function directoryFrom(agoMs: number, keys = [key()], authority = AUTHORITY): Promise<DirectoryResponse> {
  return signDirectory({ keys, authority, now: new Date(Date.now() - agoMs), expiresInSeconds: 300 });
}

const asInput = (d: DirectoryResponse) => ({ url: URL_OF_DIRECTORY, status: 200, headers: d.headers, body: d.body });

/** The code of what `fn` throws: a CharterError's code, `TypeError: <message>`, or `accepted`. */
function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'accepted';
  } catch (e) {
    if (isCharterError(e)) return e.code;
    return `${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
}

const BAD_SKEWS: unknown[] = [NaN, Infinity, -Infinity, -1, 300.5, 301, 1e9, Number.MAX_VALUE, '31536000', '60', null, true, {}, [60], 10n];
const BAD_NOWS: unknown[] = [new Date('nope'), new Date(NaN), Date.now(), 0, '2025-01-01T00:00:00Z', null, { getTime: () => Date.now() - 365 * DAY }, new Date(8.64e15 + 1)];

describe('verifyDirectoryResponse: skewSeconds and now are checked (TypeError), never switch the expiry checks off', () => {
  it('a directory whose binding signatures expired a year ago is never accepted, whatever skewSeconds is', async () => {
    const old = asInput(await directoryFrom(365 * DAY));
    expect(outcome(() => verifyDirectoryResponse(old))).toBe('DIRECTORY_INVALID');
    expect(outcome(() => verifyDirectoryResponse(old, { skewSeconds: 300 }))).toBe('DIRECTORY_INVALID');
    for (const skewSeconds of BAD_SKEWS) {
      expect(
        outcome(() => verifyDirectoryResponse(old, { skewSeconds: skewSeconds as number })),
        String(skewSeconds),
      ).toBe('TypeError: skewSeconds must be in [0, 300]');
    }
  });

  it('nor is it with a now that is not a valid Date (an Invalid Date, a number, a string, a look-alike)', async () => {
    const old = asInput(await directoryFrom(365 * DAY));
    for (const now of BAD_NOWS) {
      expect(
        outcome(() => verifyDirectoryResponse(old, { now: now as Date })),
        String(now),
      ).toBe('TypeError: verifyDirectoryResponse: now must be a valid Date');
    }
  });

  it('bad options are refused before the response is read: a good directory does not make them acceptable', async () => {
    const fresh = asInput(await directoryFrom(0));
    expect(verifyDirectoryResponse(fresh).keys[0]!.bound).toBe(true);
    expect(outcome(() => verifyDirectoryResponse(fresh, { skewSeconds: NaN }))).toMatch(/^TypeError/);
    expect(outcome(() => verifyDirectoryResponse(fresh, { now: new Date('nope') }))).toMatch(/^TypeError/);
    // Not a CharterError: a misconfigured verifier is a bug to fix, not a directory to report as invalid.
    expect(outcome(() => verifyDirectoryResponse({ ...fresh, status: 500 }, { skewSeconds: 1e9 }))).toMatch(/^TypeError/);
  });

  it('the skew still works within [0, 300]: its edges are exact, and a valid past now judges the directory then', async () => {
    const expiredBy = async (s: number) => asInput(await directoryFrom((300 + s) * 1000));
    const d290 = await expiredBy(290);
    expect(outcome(() => verifyDirectoryResponse(d290, { skewSeconds: 300 }))).toBe('accepted');
    expect(outcome(() => verifyDirectoryResponse(d290, { skewSeconds: 0 }))).toBe('DIRECTORY_INVALID');
    const d310 = await expiredBy(310);
    expect(outcome(() => verifyDirectoryResponse(d310, { skewSeconds: 300 }))).toBe('DIRECTORY_INVALID');
    const old = asInput(await directoryFrom(365 * DAY));
    expect(outcome(() => verifyDirectoryResponse(old, { now: new Date(Date.now() - 365 * DAY + 10_000), skewSeconds: 0 }))).toBe('accepted');
  });

  it('maxKeys must be a positive integer: NaN or Infinity would lift the bound on the work a directory causes', async () => {
    const two = asInput(await directoryFrom(0, [key(), key()]));
    expect(outcome(() => verifyDirectoryResponse(two, { maxKeys: 1 }))).toBe('DIRECTORY_INVALID');
    expect(outcome(() => verifyDirectoryResponse(two, { maxKeys: 2 }))).toBe('accepted');
    for (const maxKeys of [NaN, Infinity, 0, -1, 1.5, '1', null]) {
      expect(
        outcome(() => verifyDirectoryResponse(two, { maxKeys: maxKeys as number })),
        String(maxKeys),
      ).toBe('TypeError: maxKeys must be a positive integer');
    }
  });
});

const servers: Array<{ close: () => Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A server on 127.0.0.1 answering with a directory signed a year ago; counts fetches. */
async function staleDirectoryServer() {
  const k = key();
  let fetches = 0;
  let authority = '';
  const srv = await serve(async (_req, res) => {
    fetches++;
    const d = await directoryFrom(365 * DAY, [k], authority);
    res.writeHead(200, d.headers).end(d.body);
  });
  servers.push(srv);
  authority = new URL(srv.url).host;
  return { origin: srv.url, fetches: () => fetches };
}

describe('createDirectoryResolver: skewSeconds checked when built, now checked per resolve', () => {
  it('a resolver with a skew outside [0, 300] is never built', () => {
    for (const skewSeconds of BAD_SKEWS) {
      expect(
        outcome(() => createDirectoryResolver({ allowLoopback: true, skewSeconds: skewSeconds as number })),
        String(skewSeconds),
      ).toBe('TypeError: skewSeconds must be in [0, 300]');
    }
    for (const skewSeconds of [undefined, 0, 0.5, 60, 300]) expect(outcome(() => createDirectoryResolver({ skewSeconds }))).toBe('accepted');
  });

  it('a directory whose signatures expired a year ago is refused at the widest skew', async () => {
    const dir = await staleDirectoryServer();
    const r = createDirectoryResolver({ allowLoopback: true, skewSeconds: 300 });
    await expect(r.resolve(dir.origin)).rejects.toMatchObject({ code: 'DIRECTORY_INVALID' });
    expect(dir.fetches()).toBe(1);
  });

  it('resolve with a now that is not a valid Date rejects with a TypeError, fetching nothing and accepting nothing', async () => {
    const dir = await staleDirectoryServer();
    const r = createDirectoryResolver({ allowLoopback: true });
    for (const now of BAD_NOWS) {
      const p = r.resolve(dir.origin, now as Date);
      expect(p).toBeInstanceOf(Promise); // a rejection, as for every other failure of resolve
      await expect(p, String(now)).rejects.toThrow(new TypeError('DirectoryResolver.resolve: now must be a valid Date'));
    }
    expect(dir.fetches()).toBe(0);
    await expect(r.resolve(dir.origin, new Date())).rejects.toMatchObject({ code: 'DIRECTORY_INVALID' });
  });

  it('verifyRequestSignature refuses the same skews, and its default resolver never sees them', async () => {
    const k = key();
    const req = await signRequest({ method: 'GET', url: 'https://shop.example/', headers: {} }, { signer: k.signer, publicJwk: k.jwk });
    for (const skewSeconds of BAD_SKEWS) {
      await expect(verifyRequestSignature(req, { directories: 'fetch', skewSeconds: skewSeconds as number }), String(skewSeconds)).rejects.toThrow(TypeError);
    }
  });
});

describe('signing entry points: now must be a valid Date', () => {
  const request = { method: 'GET', url: 'https://shop.example/a', headers: {} as Record<string, string> };

  it('signRequest and signatureHeaders refuse an Invalid Date, a number and look-alikes (TypeError), and sign at a valid now', async () => {
    const k = key();
    for (const now of BAD_NOWS) {
      await expect(signRequest(request, { signer: k.signer, publicJwk: k.jwk, now: now as Date }), String(now)).rejects.toThrow(
        new TypeError('signRequest: now must be a valid Date'),
      );
      await expect(signatureHeaders(request, { signer: k.signer, publicJwk: k.jwk, now: now as Date }), String(now)).rejects.toThrow(
        new TypeError('signRequest: now must be a valid Date'),
      );
    }
    const at = new Date(Date.UTC(2030, 0, 1));
    const h = await signatureHeaders(request, { signer: k.signer, publicJwk: k.jwk, now: at });
    expect(h['signature-input']).toContain(`created=${at.getTime() / 1000};`);
  });

  it('signDirectory and directoryFor refuse the same (TypeError), and sign at a valid now', async () => {
    const k = key();
    for (const now of BAD_NOWS) {
      await expect(signDirectory({ keys: [k], authority: AUTHORITY, now: now as Date }), String(now)).rejects.toThrow(new TypeError('signDirectory: now must be a valid Date'));
      await expect(directoryFor({ keys: [k] })(AUTHORITY, now as Date), String(now)).rejects.toThrow(new TypeError('signDirectory: now must be a valid Date'));
    }
    const at = new Date(Date.UTC(2030, 0, 1));
    const d = await directoryFor({ keys: [k] })(AUTHORITY, at);
    expect(d.headers['signature-input']).toContain(`created=${at.getTime() / 1000};`);
    expect(outcome(() => verifyDirectoryResponse(asInput(d), { now: new Date(at.getTime() + 1000) }))).toBe('accepted');
  });
});
