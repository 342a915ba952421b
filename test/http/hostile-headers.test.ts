import { connect, type AddressInfo } from 'node:net';
import fc from 'fast-check';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ex from '../../src/http/adapters/express.js';
import * as fa from '../../src/http/adapters/fastify.js';
import * as ho from '../../src/http/adapters/hono.js';
import { signRequest } from '../../src/httpsig/index.js';
import { ERROR_CODES } from '../../src/errors.js';
import type { Verifier } from '../../src/guard/verifier.js';
import type { AgentTrust } from '../../src/agents/types.js';
import { bound } from './present.js';
import { openWorld, type World } from './world.js';

/**
 * The three adapters under hostile request heads, sent byte for byte on a socket (fetch would
 * refuse or normalise them): repeated, folded (obs-fold), CR, LF and NUL in values, huge values,
 * non-ASCII bytes, in Authorization, the amount header a guard reads, Signature, Signature-Input
 * and Signature-Agent. Whatever arrives, the answer is never an allow and never a 500: Node's own
 * parser may refuse the head first (400, 431, no body); otherwise Charter answers, and then with
 * an RFC 9457 problem whose code is listed and whose status is the response's.
 */

const CODES: ReadonlySet<string> = new Set(ERROR_CODES);
const SEED = Number(process.env.CHARTER_FUZZ_SEED ?? 0x5eed);

interface Reply {
  status: number;
  type: string | undefined;
  body: string;
}

/** One request exactly as written (bytes), its reply parsed (chunked bodies joined). */
function send(port: number, head: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(head));
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? resolve({ status: 0, type: undefined, body: '' }) : reject(e)));
    s.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      if (text === '') return resolve({ status: 0, type: undefined, body: '' });
      const [headText, ...rest] = text.split('\r\n\r\n');
      let body = rest.join('\r\n\r\n');
      const lines = headText!.split('\r\n');
      const field = (n: string) =>
        lines
          .find((l) => l.toLowerCase().startsWith(`${n}:`))
          ?.slice(n.length + 1)
          .trim();
      if (field('transfer-encoding')?.toLowerCase() === 'chunked') {
        let out = '';
        for (let i = 0; ;) {
          const eol = body.indexOf('\r\n', i);
          const n = parseInt(body.slice(i, eol), 16);
          if (!(n > 0)) break;
          out += body.slice(eol + 2, eol + 2 + n);
          i = eol + 2 + n + 2;
        }
        body = out;
      }
      resolve({ status: Number(lines[0]!.split(' ')[1]), type: field('content-type'), body: Buffer.from(body, 'latin1').toString('utf8') });
    });
  });
}

/** What any reply to a hostile head must be (throws naming what it was). */
function neverAllowNeverCrash(r: Reply, what: string): void {
  if (r.status === 0) return; // the server closed the connection on a head it would not parse
  if (r.status < 400 || r.status === 500) throw new Error(`${what}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
  if (r.type !== 'application/problem+json') {
    // Only Node's own parser answers without a problem (a malformed head, 431 too large), before any route.
    if (![400, 413, 431].includes(r.status)) throw new Error(`${what}: HTTP ${r.status} without a problem: ${r.body.slice(0, 200)}`);
    return;
  }
  const p = JSON.parse(r.body) as { status?: unknown; code?: unknown; type?: unknown; title?: unknown };
  if (p.status !== r.status || typeof p.code !== 'string' || !CODES.has(p.code) || typeof p.title !== 'string')
    throw new Error(`${what}: not a problem with a listed code: ${r.body.slice(0, 300)}`);
}

type Build = (v: Verifier, trust: AgentTrust, owner: string, agentKey: object) => Promise<{ port: number; close: () => Promise<void> }>;

const builds: Array<[string, Build]> = [
  [
    'Express',
    async (v, trust, owner, key) => {
      const app = express();
      app.get('/profile/email', ex.charter(v, ex.requireGrant({ resource: 'profile/email', action: 'read', owner })), (_q, r) => void r.json({ allowed: true }));
      app.post('/orders', ex.charter(v, ex.requireAgent({ action: 'purchase', amount: (q) => q.get('x-amount'), trust })), (_q, r) => void r.json({ allowed: true }));
      app.get('/signed', ex.charter(v, ex.requireSignature({ keys: key as never })), (_q, r) => void r.json({ allowed: true }));
      const server = app.listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((r) => server.close(() => r())) };
    },
  ],
  [
    'Fastify',
    async (v, trust, owner, key) => {
      const app = Fastify();
      app.get('/profile/email', { preHandler: fa.charter(v, fa.requireGrant({ resource: 'profile/email', action: 'read', owner })) }, async () => ({ allowed: true }));
      const amount = (q: { headers: Record<string, string | string[] | undefined> }) => q.headers['x-amount'] as string | undefined;
      app.post('/orders', { preHandler: fa.charter(v, fa.requireAgent({ action: 'purchase', amount, trust })) }, async () => ({ allowed: true }));
      app.get('/signed', { preHandler: fa.charter(v, fa.requireSignature({ keys: key as never })) }, async () => ({ allowed: true }));
      await app.listen({ port: 0, host: '127.0.0.1' });
      return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
    },
  ],
  [
    'Hono',
    async (v, trust, owner, key) => {
      const app = new Hono<ho.CharterEnv>();
      app.get('/profile/email', ho.charter(v, ho.requireGrant({ resource: 'profile/email', action: 'read', owner })), (c) => c.json({ allowed: true }));
      app.post('/orders', ho.charter(v, ho.requireAgent({ action: 'purchase', amount: (c) => c.req.header('x-amount'), trust })), (c) => c.json({ allowed: true }));
      app.get('/signed', ho.charter(v, ho.requireSignature({ keys: key as never })), (c) => c.json({ allowed: true }));
      const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
        const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
      });
      return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((r) => server.close(() => r())) };
    },
  ],
];

let w: World;
beforeAll(async () => {
  w = await openWorld();
}, 60_000);
afterAll(async () => w?.close());

describe.each(builds)('%s under hostile request heads', (_name, build) => {
  let port: number;
  let close: () => Promise<void>;
  let grantVp: string;
  let agentVp: string;
  let signed: Record<string, string>;

  beforeAll(async () => {
    const key = { keys: [w.agent.publicJwk] };
    ({ port, close } = await build(w.verifier(), { principals: [w.principal.did] }, w.alice.did, key));
    const origin = `http://127.0.0.1:${port}`;
    grantVp = await bound(w.app, [(await w.grant()).jwt], { url: `${origin}/profile/email` });
    agentVp = await bound(w.agent, [await w.mandate()], { url: `${origin}/orders`, method: 'POST' });
    signed = (await signRequest({ method: 'GET', url: `${origin}/signed`, headers: {} as Record<string, string> }, { signer: w.agent.signer, publicJwk: w.agent.publicJwk }))
      .headers;
  }, 60_000);
  afterAll(async () => close?.());

  const head = (method: string, path: string, lines: Array<[string, Buffer | string]>) =>
    Buffer.concat([
      Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`),
      ...lines.flatMap(([k, v]) => [Buffer.from(`${k}: `), Buffer.from(v as string, typeof v === 'string' ? 'latin1' : undefined), Buffer.from('\r\n')]),
      Buffer.from(method === 'POST' ? 'Content-Length: 0\r\nConnection: close\r\n\r\n' : 'Connection: close\r\n\r\n'),
    ]);

  /** Hostile spellings of one field value around a real one. */
  const spoil = (real: string) =>
    fc.oneof(
      fc.constantFrom(
        `${real}\r\n x`,
        `${real}\r\n\tx`,
        `${real.slice(0, 20)}\r${real.slice(20)}`,
        `${real.slice(0, 20)}\n${real.slice(20)}`,
        `${real}\0`,
        `\0${real}`,
        `${real} `,
        ` ${real}`,
        `${real},${real}`,
        `${real}\u00e9`,
        Buffer.concat([Buffer.from(real), Buffer.from([0xc3, 0xa9, 0xff, 0x80])]) as unknown as string,
        `${real}${'A'.repeat(8_000)}`,
        'A'.repeat(70_000),
        '',
      ),
      fc.tuple(fc.nat(real.length - 1), fc.integer({ min: 0, max: 255 })).map(([i, b]) => real.slice(0, i) + String.fromCharCode(b) + real.slice(i + 1)),
      fc.nat(real.length - 1).map((i) => real.slice(0, i)),
    );

  it('Authorization: repeated, folded, cut, with CR, LF, NUL or non-ASCII bytes, huge: refused, never a 500 (property)', async () => {
    await fc.assert(
      fc.asyncProperty(spoil(`Bearer ${grantVp}`), fc.boolean(), async (value, twice) => {
        const lines: Array<[string, string]> = twice
          ? [
              ['Authorization', value],
              ['Authorization', `Bearer ${grantVp}`],
            ]
          : [['Authorization', value]];
        neverAllowNeverCrash(await send(port, head('GET', '/profile/email', lines)), JSON.stringify(value.slice(0, 80)));
      }),
      { numRuns: 40, seed: SEED, endOnFailure: true },
    );
  });

  it('the amount a guard reads from a header: any bytes, never an allow it did not earn, never a 500 (property)', async () => {
    const amount = fc.oneof(
      fc.constantFrom('1e999 USD', 'NaN USD', '-0 USD', '0x10 USD', '1 USD\0', '1 USD, 2 USD', '1\r\n USD', '１ USD', '1 usd\u00e9', `${'9'.repeat(5000)} USD`, ''),
      fc.string({ unit: 'binary', maxLength: 40 }),
    );
    await fc.assert(
      fc.asyncProperty(amount, async (value) => {
        // A fresh presentation each time (each is used up once it passes); an allow must be for an amount within the mandate.
        const vp = await bound(w.agent, [await w.mandate()], { url: `http://127.0.0.1:${port}/orders`, method: 'POST' });
        const r = await send(
          port,
          head('POST', '/orders', [
            ['Authorization', `Bearer ${vp}`],
            ['X-Amount', value],
          ]),
        );
        if (r.status === 200 && /^\s*(0|[1-4]?\d(\.\d{1,2})?|50(\.0{1,2})?)\s*USD\s*$/i.test(value)) return;
        neverAllowNeverCrash(r, JSON.stringify(value));
      }),
      { numRuns: 30, seed: SEED, endOnFailure: true },
    );
  });

  it('Signature, Signature-Input and Signature-Agent: spoiled, repeated or alone, never an allow, never a 500 (property)', async () => {
    const real = signed;
    // The real signed request passes, so refusals below are about the spoiling.
    expect((await send(port, head('GET', '/signed', Object.entries(real)))).status).toBe(200);
    const which = fc.constantFrom('signature', 'signature-input', 'signature-agent');
    await fc.assert(
      fc.asyncProperty(
        which,
        fc.constant(null).chain(() => spoil(real['signature-input']!)),
        fc.boolean(),
        async (name, value, twice) => {
          const base = Object.entries(real).filter(([k]) => k !== name);
          const spoiled = name === 'signature' ? value.replace(/^sig1=\(.*?\);/, 'sig1=:') : value;
          const lines: Array<[string, string]> = [...base, [name, spoiled], ...(twice ? [[name, real[name] ?? spoiled] as [string, string]] : [])];
          if (lines.every(([k, v]) => real[k] === v) && lines.length === Object.keys(real).length) return;
          neverAllowNeverCrash(await send(port, head('GET', '/signed', lines)), `${name}: ${JSON.stringify(spoiled.slice(0, 80))}`);
        },
      ),
      { numRuns: 40, seed: SEED, endOnFailure: true },
    );
  });

  it('the agent route with a spoiled presentation in every way above: refused, never a 500 (property)', async () => {
    await fc.assert(
      fc.asyncProperty(spoil(`Bearer ${agentVp}`), async (value) => {
        fc.pre(value !== `Bearer ${agentVp}`);
        neverAllowNeverCrash(
          await send(
            port,
            head('POST', '/orders', [
              ['Authorization', value],
              ['X-Amount', '1 USD'],
            ]),
          ),
          JSON.stringify(value.slice(0, 80)),
        );
      }),
      { numRuns: 30, seed: SEED, endOnFailure: true },
    );
  });
});
