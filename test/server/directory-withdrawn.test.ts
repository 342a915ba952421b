import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHome, type Home } from '../../src/home/home.js';
import { serveHome, type RunningServer } from '../../src/server/serve.js';
import { agentDirectory } from '../../src/server/directory.js';
import { issueAgentIdentity, revokeAgentIdentity } from '../../src/agents/index.js';
import { DIRECTORY_PATH, jwkThumbprint, verifyDirectoryResponse } from '../../src/httpsig/index.js';
import { tempDir } from '../helpers.js';

/*
 * The Web Bot Auth directory says "requests signed by these keys are this
 * origin's automated traffic": an agent whose operator withdrew its word
 * (the newest identity credential revoked, e.g. for a stolen key, or
 * expired) is no longer listed; the others stay.
 */
describe('the agents directory leaves out an agent its operator no longer answers for', () => {
  let home: Home;
  let server: RunningServer;
  beforeAll(async () => {
    home = await openHome({ home: join(tempDir('charter-dir-withdrawn-'), 'home'), passphrase: async () => 'directory tests', allowLoopback: true });
    await home.init();
    server = await serveHome(home, { port: 0 });
    await home.setPublicUrl(server.url);
  });
  afterAll(async () => {
    await server.close();
    await home.close();
  });
  const listed = async () => {
    const r = await fetch(`${server.url}${DIRECTORY_PATH}`);
    if (r.status === 404) return [];
    const headers: Record<string, string> = {};
    r.headers.forEach((v, k) => (headers[k] = v));
    return verifyDirectoryResponse({ url: `${server.url}${DIRECTORY_PATH}`, status: r.status, headers, body: Buffer.from(await r.arrayBuffer()) })
      .keys.map((k) => k.thumbprint)
      .sort();
  };

  it('revoked: left out of `charter serve`; expired: left out from its end; a new identity credential brings it back', async () => {
    const operator = await home.createIdentity({ alias: 'operator' });
    const op = await home.issuer(operator.did);
    const keep = await home.createIdentity({ alias: 'keeper', meta: { role: 'agent', operator: operator.did } });
    const stolen = await home.createIdentity({ alias: 'stolen', meta: { role: 'agent', operator: operator.did }, keyType: 'P-256' });
    const short = await home.createIdentity({ alias: 'short', meta: { role: 'agent', operator: operator.did } });
    await issueAgentIdentity(home.store, op, { agent: keep.did, name: 'keeper', baseUrl: server.url });
    const idStolen = await issueAgentIdentity(home.store, op, { agent: stolen.did, name: 'stolen', baseUrl: server.url });
    const end = new Date(Date.now() + 3_600_000);
    await issueAgentIdentity(home.store, op, { agent: short.did, name: 'short', validUntil: end });
    const t = (r: { publicJwk: Parameters<typeof jwkThumbprint>[0] }) => jwkThumbprint(r.publicJwk);
    expect(await listed()).toEqual([t(keep), t(stolen), t(short)].sort());

    await revokeAgentIdentity(home.store, idStolen.id, (did) => home.issuer(did));
    expect(await listed()).toEqual([t(keep), t(short)].sort());
    // At and after the short identity's end, it is left out too (the library call takes the time).
    const at = (d: Date) => agentDirectory(home, server.url, d).then((x) => (x ? x.body : ''));
    expect(await at(new Date(end.getTime() - 1000))).toContain(t(short));
    expect(await at(end)).not.toContain(t(short));
    expect(await at(end)).toContain(t(keep));

    // The operator answers for the key again: a new identity credential, newest wins.
    await issueAgentIdentity(home.store, op, { agent: stolen.did, name: 'stolen, re-issued', baseUrl: server.url });
    expect(await listed()).toEqual([t(keep), t(stolen), t(short)].sort());
  });
});
