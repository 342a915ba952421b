import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { openHome, type Home } from '../../src/home/home.js';
import { serveHome, type RunningServer } from '../../src/server/serve.js';
import { issueGrant, verifyGrant } from '../../src/grants/index.js';
import { createResolver } from '../../src/did/index.js';
import { createStatusChecker } from '../../src/status/index.js';
import { tempDir } from '../helpers.js';

const CHROMIUM = '/usr/bin/chromium';

describe('consent page', () => {
  let home: Home;
  let server: RunningServer;
  let browser: Browser | undefined;
  const resolver = createResolver();
  const checker = () => createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });

  beforeAll(async () => {
    home = await openHome({ home: tempDir(), passphrase: async () => 'consent page passphrase' });
    await home.init();
    server = await serveHome(home, { port: 0 });
    await home.setPublicUrl(server.url);
    await home.createIdentity({ alias: 'alice' });
    await home.createIdentity({ alias: 'shop' });
  });
  afterAll(async () => {
    await browser?.close();
    await server.close();
    await home.close();
  });

  const grant = async (resource: string) =>
    issueGrant(home.store, await home.issuer('alice'), {
      grantee: (await home.identity('shop')).did,
      resources: [resource],
      actions: ['read'],
      purpose: 'shipping notices',
      validUntil: new Date(Date.now() + 7 * 86_400_000),
      baseUrl: server.url,
    });

  it('in a real browser: the person sees the grant, clicks Revoke, and a verifier then refuses it', async () => {
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI) throw new Error('Chromium is missing in CI: .ci/run must install Debian chromium');
      console.warn('skipping the browser test: /usr/bin/chromium is not installed (apt-get install chromium)');
      return;
    }
    const g = await grant('profile/address');
    expect((await verifyGrant(g.jwt, { resolver, status: checker(), resource: 'profile/address', action: 'read', anyOwner: true })).ok).toBe(true);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage();
    await page.goto(`${server.url}/consent`);
    const row = page.locator(`tr[data-grant="${g.id}"]`);
    await expect(row.locator('td').nth(1).textContent()).resolves.toBe('profile/address');
    await expect(row.locator('.state').textContent()).resolves.toBe('active');
    await row.locator('button[data-action="revoke"]').click();
    await page.waitForURL(/done=revoked/);
    await expect(page.locator(`tr[data-grant="${g.id}"] .state`).textContent()).resolves.toBe('revoked');
    const after = await verifyGrant(g.jwt, { resolver, status: checker(), resource: 'profile/address', action: 'read', anyOwner: true });
    expect(after.reasons.map((r) => r.code)).toEqual(['CREDENTIAL_REVOKED']);
  }, 60_000);

  it('refuses cross-site posts: no token, a wrong token, a foreign Origin, a foreign Host', async () => {
    const g = await grant('profile/phone');
    const page = await fetch(`${server.url}/consent`);
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
    const token = /name="token" value="([^"]+)"/.exec(await page.text())![1]!;
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${server.url}/consent/revoke`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, ...headers }, body });
    expect((await post(`id=${encodeURIComponent(g.id)}`)).status).toBe(403);
    expect((await post(`id=${encodeURIComponent(g.id)}&token=wrong`)).status).toBe(403);
    expect((await post(`id=${encodeURIComponent(g.id)}&token=${token}`, { origin: 'https://evil.example' })).status).toBe(403);
    const hostStatus = await new Promise<number>((resolve, reject) => {
      const u = new URL(server.url);
      request({ host: u.hostname, port: u.port, path: '/consent', headers: { host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(hostStatus).toBe(421);
    const noCookie = await fetch(`${server.url}/consent/revoke`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `id=x&token=${token}` });
    expect(noCookie.status).toBe(403);
    // still active after every refused attempt
    expect((await verifyGrant(g.jwt, { resolver, status: checker(), resource: 'profile/phone', action: 'read', anyOwner: true })).ok).toBe(true);
    const ok = await post(`id=${encodeURIComponent(g.id)}&token=${token}`, { origin: server.url });
    expect(ok.status).toBe(303);
  });

  it('is not served on a non-loopback listener unless explicitly exposed', async () => {
    const exposed = await serveHome(home, { port: 0, host: '0.0.0.0' });
    try {
      const port = new URL(exposed.url).port;
      expect((await fetch(`http://127.0.0.1:${port}/consent`)).status).toBe(404);
      const list = (await home.store.listStatusLists())[0]!;
      expect((await fetch(`http://127.0.0.1:${port}/status/${list.id}`)).status).toBe(200);
    } finally {
      await exposed.close();
    }
  });
});
