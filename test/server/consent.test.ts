import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHome, type Home } from '../../src/home/home.js';
import { serveHome, type RunningServer } from '../../src/server/serve.js';
import { issueGrant, listGrants, revokeGrant, suspendGrant, verifyGrant } from '../../src/grants/index.js';
import { createResolver } from '../../src/did/index.js';
import { createStatusChecker } from '../../src/status/index.js';
import { CONSENT_CSS, CONSENT_STYLE_SRC } from '../../src/server/consent-page.js';
import { tempDir } from '../helpers.js';

/** The page's server side, over plain HTTP: headers, the confirmation step, locale, filters, refusals. */
describe('consent page (HTTP)', () => {
  let home: Home;
  let server: RunningServer;
  const resolver = createResolver();
  const checker = () => createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
  const verify = (jwt: string, resource: string) => verifyGrant(jwt, { resolver, status: checker(), resource, action: 'read', anyOwner: true });

  beforeAll(async () => {
    home = await openHome({ home: tempDir(), passphrase: async () => 'consent page passphrase' });
    await home.init();
    server = await serveHome(home, { port: 0 });
    await home.setPublicUrl(server.url);
    await home.createIdentity({ alias: 'alice' });
  });
  afterAll(async () => {
    await server.close();
    await home.close();
  });

  const grant = async (resource: string, purpose = 'shipping notices', grantee = 'did:web:shop.example') =>
    issueGrant(home.store, await home.issuer('alice'), {
      grantee,
      resources: [resource],
      actions: ['read'],
      purpose,
      validUntil: new Date(Date.now() + 7 * 86_400_000),
      baseUrl: server.url,
    });

  /** The token in the page's forms (opened with the printed link, key and all, unless `url` says otherwise); '' when it has none. */
  const session = async (url = server.consent!) => {
    const page = await fetch(url);
    return { token: /name="token" value="([^"]+)"/.exec(await page.text())?.[1] ?? '' };
  };
  const key = () => new URL(server.consent!).searchParams.get('key')!;
  const post = (path: string, body: string, headers: Record<string, string>) =>
    fetch(`${server.url}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });

  it('sends strict security headers: no script at all, only its own style sheet by hash, never framed, no cookie', async () => {
    await grant('profile/name');
    const r = await fetch(`${server.url}/consent`);
    const csp = r.headers.get('content-security-policy')!;
    expect(csp).toBe(`default-src 'none'; style-src ${CONSENT_STYLE_SRC}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`);
    expect(csp).not.toMatch(/unsafe|script-src/);
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    // No cookie, keyed page or not: browsers send a cookie to every port of the host (RFC 6265 §8.5).
    expect(r.headers.get('set-cookie')).toBeNull();
    expect((await fetch(server.consent!)).headers.get('set-cookie')).toBeNull();
    const html = await r.text();
    // The one <style> element is exactly what the hash allows; nothing else styles or scripts the page.
    const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]);
    expect(styles).toEqual([CONSENT_CSS]);
    expect(CONSENT_STYLE_SRC).toBe(`'sha256-${createHash('sha256').update(styles[0]!).digest('base64')}'`);
    expect(html).not.toMatch(/<script|style="|\son[a-z]+=/i);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
  });

  it('shows names, dates in the Accept-Language locale inside <time datetime>, the grant id, and escapes what grants say', async () => {
    const g = await grant('profile/<b>bio</b>', '<script>alert(1)</script>');
    const de = await (await fetch(`${server.url}/consent`, { headers: { 'accept-language': 'fr-CH;q=0.2, de-DE, en;q=0.5' } })).text();
    const card = de.slice(de.indexOf(`data-grant="${g.id}"`));
    expect(card).toMatch(/<h2 id="g-[0-9a-f]{12}"><span title="did:web:shop.example">shop\.example<\/span> can read profile\/&lt;b&gt;bio&lt;\/b&gt;<\/h2>/);
    expect(card).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(card).not.toContain('<script>');
    expect(card).toMatch(/<dt>Given by<\/dt><dd><span title="did:key:z[^"]+">alice<\/span><\/dd>/);
    expect(card).toContain(`<code>${g.id}</code>`);
    const expires = (await listGrants(home.store)).find((x) => x.id === g.id)!.expires!;
    const german = new Intl.DateTimeFormat('de-DE', { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' }).format(
      new Date(expires),
    );
    expect(card).toContain(`<time datetime="${expires}" lang="de-DE">${german}</time>`);
    const fallback = await (await fetch(`${server.url}/consent`, { headers: { 'accept-language': '*, x-invalid-tag-@@' } })).text();
    expect(fallback).toContain('lang="en"');
  });

  it('Revoke asks first: the link changes nothing, an unconfirmed post only leads to the question, cancel keeps the grant', async () => {
    const g = await grant('profile/phone');
    const { token } = await session();
    const ask = await fetch(`${server.url}/consent/revoke?id=${encodeURIComponent(g.id)}&key=${key()}`);
    expect(ask.status).toBe(200);
    expect(ask.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const page = await ask.text();
    expect(page).toContain('<h1>Revoke this grant?</h1>');
    expect(page).toContain('This is permanent.');
    expect(page).toContain('in the last 60 seconds');
    expect(page).toContain('<input type="hidden" name="confirm" value="yes">');
    expect(page).toContain(`<a class="button" href="/consent?key=${key()}" data-action="cancel">`);
    expect(page).toContain(`<input type="hidden" name="token" value="${token}">`);
    const unconfirmed = await post('/consent/revoke', `id=${encodeURIComponent(g.id)}&token=${token}`, { origin: server.url });
    expect(unconfirmed.status).toBe(303);
    expect(unconfirmed.headers.get('location')).toBe(`/consent/revoke?id=${encodeURIComponent(g.id)}&key=${key()}`);
    expect((await verify(g.jwt, 'profile/phone')).ok).toBe(true);
    const done = await post('/consent/revoke', `id=${encodeURIComponent(g.id)}&token=${token}&confirm=yes`, { origin: server.url });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe(`/consent?done=revoked&id=${encodeURIComponent(g.id)}&key=${key()}`);
    expect((await verify(g.jwt, 'profile/phone')).reasons.map((r) => r.code)).toEqual(['CREDENTIAL_REVOKED']);
    // A revoked grant has nothing left to confirm; an unknown one neither.
    expect((await fetch(`${server.url}/consent/revoke?id=${encodeURIComponent(g.id)}`)).status).toBe(404);
    expect((await fetch(`${server.url}/consent/revoke?id=urn:uuid:nope`)).status).toBe(404);
  });

  it('says what happened in words (no "suspendd"), and filters by state', async () => {
    const live = await grant('photos/live');
    const paused = await grant('photos/paused');
    const gone = await grant('photos/gone');
    await suspendGrant(home.store, paused.id, (d) => home.issuer(d));
    await revokeGrant(home.store, gone.id, (d) => home.issuer(d));
    const notice = await (await fetch(`${server.url}/consent?done=suspended&id=${encodeURIComponent(paused.id)}`)).text();
    expect(notice).toContain('<p class="notice" role="status">Paused: shop.example&#39;s access to photos/paused.</p>');
    expect(notice).not.toMatch(/suspendd|resumeed|revokeed/);
    expect(await (await fetch(`${server.url}/consent?done=<script>`)).text()).not.toContain('class="notice"');
    const ids = (html: string) => [...html.matchAll(/<li class="grant" data-grant="([^"]+)" data-state="([a-z]+)"/g)].map((m) => [m[1], m[2]]);
    const revoked = ids(await (await fetch(`${server.url}/consent?show=revoked`)).text());
    expect(revoked.length).toBeGreaterThan(0);
    expect(revoked.every(([, s]) => s === 'revoked')).toBe(true);
    expect(revoked.map(([id]) => id)).toContain(gone.id);
    const suspended = ids(await (await fetch(`${server.url}/consent?show=suspended`)).text());
    expect(suspended).toEqual([[paused.id, 'suspended']]);
    const all = ids(await (await fetch(`${server.url}/consent?show=bogus`)).text());
    expect(all.map(([id]) => id)).toEqual(expect.arrayContaining([live.id, paused.id, gone.id]));
    // Live grants come first.
    const states = all.map(([, s]) => s);
    expect(states.indexOf('revoked')).toBeGreaterThan(states.lastIndexOf('active'));
    // Every grant has its access-report slot.
    const html = await (await fetch(`${server.url}/consent`)).text();
    expect(html.match(/data-slot="access-reports"/g)!.length).toBe(all.length);
  });

  it("another program of this machine, which can read the page and send any header, cannot change a grant without the page's key", async () => {
    const g = await grant('photos/keyless');
    expect(server.consent).toMatch(new RegExp(`^${server.url}/consent\\?key=[A-Za-z0-9_-]{32}$`));
    const key = new URL(server.consent!).searchParams.get('key')!;
    const wrongKeys = ['', 'x', key.slice(1), key.toUpperCase() === key ? key.toLowerCase() : key.toUpperCase(), `${key}x`, encodeURIComponent(key) + '%00'];
    for (const url of [`${server.url}/consent`, `${server.url}/`, ...wrongKeys.map((k) => `${server.url}/consent?key=${k}`)]) {
      // Read-only: no token, no control, and it says how to get them.
      const html = await (await fetch(url)).text();
      expect([url, /name="token"|data-action="(suspend|revoke|resume)"/.test(html)]).toEqual([url, false]);
      expect(html).toContain('This page is read-only');
      // The revoke question too: asked, but with no form to answer it.
      const ask = await (
        await fetch(`${url.replace(/\/(consent)?(\?.*)?$/, '')}/consent/revoke?id=${encodeURIComponent(g.id)}${url.includes('key=') ? `&${url.split('?')[1]}` : ''}`)
      ).text();
      expect([url, ask.includes('Revoke this grant?'), /name="token"|data-action="confirm-revoke"/.test(ask), ask.includes('This page is read-only')]).toEqual([
        url,
        true,
        false,
        true,
      ]);
      for (const action of ['suspend', 'revoke']) {
        for (const token of ['', 'x', key, encodeURIComponent(key)]) {
          const r = await post(`/consent/${action}`, `id=${encodeURIComponent(g.id)}&token=${token}&confirm=yes`, { origin: server.url });
          expect([url, action, token, r.status]).toEqual([url, action, token, 403]);
          expect(await r.text()).toMatch(/charter serve/);
        }
      }
    }
    expect((await verify(g.jwt, 'photos/keyless')).ok).toBe(true);
    // The keyed page: its token changes grants, with no cookie at all.
    const { token } = await session();
    expect((await post('/consent/suspend', `id=${encodeURIComponent(g.id)}&token=${token}`, { origin: server.url })).status).toBe(303);
  });

  it("a cookie opens nothing: the person's browser visiting another user's server on 127.0.0.1 (cookies ignore ports) carries nothing that changes grants", async () => {
    const g = await grant('photos/ports');
    // What the keyed pages send the browser: no Set-Cookie on any page, link or redirect of a keyed session.
    const { token } = await session();
    const keyed = [server.consent!, `${server.url}/consent/revoke?id=${encodeURIComponent(g.id)}&key=${key()}`, `${server.url}/consent?show=active&key=${key()}`];
    for (const url of keyed) expect([url, (await fetch(url)).headers.get('set-cookie')]).toEqual([url, null]);
    const moved = await post('/consent/suspend', `id=${encodeURIComponent(g.id)}&token=${token}`, { origin: server.url });
    expect(moved.headers.get('set-cookie')).toBeNull();
    expect(moved.headers.get('location')).toContain(`key=${key()}`);
    await post('/consent/resume', `id=${encodeURIComponent(g.id)}&token=${token}`, { origin: server.url });
    // Any cookie (the old session cookie's name, a well-formed id, junk) gets a read-only page and changes nothing.
    for (const cookie of [`charter_consent=${'A'.repeat(43)}`, 'charter_consent=junk', `session=${token}`, `charter_consent=${token}`]) {
      const html = await (await fetch(`${server.url}/consent`, { headers: { cookie } })).text();
      expect([cookie, html.includes('name="token"')]).toEqual([cookie, false]);
      const r = await post('/consent/revoke', `id=${encodeURIComponent(g.id)}&confirm=yes`, { cookie, origin: server.url });
      expect([cookie, r.status]).toEqual([cookie, 403]);
    }
    expect((await verify(g.jwt, 'photos/ports')).ok).toBe(true);
    // The keyed page's links (filters, revoke, cancel) all keep the key; nothing on it points to another origin.
    const html = await (await fetch(server.consent!)).text();
    const hrefs = [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!.replaceAll('&amp;', '&'));
    expect(hrefs.length).toBeGreaterThan(5);
    for (const h of hrefs) expect([h, h.startsWith('/consent') && new URL(h, server.url).searchParams.get('key') === key()]).toEqual([h, true]);
    expect(html).not.toMatch(/\saction="(?!\/consent\/(suspend|resume|revoke)")/);
  });

  it('refuses cross-site posts: no token, a wrong token, a foreign Origin, a cross-site fetch, a foreign Host, no Origin', async () => {
    const g = await grant('profile/address');
    const { token } = await session();
    const body = `id=${encodeURIComponent(g.id)}&token=${token}&confirm=yes`;
    expect((await post('/consent/revoke', `id=${encodeURIComponent(g.id)}&confirm=yes`, { origin: server.url })).status).toBe(403);
    expect((await post('/consent/revoke', `id=${encodeURIComponent(g.id)}&token=wrong&confirm=yes`, { origin: server.url })).status).toBe(403);
    expect((await post('/consent/revoke', `id=${encodeURIComponent(g.id)}&token=${token.slice(1)}&confirm=yes`, { origin: server.url })).status).toBe(403);
    expect((await post('/consent/revoke', body, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await post('/consent/revoke', body, { origin: server.url, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await post('/consent/revoke', body, {})).status).toBe(403);
    for (const path of ['/consent', `/consent/revoke?id=${encodeURIComponent(g.id)}`]) {
      const hostStatus = await new Promise<number>((resolve, reject) => {
        const u = new URL(server.url);
        request({ host: u.hostname, port: u.port, path, headers: { host: 'evil.example' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
          .on('error', reject)
          .end();
      });
      expect(hostStatus).toBe(421);
    }
    expect((await verify(g.jwt, 'profile/address')).ok).toBe(true);
    expect((await post('/consent/revoke', body, { origin: server.url })).status).toBe(303);
  });

  it('is not served on a non-loopback listener unless explicitly exposed', async () => {
    const exposed = await serveHome(home, { port: 0, host: '0.0.0.0' });
    try {
      const port = new URL(exposed.url).port;
      expect((await fetch(`http://127.0.0.1:${port}/consent`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/consent/revoke?id=x`)).status).toBe(404);
      const list = (await home.store.listStatusLists())[0]!;
      expect((await fetch(`http://127.0.0.1:${port}/status/${list.id}`)).status).toBe(200);
    } finally {
      await exposed.close();
    }
  });

  it('status lists are cacheable for 60 s by default, for less when the server says so, never longer than the list ttl', async () => {
    const list = (await home.store.listStatusLists())[0]!;
    expect(list.ttlSeconds).toBe(60);
    expect((await fetch(`${server.url}/status/${list.id}`)).headers.get('cache-control')).toBe('public, max-age=60');
    const strict = await serveHome(home, { port: 0, statusMaxAgeSeconds: 10 });
    const loose = await serveHome(home, { port: 0, statusMaxAgeSeconds: 3600 });
    try {
      expect((await fetch(`${strict.url}/status/${list.id}`)).headers.get('cache-control')).toBe('public, max-age=10');
      expect((await fetch(`${loose.url}/status/${list.id}`)).headers.get('cache-control')).toBe('public, max-age=60');
    } finally {
      await strict.close();
      await loose.close();
    }
    await expect(serveHome(home, { port: 0, statusMaxAgeSeconds: -1 })).rejects.toThrow(TypeError);
  });
});
