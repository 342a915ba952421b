import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import type { CliContext } from '../../src/cli/io.js';
import { openHome } from '../../src/home/home.js';
import { readdirSync, readFileSync } from 'node:fs';
import { issueAgentIdentity, revokeAgentIdentity } from '../../src/agents/index.js';
import { charter, keepRawBody, requireAgent, requireGrant, requireSignature } from '../../src/http/adapters/express.js';
import { jwkThumbprint, verifyDirectoryResponse } from '../../src/httpsig/index.js';
import { tempDir } from '../helpers.js';
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
    app.use(express.json({ verify: keepRawBody })); // the bytes as sent, for a signed Content-Digest
    app.get('/profile/email', charter(v, requireGrant({ resource: 'profile/email', action: 'read', owner: w.alice.did })), (req, res) => {
      ran.push('email');
      res.json({ email: 'alice@example.com', for: req.charter!.holder });
    });
    app.post(
      '/orders',
      charter(v, requireAgent({ action: 'purchase', amount: (req) => (req.body as { amount?: string }).amount, trust: { principals: [w.principal.did] } })),
      (req, res) => {
        ran.push(req.body);
        res.status(201).json({ ordered: (req.body as { sku: string }).sku });
      },
    );
    await w.home.createIdentity({ alias: 'crawler', meta: { role: 'agent' } });
    // Keys from the Signature-Agent's directory: the world's `charter serve`, on loopback.
    app.get('/articles/1', charter(v, requireSignature({ directories: 'fetch', allowLoopback: true })), (req, res) => {
      ran.push('article');
      res.json({ for: req.charter!.holder });
    });
    const agentKey = { keys: [w.agent.publicJwk] };
    app.post(
      '/signed-orders',
      charter(
        v,
        requireSignature({ keys: agentKey }),
        requireAgent({ action: 'purchase', amount: (req) => (req.body as { amount?: string }).amount, trust: { principals: [w.principal.did] } }),
      ),
      (req, res) => {
        ran.push('signed-order');
        res.status(201).json({ agent: req.charter!.holder, keyId: req.charter!.signature!.keyId });
      },
    );
    app.get('/moved', (_req, res) => void res.redirect(302, 'http://127.0.0.1:1/elsewhere'));
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

  it('a redirect is not followed: exit 1, its Location named (JSON and human), the proof never sent on', async () => {
    const g = await w.grant();
    const json = await run(['http', 'get', `${url}/moved`, '--as', 'app', '--present', g.id, '--aud', API, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toMatchObject({ ok: false, status: 302, location: 'http://127.0.0.1:1/elsewhere' });
    const human = await run(['http', 'get', `${url}/moved`, '--as', 'app', '--present', g.id, '--aud', API, '--sign']);
    expect(human.code).toBe(1);
    expect(human.out).toMatch(/HTTP 302: a redirect to http:\/\/127\.0\.0\.1:1\/elsewhere, not followed/);
  });

  it('a server that cannot be reached is UNREACHABLE (exit 3), naming where; a URL that is not http(s) is a usage error (exit 2)', async () => {
    const g = await w.grant();
    // A port nothing listens on: one the system gave and took back.
    const probe = createServer().listen(0, '127.0.0.1');
    await new Promise<void>((r) => probe.once('listening', () => r()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const refused = await run(['http', 'get', `http://127.0.0.1:${port}/x`, '--as', 'app', '--present', g.id, '--aud', API, '--json']);
    expect(refused.code).toBe(3);
    expect(JSON.parse(refused.out).error).toMatchObject({ code: 'UNREACHABLE', message: expect.stringContaining(`ECONNREFUSED 127.0.0.1:${port}`) });
    expect(refused.err).toMatch(/\[UNREACHABLE\]$/m);
    for (const bad of ['not a url', 'ftp://127.0.0.1/x', 'file:///etc/passwd', '127.0.0.1:3000/x']) {
      const r = await run(['http', 'post', bad, '--as', 'app', '--sign', '--data', '{}', '--json']);
      expect([bad, r.code, JSON.parse(r.out).error.code]).toEqual([bad, 2, 'INVALID_ARGUMENT']);
    }
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

  it("get --sign: an agent of this home signs; its key is found in the directory its home's charter serve publishes", async () => {
    ran.length = 0;
    const r = await run(['http', 'get', `${url}/articles/1`, '--as', 'crawler', '--sign', '--json']);
    expect(r.err).toBe('');
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, status: 200, body: { for: new URL(w.server.url).origin } });
    const unsigned = await run(['http', 'get', `${url}/articles/1`, '--as', 'crawler', '--present', (await w.grant()).id]);
    expect(unsigned.code).toBe(1);
    expect(unsigned.out).toMatch(/HTTP 401 SIGNATURE_MISSING/);
    const neither = await run(['http', 'get', `${url}/articles/1`, '--as', 'crawler']);
    expect(neither.code).toBe(2);
    expect(ran).toEqual(['article']);
  });

  it('post --present … --sign: the presentation and the signature (with Content-Digest) of the same agent', async () => {
    await w.mandate();
    const ids = (await w.home.store.listCredentials({ subject: w.agent.did })).map((c) => c.id).slice(-2);
    ran.length = 0;
    const r = await run([
      'http',
      'post',
      `${url}/signed-orders`,
      '--as',
      'agent',
      '--present',
      w.agentIdentity,
      ...ids.filter((i) => i !== ids[0]),
      '--aud',
      API,
      '--sign',
      '--data',
      '{"sku":"tea","amount":"2 USD"}',
      '--json',
    ]);
    expect(r.err).toBe('');
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, status: 201, body: { agent: w.agent.did, keyId: jwkThumbprint(w.agent.publicJwk) } });
    const unsigned = await run([
      'http',
      'post',
      `${url}/signed-orders`,
      '--as',
      'agent',
      '--present',
      w.agentIdentity,
      ...ids.filter((i) => i !== ids[0]),
      '--aud',
      API,
      '--data',
      '{"amount":"2 USD"}',
    ]);
    expect(unsigned.code).toBe(1);
    expect(ran).toEqual(['signed-order']);
  });

  it('agent directory --as: the signed JWKS and the headers to serve it with; a verifier accepts them at the public URL', async () => {
    const out = tempDir('charter-dir-out-');
    const r = await run(['agent', 'directory', '--as', 'crawler', '--out', out, '--json']);
    expect(r.err).toBe('');
    const res = JSON.parse(r.out) as { url: string; keys: string[]; files: string[]; expiresAt: string };
    expect(res.url).toBe(`${w.server.url}/.well-known/http-message-signatures-directory`);
    expect(res.keys).toEqual([jwkThumbprint((await w.home.identity('crawler')).publicJwk)]);
    expect(Date.parse(res.expiresAt) - Date.now()).toBeGreaterThan(86_000_000);
    const body = readFileSync(res.files[0]!);
    const headers = Object.fromEntries(
      readFileSync(res.files[1]!, 'utf8')
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
    );
    expect(verifyDirectoryResponse({ url: res.url, headers, body }).keys[0]!.bound).toBe(true);
    const elsewhere = await run(['agent', 'directory', '--as', 'crawler', '--authority', 'agent.example', '--json']);
    expect(JSON.parse(elsewhere.out)).toMatchObject({ url: 'https://agent.example/.well-known/http-message-signatures-directory', authority: 'agent.example' });
    await w.home.createIdentity({ alias: 'k1', keyType: 'secp256k1' });
    expect((await run(['agent', 'directory', '--as', 'k1'])).code).toBe(2);
    expect((await run(['agent', 'directory', '--as', 'crawler', '--authority', 'a/b'])).code).toBe(2);
  });

  it('agent directory --as an agent whose identity credential is revoked: CREDENTIAL_REVOKED, exit 1, nothing written', async () => {
    const op = await w.home.createIdentity({ alias: 'dir-operator' });
    const bot = await w.home.createIdentity({ alias: 'dir-bot', meta: { role: 'agent', operator: op.did } });
    const id = await issueAgentIdentity(w.home.store, await w.home.issuer(op.did), { agent: bot.did, name: 'dir-bot', baseUrl: w.server.url });
    expect((await run(['agent', 'directory', '--as', 'dir-bot', '--json'])).code).toBe(0);
    await revokeAgentIdentity(w.home.store, id.id, (did) => w.home.issuer(did));
    const out = tempDir('charter-dir-revoked-');
    const r = await run(['agent', 'directory', '--as', 'dir-bot', '--out', out, '--json']);
    expect([r.code, (JSON.parse(r.out) as { error: { code: string } }).error.code]).toEqual([1, 'CREDENTIAL_REVOKED']);
    expect(readdirSync(out)).toEqual([]);
  });
});
