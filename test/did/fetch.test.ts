import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Server as TcpServer, Socket } from 'node:net';
import { createDidWeb, createResolver, safeFetch } from '../../src/did/index.js';
import { DEFAULT_FETCH_DEADLINE_MS } from '../../src/did/fetch.js';
import { generateKeyPair } from '../../src/keys/index.js';
import { isCharterError, type CharterErrorCode } from '../../src/errors.js';
import { serve } from '../helpers.js';

async function timed(p: () => Promise<unknown>): Promise<{ code: CharterErrorCode | 'NONE' | 'OTHER'; ms: number }> {
  const start = performance.now();
  try {
    await p();
    return { code: 'NONE', ms: performance.now() - start };
  } catch (e) {
    return { code: isCharterError(e) ? e.code : 'OTHER', ms: performance.now() - start };
  }
}

/** A raw TCP server on 127.0.0.1 that writes `bytes` one byte every `everyMs`, for as long as the client stays. */
async function dripServer(bytes: string, everyMs: number): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setInterval>>();
  const server: TcpServer = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    let i = 0;
    const t = setInterval(() => {
      if (socket.destroyed) return clearInterval(t);
      socket.write(bytes[i % bytes.length]!);
      i++;
    }, everyMs);
    timers.add(t);
    socket.on('close', () => {
      clearInterval(t);
      sockets.delete(socket);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const t of timers) clearInterval(t);
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const local = { allowLoopback: true, allowHttp: true } as const;
const DEADLINE = 300;
/** Generous upper bound for a 300 ms deadline on a shared 2-core machine; the idle timer alone would never fire. */
const BOUND = 1500;

describe('safeFetch: a wall-clock deadline for the whole response', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((c) => c()));
  });

  it('cuts off a body dripped one byte at a time (the socket is never idle)', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const t = setInterval(() => res.write(' '), 20);
      res.on('close', () => clearInterval(t));
    });
    closers.push(srv.close);
    const r = await timed(() => safeFetch(`${srv.url}/drip`, { ...local, timeoutMs: DEADLINE }));
    expect(r.code).toBe('DID_RESOLUTION_FAILED');
    expect(r.ms).toBeGreaterThanOrEqual(DEADLINE - 20);
    expect(r.ms).toBeLessThan(BOUND);
  });

  it('cuts off a status line and headers dripped one byte at a time', async () => {
    const srv = await dripServer('HTTP/1.1 200 OK\r\nX-Slow: ' + 'a'.repeat(1000), 20);
    closers.push(srv.close);
    const r = await timed(() => safeFetch(`http://127.0.0.1:${srv.port}/`, { ...local, timeoutMs: DEADLINE }));
    expect(r.code).toBe('DID_RESOLUTION_FAILED');
    expect(r.ms).toBeGreaterThanOrEqual(DEADLINE - 20);
    expect(r.ms).toBeLessThan(BOUND);
  });

  it("fails with the caller's code (STATUS_UNAVAILABLE for status lists)", async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(200);
      const t = setInterval(() => res.write('x'), 20);
      res.on('close', () => clearInterval(t));
    });
    closers.push(srv.close);
    const r = await timed(() => safeFetch(`${srv.url}/list`, { ...local, timeoutMs: DEADLINE, failCode: 'STATUS_UNAVAILABLE' }));
    expect(r.code).toBe('STATUS_UNAVAILABLE');
    expect(r.ms).toBeLessThan(BOUND);
  });

  it('bounds a server that accepts and never answers', async () => {
    const srv = await serve(() => undefined);
    closers.push(srv.close);
    const r = await timed(() => safeFetch(`${srv.url}/silent`, { ...local, timeoutMs: DEADLINE }));
    expect(r.code).toBe('DID_RESOLUTION_FAILED');
    expect(r.ms).toBeLessThan(BOUND);
  });

  it("a did:web resolution against a dripping server fails with DID_RESOLUTION_FAILED within the resolver's timeoutMs", async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/did+json' });
      const t = setInterval(() => res.write(' '), 20);
      res.on('close', () => clearInterval(t));
    });
    closers.push(srv.close);
    const did = `did:web:127.0.0.1%3A${srv.port}`;
    const r = await timed(() => createResolver({ ...local, timeoutMs: DEADLINE }).resolveKey(did, `${did}#key-1`, 'assertionMethod'));
    expect(r.code).toBe('DID_RESOLUTION_FAILED');
    expect(r.ms).toBeLessThan(BOUND);
  });

  it('a response that completes in time is unaffected, and the deadline defaults to 5 s', async () => {
    const doc = createDidWeb({ domain: 'example.com', publicJwk: generateKeyPair().publicJwk }).document;
    const srv = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/did+json' });
      res.write(JSON.stringify(doc).slice(0, 10));
      setTimeout(() => res.end(JSON.stringify(doc).slice(10)), 50);
    });
    closers.push(srv.close);
    const res = await safeFetch(`${srv.url}/ok`, { ...local, timeoutMs: DEADLINE });
    expect(JSON.parse(res.body.toString())).toEqual(doc);
    expect(DEFAULT_FETCH_DEADLINE_MS).toBe(5000);
  });

  it('refuses a deadline that is not a positive number', async () => {
    for (const timeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '300' as unknown as number]) {
      expect((await timed(() => safeFetch('https://example.com/', { timeoutMs }))).code).toBe('INVALID_ARGUMENT');
    }
  });

  it('a body cut short before its declared length is a failure, not a short document', async () => {
    const srv = await serve((req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('{"id":');
      setTimeout(() => req.socket.destroy(), 20);
    });
    closers.push(srv.close);
    expect((await timed(() => safeFetch(`${srv.url}/short`, { ...local, timeoutMs: 2000 }))).code).toBe('DID_RESOLUTION_FAILED');
  });
});

describe('safeFetch: response headers', () => {
  let tcp: { port: number; close: () => Promise<void> };
  let srv: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    srv = await serve((_req, res) => {
      res.setHeader('X-Key-Directory', 'yes');
      res.setHeader('Signature-Agent', '"https://agent.example"');
      res.setHeader('Cache-Control', ['max-age=60', 'public']);
      res.setHeader('Content-Type', 'application/http-message-signatures-directory+json');
      res.end('{}');
    });
    // A raw server to send header names Node's server would not produce.
    const server = createTcpServer((socket) => {
      socket.on('error', () => undefined);
      socket.on('data', () => socket.end('HTTP/1.1 200 OK\r\n__proto__: polluted\r\nconstructor: c\r\nX-Mixed-Case: V\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    tcp = { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((r) => server.close(() => r())) };
  });
  afterAll(async () => {
    await srv.close();
    await tcp.close();
  });

  it('are returned by lower-case name, repeated fields joined (RFC 9110 §5.3)', async () => {
    const res = await safeFetch(`${srv.url}/.well-known/http-message-signatures-directory`, local);
    expect(res.headers['x-key-directory']).toBe('yes');
    expect(res.headers['signature-agent']).toBe('"https://agent.example"');
    expect(res.headers['cache-control']).toBe('max-age=60, public');
    expect(res.headers['content-type']).toBe(res.contentType);
    expect(Object.keys(res.headers).every((k) => k === k.toLowerCase())).toBe(true);
    expect(Object.isFrozen(res.headers)).toBe(true);
  });

  it('a header named __proto__ is just a header', async () => {
    const res = await safeFetch(`http://127.0.0.1:${tcp.port}/`, local);
    expect(Object.getPrototypeOf(res.headers)).toBe(null);
    expect(res.headers['__proto__']).toBe('polluted');
    expect(res.headers['constructor']).toBe('c');
    expect(res.headers['x-mixed-case']).toBe('V');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

/*
 * The address check runs when a socket is made (its lookup); a keep-alive
 * socket handed to a later request skips it. A socket must only ever serve
 * the address policy that checked it.
 */
describe('safeFetch: a pooled keep-alive socket serves only the policy that checked its address', () => {
  let srv: Awaited<ReturnType<typeof serve>>;
  let connections = 0;
  const paths: string[] = [];
  let key: ReturnType<typeof generateKeyPair>['publicJwk'];
  beforeAll(async () => {
    key = generateKeyPair().publicJwk;
    srv = await serve((req, res) => {
      paths.push(req.url ?? '');
      const seg = (req.url ?? '').split('/')[1]!;
      const { document } = createDidWeb({ domain: `did:web:localhost%3A${srv.port}:${seg}`, publicJwk: key });
      res.writeHead(200, { 'content-type': 'application/did+json' }).end(JSON.stringify(document));
    });
    srv.server.on('connection', () => connections++);
  });
  afterAll(() => srv.close());
  // A host name, not an IP literal: the literal is checked before any socket, the name only in the lookup.
  const url = (path: string) => `http://localhost:${srv.port}/${path}/did.json`;

  it('a strict fetch after a lenient one to the same host:port is still FORBIDDEN_ADDRESS', async () => {
    expect((await safeFetch(url('open'), { allowHttp: true, allowLoopback: true })).status).toBe(200);
    paths.length = 0;
    for (let i = 0; i < 3; i++) expect((await timed(() => safeFetch(url('admin'), { allowHttp: true }))).code).toBe('FORBIDDEN_ADDRESS');
    expect(paths).toEqual([]);
  });

  it('the policy is the whole identity of a pool: allowPrivate alone never borrows a socket opened under allowLoopback', async () => {
    expect((await safeFetch(url('open'), { allowHttp: true, allowLoopback: true, allowPrivate: true })).status).toBe(200);
    expect((await safeFetch(url('open'), { allowHttp: true, allowLoopback: true })).status).toBe(200);
    paths.length = 0;
    expect((await timed(() => safeFetch(url('admin'), { allowHttp: true, allowPrivate: true }))).code).toBe('FORBIDDEN_ADDRESS');
    expect((await timed(() => safeFetch(url('admin'), { allowHttp: true, allowLoopback: false, allowPrivate: false }))).code).toBe('FORBIDDEN_ADDRESS');
    expect(paths).toEqual([]);
  });

  it('two resolvers in one process: the strict one still refuses a loopback did:web after the lenient one resolved there', async () => {
    const lenient = createResolver({ allowHttp: true, allowLoopback: true, cacheTtlMs: 0 });
    const strict = createResolver({ allowHttp: true, cacheTtlMs: 0 });
    const did = (seg: string) => `did:web:localhost%3A${srv.port}:${seg}`;
    expect((await lenient.resolve(did('own'))).id).toBe(did('own'));
    paths.length = 0;
    expect((await timed(() => strict.resolve(did('internal')))).code).toBe('FORBIDDEN_ADDRESS');
    expect((await timed(() => strict.resolveKey(did('internal'), undefined, 'assertionMethod'))).code).toBe('FORBIDDEN_ADDRESS');
    expect(paths).toEqual([]);
  });

  it('within one policy, keep-alive still saves the handshake', async () => {
    const before = connections;
    for (let i = 0; i < 3; i++) expect((await safeFetch(url('again'), { allowHttp: true, allowLoopback: true })).status).toBe(200);
    expect(connections - before).toBeLessThanOrEqual(1);
  });
});

describe('safeFetch: the body cap', () => {
  it('refuses a maxBytes that is not a positive whole number (NaN would disable the cap)', async () => {
    for (const maxBytes of [Number.NaN, 0, -1, 1.5, Number.POSITIVE_INFINITY, '1000' as unknown as number]) {
      expect([maxBytes, (await timed(() => safeFetch('https://example.com/', { maxBytes }))).code]).toEqual([maxBytes, 'INVALID_ARGUMENT']);
    }
  });
  it('refuses a deadline past what a timer can hold (it would fire at once)', async () => {
    expect((await timed(() => safeFetch('https://example.com/', { timeoutMs: 2 ** 31 }))).code).toBe('INVALID_ARGUMENT');
  });
  it('cuts off a body over maxBytes, declared or streamed', async () => {
    const srv = await serve((req, res) => {
      if (req.url === '/declared') res.writeHead(200, { 'content-length': '5000' }).end('x'.repeat(5000));
      else {
        res.writeHead(200);
        res.end('x'.repeat(5000));
      }
    });
    try {
      for (const path of ['/declared', '/streamed']) expect((await timed(() => safeFetch(`${srv.url}${path}`, { ...local, maxBytes: 1000 }))).code).toBe('INPUT_TOO_LARGE');
      expect((await safeFetch(`${srv.url}/declared`, { ...local, maxBytes: 5000 })).body.length).toBe(5000);
    } finally {
      await srv.close();
    }
  });
});
