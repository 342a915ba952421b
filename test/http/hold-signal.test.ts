import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ex from '../../src/http/adapters/express.js';
import * as fa from '../../src/http/adapters/fastify.js';
import * as ho from '../../src/http/adapters/hono.js';
import type { CharterContext } from '../../src/http/context.js';
import { createPresentation } from '../../src/credentials/index.js';
import { isCharterError } from '../../src/errors.js';
import { API, openWorld, type World } from './world.js';

/**
 * A guarded HTTP handler learns when its spend's hold runs out
 * (`createVerifier({ holdTimeoutSeconds })`), as guardTransaction's function
 * does: `signal` aborts with RESERVATION_NOT_FOUND then, and never once the
 * spend is settled (by the handler or by its response), nor without a hold.
 */
let w: World;
const closers: Array<() => Promise<void>> = [];
const bases: Record<string, string> = {};
/** The contexts the handlers saw, by request id (x-id), to look at after the response. */
const seen = new Map<string, CharterContext>();

/** What each route does with its context; the same on every adapter. */
async function behave(route: string, ctx: CharterContext, id: string): Promise<{ status: number; body: Record<string, unknown> }> {
  seen.set(id, ctx);
  const t0 = Date.now();
  if (route === 'wait') {
    // Stops at the signal (or gives up after 4 s, which the test then reports).
    await new Promise<void>((resolve) => {
      const give = setTimeout(resolve, 4000);
      ctx.signal.addEventListener('abort', () => (clearTimeout(give), resolve()), { once: true });
    });
    const reason = ctx.signal.reason as unknown;
    return {
      status: 409,
      body: { aborted: ctx.signal.aborted, code: isCharterError(reason) ? reason.code : String(reason), waited: Date.now() - t0, id: ctx.spend?.reservationId },
    };
  }
  if (route === 'commit-first') {
    await ctx.commit();
    await new Promise((r) => setTimeout(r, 1400));
    return { status: 201, body: { aborted: ctx.signal.aborted } };
  }
  if (route === 'release-first') {
    await ctx.release();
    await new Promise((r) => setTimeout(r, 1400));
    return { status: 200, body: { aborted: ctx.signal.aborted } };
  }
  return { status: 201, body: { aborted: ctx.signal.aborted, isSignal: ctx.signal instanceof AbortSignal } };
}

beforeAll(async () => {
  w = await openWorld();
  const trust = { principals: [w.principal.did] };
  const held = w.verifier({ holdTimeoutSeconds: 1 });
  const unheld = w.verifier();

  const app = express();
  for (const [prefix, v] of [
    ['', held],
    ['/nohold', unheld],
  ] as const) {
    app.post(`${prefix}/:route`, ex.charter(v, ex.requireAgent({ action: 'purchase', amount: (req) => req.get('x-amount'), trust })), async (req, res) => {
      const r = await behave(String(req.params.route), req.charter!, req.get('x-id')!);
      res.status(r.status).json(r.body);
    });
  }
  const s = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => s.once('listening', () => r()));
  bases.express = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  closers.push(() => new Promise((r) => s.close(() => r())));

  const f = Fastify();
  for (const [prefix, v] of [
    ['', held],
    ['/nohold', unheld],
  ] as const) {
    const guard = { preHandler: fa.charter(v, fa.requireAgent({ action: 'purchase', amount: (r) => r.headers['x-amount'] as string, trust })) };
    f.post<{ Params: { route: string } }>(`${prefix}/:route`, guard, async (req, reply) => {
      const r = await behave(req.params.route, req.charter!, req.headers['x-id'] as string);
      return reply.code(r.status).send(r.body);
    });
  }
  bases.fastify = await f.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => f.close());

  const h = new Hono<ho.CharterEnv>();
  for (const [prefix, v] of [
    ['', held],
    ['/nohold', unheld],
  ] as const) {
    h.post(`${prefix}/:route`, ho.charter(v, ho.requireAgent({ action: 'purchase', amount: (c) => c.req.header('x-amount'), trust })), async (c) => {
      const r = await behave(c.req.param('route'), c.get('charter'), c.req.header('x-id')!);
      return c.json(r.body, r.status as 200);
    });
  }
  const hs = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const x = serve({ fetch: h.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(x));
  });
  bases.hono = `http://127.0.0.1:${(hs.address() as AddressInfo).port}`;
  closers.push(() => new Promise<void>((r) => hs.close(() => r())));
}, 30_000);

afterAll(async () => {
  for (const c of closers) await c();
  await w?.close();
});

let ids = 0;
async function post(base: string, path: string): Promise<{ status: number; body: Record<string, unknown>; id: string }> {
  const id = `r${++ids}`;
  const url = base + path;
  const token = await createPresentation({ holder: w.agent, credentials: [w.agentIdentity, await w.mandate()], aud: API, claims: { htm: 'POST', htu: url } });
  const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'x-amount': '10 USD', 'x-id': id } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, id };
}
/** The reservation's state once settled (the release of a refusal is not awaited by the response). */
async function stateOf(id: string): Promise<string | undefined> {
  for (let i = 0; ; i++) {
    const state = (await w.apiStore.listReservations({})).find((r) => r.reservationId === id)?.state;
    if (state !== 'reserved' || i === 50) return state;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(['express', 'fastify', 'hono'])('%s: req.charter.signal', (name) => {
  it('fires when the hold runs out, with RESERVATION_NOT_FOUND; the handler stops, and its refusal releases the spend', async () => {
    const r = await post(bases[name]!, '/wait');
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ aborted: true, code: 'RESERVATION_NOT_FOUND' });
    expect(r.body.waited).toBeGreaterThan(500);
    expect(r.body.waited).toBeLessThan(3000);
    expect(await stateOf(r.body.id as string)).toBe('released');
  });

  it('never fires once the handler committed, released, or its response settled the spend', async () => {
    const [committed, released, fast] = await Promise.all([post(bases[name]!, '/commit-first'), post(bases[name]!, '/release-first'), post(bases[name]!, '/fast')]);
    expect([committed.status, committed.body.aborted]).toEqual([201, false]);
    expect([released.status, released.body.aborted]).toEqual([200, false]);
    expect([fast.status, fast.body.aborted]).toEqual([201, false]);
    // Past the hold of the fast one (1 s after its decision): its signal, kept, still has not fired.
    await new Promise((r) => setTimeout(r, 1300));
    expect(seen.get(fast.id)!.signal.aborted).toBe(false);
    expect(seen.get(fast.id)!.spend!.state).toBe('committed');
  });

  it('is there, and never fires, without holdTimeoutSeconds', async () => {
    const r = await post(bases[name]!, '/nohold/fast');
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ aborted: false, isSignal: true });
    expect(seen.get(r.id)!.spend!.holdUntil).toBeUndefined();
  });
});
