import { request } from 'node:http';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveHome } from '../../src/server/serve.js';
import { wildcardHosts } from '../../src/server/hosts.js';
import { openWorld, type World } from '../http/world.js';

/*
 * `charter serve --host 0.0.0.0 --expose-consent`: no browser sends Host
 * 0.0.0.0, so the consent page answers the machine's own addresses; host
 * names stay refused (421), the DNS-rebinding defence.
 */

const iface = (address: string, family: 'IPv4' | 'IPv6', internal = false) => ({ address, family, internal }) as NetworkInterfaceInfo;
const MAP = {
  lo: [iface('127.0.0.1', 'IPv4', true), iface('::1', 'IPv6', true)],
  eth0: [iface('192.0.2.7', 'IPv4'), iface('2001:DB8::7', 'IPv6'), iface('fe80::1', 'IPv6'), iface('FEBF::2', 'IPv6')],
  eth1: [iface('192.0.2.7', 'IPv4')],
  down: undefined,
};

describe('wildcardHosts', () => {
  it('0.0.0.0: every IPv4 address of the machine, once', () => {
    expect(wildcardHosts('0.0.0.0', 8080, MAP)).toEqual(['127.0.0.1:8080', '192.0.2.7:8080']);
  });
  it(':: (dual stack): IPv4 and IPv6, bracketed and lower-cased, link-local left out', () => {
    expect(wildcardHosts('::', 1, MAP)).toEqual(['127.0.0.1:1', '[::1]:1', '192.0.2.7:1', '[2001:db8::7]:1']);
  });
  it.each(['127.0.0.1', '192.0.2.7', '::1', '0.0.0.1', ''])('a server bound to %j adds nothing', (bound) => {
    expect(wildcardHosts(bound, 1, MAP)).toEqual([]);
  });
});

let w: World;
beforeAll(async () => {
  w = await openWorld();
});
afterAll(async () => w.close());

const get = (port: string, host: string) =>
  new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/consent', headers: { host } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });

describe('serveHome on 0.0.0.0 with exposeConsent', () => {
  it("answers the machine's own addresses, refuses host names, and prints a link a browser here opens", async () => {
    const served = await serveHome(w.home, { port: 0, host: '0.0.0.0', exposeConsent: true });
    try {
      const port = new URL(served.url).port;
      expect(served.consent).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/consent\\?key=`));
      const own = Object.values(networkInterfaces())
        .flat()
        .filter((i) => i?.family === 'IPv4')
        .map((i) => i!.address);
      expect(own).toContain('127.0.0.1');
      for (const a of own) expect([a, await get(port, `${a}:${port}`)]).toEqual([a, 200]);
      for (const h of [`myhost.lan:${port}`, `192.0.2.254:${port}`, `localhost.attacker.example:${port}`, `127.0.0.1:${Number(port) + 1}`])
        expect([h, await get(port, h)]).toEqual([h, 421]);
    } finally {
      await served.close();
    }
  });
});

/** The first IPv4 address of this machine that is not loopback (a peer from "another machine" as the server sees it). */
const external = Object.values(networkInterfaces())
  .flat()
  .find((i) => i?.family === 'IPv4' && !i.internal)?.address;

const fetchFrom = (address: string, port: string, path: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: address, port, path, method: o.method ?? 'GET', headers: { host: `${address}:${port}`, ...o.headers } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(o.body);
  });

describe('an exposed consent page, seen from another machine', () => {
  it.skipIf(external === undefined)('needs its key to read: without it 403 and no grant listed; with it the page; a change still needs the token', async () => {
    const g = await w.grant();
    const served = await serveHome(w.home, { port: 0, host: '0.0.0.0', exposeConsent: true });
    try {
      const port = new URL(served.url).port;
      const key = new URL(served.consent!).searchParams.get('key')!;
      for (const path of ['/consent', '/', `/consent?key=wrong`, `/consent/revoke?id=${encodeURIComponent(g.id)}`, '/consent?show=active']) {
        const r = await fetchFrom(external!, port, path);
        expect([path, r.status]).toEqual([path, 403]);
        expect(r.body).not.toContain(g.id);
      }
      const keyed = await fetchFrom(external!, port, `/consent?key=${encodeURIComponent(key)}`);
      expect(keyed.status).toBe(200);
      expect(keyed.body).toContain(g.id);
      // A POST without the page token is refused, as on loopback.
      const origin = `http://${external}:${port}`;
      const post = await fetchFrom(external!, port, '/consent/suspend', {
        method: 'POST',
        headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
        body: `id=${encodeURIComponent(g.id)}`,
      });
      expect(post.status).toBe(403);
      // On loopback the page stays readable without the key (read-only), as documented.
      expect((await fetchFrom('127.0.0.1', port, '/consent')).status).toBe(200);
    } finally {
      await served.close();
    }
  });
});
