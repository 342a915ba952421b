import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import type { CliContext } from '../../src/cli/io.js';
import { openHome } from '../../src/home/home.js';
import { charter, requireAgent, requireGrant } from '../../src/http/adapters/express.js';
import { API, openWorld, type World } from './world.js';

/** `charter http get|post`, in process, against an Express API on 127.0.0.1. */
describe('charter http get|post', () => {
  let w: World;
  let url: string;
  let close: () => void;
  const ran: unknown[] = [];

  beforeAll(async () => {
    w = await openWorld();
    const v = w.verifier();
    const app = express();
    app.use(express.json());
    app.get('/profile/email', charter(v, requireGrant({ resource: 'profile/email', action: 'read', owner: w.alice.did })), (req, res) => {
      ran.push('email');
      res.json({ email: 'alice@example.com', for: req.charter!.holder });
    });
    app.post('/orders', charter(v, requireAgent({ action: 'purchase', amount: (req) => (req.body as { amount?: string }).amount, trust: { principals: [w.principal.did] } })), (req, res) => {
      ran.push(req.body);
      res.status(201).json({ ordered: (req.body as { sku: string }).sku });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => {
      server.closeAllConnections();
      server.close();
    };
  });
  afterAll(async () => {
    close();
    await w.close();
  });

  async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    let code = 0;
    const ctx: CliContext = {
      stdout: (s) => (out += s + '\n'),
      stderr: (s) => (err += s + '\n'),
      env: {},
      stdin: Readable.from([]),
      setExitCode: (c) => (code = c),
      openHome: () => openHome({ home: w.home.dir, passphrase: async () => 'http tests passphrase' }),
    };
    await runCli(args, ctx);
    return { code, out, err };
  }

  it('get: presents a held credential by id, bound to the request; exit 0 with the body', async () => {
    const g = await w.grant();
    ran.length = 0;
    const r = await run(['http', 'get', `${url}/profile/email`, '--as', 'app', '--present', g.id, '--aud', API, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, status: 200, body: { email: 'alice@example.com', for: w.app.did } });
    expect(ran).toEqual(['email']);
  });

  it('get refused: exit 1, the problem code and reasons printed; the handler never ran', async () => {
    const g = await w.grant({ resources: ['photos/*'] });
    ran.length = 0;
    const r = await run(['http', 'get', `${url}/profile/email`, '--as', 'app', '--present', g.id, '--aud', API]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/HTTP 403 GRANT_SCOPE/);
    expect(ran).toEqual([]);
  });

  it('post: sends the JSON body; the agent presents its identity and mandate', async () => {
    await w.mandate();
    // The agent's identity credential and its one mandate, by id from the home.
    const ids = (await w.home.store.listCredentials({ subject: w.agent.did })).map((c) => c.id);
    expect(ids).toHaveLength(2);
    ran.length = 0;
    const r = await run(['http', 'post', `${url}/orders`, '--as', 'agent', '--present', ...ids, '--aud', API, '--data', '{"sku":"tea","amount":"12.50 USD"}', '--json']);
    expect(r.err).toBe('');
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, status: 201, body: { ordered: 'tea' } });
    expect(ran).toEqual([{ sku: 'tea', amount: '12.50 USD' }]);
    const bad = await run(['http', 'post', `${url}/orders`, '--as', 'agent', '--present', ...ids, '--data', '{not json']);
    expect(bad.code).toBe(2);
  });
});
