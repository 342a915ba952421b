import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { accessReportUrl, sendAccessReport } from '../../src/audit/index.js';
import { makeIssuer, serve } from '../helpers.js';

/**
 * The sender's side of an access report: the grantor's server is found from a grant nobody verified, so
 * the POST follows the rules of every fetch Charter makes (safeFetch): https to public addresses unless the
 * caller allows more, no redirect, a deadline, a capped answer, and every failure a CharterError.
 */
const api = makeIssuer();
const b64 = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');
/** A vc+jwt grant (unsigned: the sender does not verify it) whose status list is at `statusUrl`. */
const grantWith = (statusUrl: unknown) =>
  `${b64({ alg: 'EdDSA', typ: 'vc+jwt' })}.${b64({
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    id: 'urn:uuid:g1',
    type: ['VerifiableCredential', 'DataAccessGrant'],
    issuer: 'did:key:zX',
    credentialSubject: { id: api.did },
    credentialStatus: { type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '1', statusListCredential: statusUrl },
  })}.AAAA`;
const local = { allowLoopback: true, allowHttp: true };

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
let seen: string[] = [];
let handler: Handler = (_req, res) => res.end('{"accepted":1}');
let srv: Awaited<ReturnType<typeof serve>>;
const held: ServerResponse[] = [];
beforeAll(async () => {
  srv = await serve((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      handler(req, res, body);
    });
  });
});
afterAll(async () => {
  for (const r of held) r.destroy();
  await srv.close();
});
const reset = (h: Handler) => {
  seen = [];
  handler = h;
};
const send = (statusUrl: unknown, options?: Parameters<typeof sendAccessReport>[2]) => sendAccessReport(api, { grant: grantWith(statusUrl), receipts: ['r'] }, options);
const failure = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return { name: (e as Error).name, code: (e as { code?: string }).code };
  }
  return 'resolved';
};

describe('sendAccessReport: where it may post', () => {
  it('by default only https to a public address: the loopback test server gets nothing (http, or loopback, not allowed)', async () => {
    reset((_req, res) => res.end('{"accepted":1}'));
    expect(await failure(send(`${srv.url}/status/1`))).toEqual({ name: 'CharterError', code: 'FORBIDDEN_ADDRESS' });
    // http allowed, loopback not: still refused, by address.
    expect(await failure(send(`${srv.url}/status/1`, { allowHttp: true }))).toEqual({ name: 'CharterError', code: 'FORBIDDEN_ADDRESS' });
    expect(await failure(send(`${srv.url}/status/1`, { allowHttp: true, allowPrivate: true }))).toEqual({ name: 'CharterError', code: 'FORBIDDEN_ADDRESS' });
    // A name that resolves to loopback is checked at connect time, not only literals.
    expect(await failure(send(`http://localhost:${srv.port}/status/1`, { allowHttp: true }))).toEqual({ name: 'CharterError', code: 'FORBIDDEN_ADDRESS' });
    expect(seen).toEqual([]);
    // Allowed explicitly: the report is posted beside the status list.
    expect(await send(`${srv.url}/status/1`, local)).toEqual({ status: 200, accepted: 1 });
    expect(seen).toEqual(['POST /access-reports application/jwt']);
  });

  it('private, link-local, metadata, mapped and unspecified addresses are refused before any connection', async () => {
    for (const host of [
      '10.0.0.1',
      '192.168.1.1',
      '172.16.0.1',
      '169.254.169.254',
      '[fe80::1]',
      '[fd00::1]',
      '[::1]',
      '[::ffff:127.0.0.1]',
      '[::ffff:a9fe:a9fe]',
      '0.0.0.0',
      '127.1',
    ]) {
      expect([host, await failure(send(`https://${host}/status/1`))]).toEqual([host, { name: 'CharterError', code: 'FORBIDDEN_ADDRESS' }]);
    }
    // allowLoopback does not open private or link-local ones.
    for (const host of ['169.254.169.254', '10.0.0.1', '[fe80::1]']) {
      expect([host, await failure(send(`https://${host}/status/1`, { allowLoopback: true, allowHttp: true }))]).toEqual([
        host,
        { name: 'CharterError', code: 'FORBIDDEN_ADDRESS' },
      ]);
    }
  });

  it('a status list that is not an http(s) URL, or none, is INVALID_ARGUMENT, never a TypeError', async () => {
    reset((_req, res) => res.end('{"accepted":1}'));
    for (const u of [
      'file:///etc/passwd',
      'data:text/plain,x',
      'ftp://example.com/x',
      'javascript:alert(1)',
      'gopher://example.com/',
      'ws://example.com/x',
      '/relative/path',
      'not a url',
      '',
      42,
      null,
    ]) {
      expect([u, await failure(send(u, local))]).toEqual([u, { name: 'CharterError', code: 'INVALID_ARGUMENT' }]);
    }
    expect(await failure(send('https://user:pw@example.com/status/1', local))).toEqual({ name: 'CharterError', code: 'INVALID_ARGUMENT' });
    expect(() => accessReportUrl(grantWith('file:///etc/passwd'))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(await failure(sendAccessReport(api, { grant: 'not a jwt', receipts: ['r'] }, local))).toEqual({ name: 'CharterError', code: 'MALFORMED_JWT' });
    expect(await failure(sendAccessReport(api, { grant: 42 as unknown as string, receipts: ['r'] }, local))).toEqual({ name: 'CharterError', code: 'INVALID_ARGUMENT' });
    expect(seen).toEqual([]);
  });
});

describe('sendAccessReport: how long and how much', () => {
  it('a server that never answers is cut off at the deadline (UNREACHABLE)', async () => {
    reset((_req, res) => void held.push(res));
    const t0 = Date.now();
    expect(await failure(send(`${srv.url}/s/1`, { ...local, timeoutMs: 400 }))).toEqual({ name: 'CharterError', code: 'UNREACHABLE' });
    expect(Date.now() - t0).toBeLessThan(3000);
    // One that trickles its answer is cut off all the same.
    reset((_req, res) => {
      res.writeHead(202, { 'content-type': 'application/json' });
      const t = setInterval(() => (res.writableEnded ? clearInterval(t) : res.write(' ')), 100);
      res.on('close', () => clearInterval(t));
    });
    const t1 = Date.now();
    expect(await failure(send(`${srv.url}/s/1`, { ...local, timeoutMs: 500 }))).toEqual({ name: 'CharterError', code: 'UNREACHABLE' });
    expect(Date.now() - t1).toBeLessThan(3000);
  });

  it('an answer over the cap is INPUT_TOO_LARGE, declared or streamed', async () => {
    const big = `{"accepted":1,"pad":"${'x'.repeat(200 * 1024)}"}`;
    reset((_req, res) => {
      res.writeHead(202, { 'content-type': 'application/json', 'content-length': String(big.length) });
      res.end(big);
    });
    expect(await failure(send(`${srv.url}/s/1`, local))).toEqual({ name: 'CharterError', code: 'INPUT_TOO_LARGE' });
    reset((_req, res) => {
      res.writeHead(202, { 'content-type': 'application/json' });
      for (let i = 0; i < 200; i++) res.write('x'.repeat(1024));
      res.end();
    });
    expect(await failure(send(`${srv.url}/s/1`, local))).toEqual({ name: 'CharterError', code: 'INPUT_TOO_LARGE' });
    expect(await failure(send(`${srv.url}/s/1`, { ...local, maxBytes: 0 }))).toEqual({ name: 'CharterError', code: 'INVALID_ARGUMENT' });
    expect(await failure(send(`${srv.url}/s/1`, { ...local, timeoutMs: Number.NaN }))).toEqual({ name: 'CharterError', code: 'INVALID_ARGUMENT' });
  });

  it('a redirect is not followed (UNREACHABLE); a closed port is UNREACHABLE', async () => {
    reset((req, res) => {
      if (req.url === '/access-reports') {
        res.writeHead(307, { location: `${srv.url}/elsewhere` });
        res.end();
      } else res.end('{"accepted":1}');
    });
    expect(await failure(send(`${srv.url}/s/1`, local))).toEqual({ name: 'CharterError', code: 'UNREACHABLE' });
    expect(seen).toEqual(['POST /access-reports application/jwt']);
    const gone = await serve(() => undefined);
    await gone.close();
    expect(await failure(send(`${gone.url}/s/1`, local))).toEqual({ name: 'CharterError', code: 'UNREACHABLE' });
  });

  it("a refusal is an answer (its status, nothing accepted); what the server says it accepted is believed only within the report's size", async () => {
    reset((_req, res) => {
      res.writeHead(429, { 'retry-after': '5' });
      res.end('{"accepted":7}');
    });
    expect(await send(`${srv.url}/s/1`, local)).toEqual({ status: 429, accepted: 0 });
    for (const body of ['{"accepted":1e9}', '{"accepted":"1"}', '{"accepted":-1}', '{"accepted":0.5}', 'null', 'not json', '']) {
      reset((_req, res) => {
        res.writeHead(202);
        res.end(body);
      });
      expect([body, await send(`${srv.url}/s/1`, local)]).toEqual([body, { status: 202, accepted: 0 }]);
    }
  });
});
