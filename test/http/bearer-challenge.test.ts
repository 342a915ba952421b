import { connect, type AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ex from '../../src/http/adapters/express.js';
import { verifyRequest } from '../../src/http/request.js';
import { createVerifier, type Verifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../helpers.js';

/**
 * RFC 6750 §3.1 on a 401 without a usable presentation: a request that
 * offered no Bearer credential (none, or another scheme) gets a challenge
 * with no error code; one that offered a Bearer credential malformed (empty,
 * two tokens, two Authorization lines) gets error="invalid_token".
 */
let v: Verifier;
let base: string;
let close: () => Promise<void>;
beforeAll(async () => {
  v = createVerifier({ aud: 'did:web:api.example', store: await openSqliteStore(`${tempDir()}/v.db`), trustHostHeader: true });
  const app = express();
  app.get('/r', ex.charter(v, ex.requireGrant({ resource: 'r', action: 'read', anyOwner: true })), (_req, res) => void res.json({}));
  const s = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => s.once('listening', () => r()));
  base = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  close = () => new Promise((r) => s.close(() => r()));
});
afterAll(async () => close?.());

const guard = () => ex.requireGrant({ resource: 'r', action: 'read', anyOwner: true }) as never;
async function challenge(authorization?: string): Promise<{ status: number; header: string }> {
  const d = await verifyRequest(new Request('http://127.0.0.1/r', authorization === undefined ? {} : { headers: { authorization } }), v, guard());
  return { status: d.status!, header: d.wwwAuthenticate ?? '' };
}

describe('the Bearer challenge of a request without a usable presentation', () => {
  it.each([undefined, '', 'Basic dXNlcjpwdw==', 'Bearerx abc', 'DPoP abc', 'Negotiate abc'])('no Bearer offered (%j): 401, no error code', async (a) => {
    const c = await challenge(a);
    expect(c.status).toBe(401);
    expect(c.header).toMatch(/^Bearer realm="/);
    expect(c.header).not.toMatch(/error=/);
  });

  it.each(['Bearer', 'Bearer ', 'bearer   ', 'BEARER a b', 'Bearer a, Bearer b', 'Basic x, Bearer y', 'Bearer ,', 'Bearer\ta'])(
    'a Bearer offered malformed (%j): 401 invalid_token',
    async (a) => {
      const c = await challenge(a);
      expect(c.status).toBe(401);
      expect(c.header).toMatch(/error="invalid_token", error_description="INVALID_PRESENTATION"/);
    },
  );

  it('over a real server, two Authorization lines: 401 invalid_token, and the body says why', async () => {
    const u = new URL(base);
    const raw = await new Promise<string>((resolve) => {
      const c = connect(Number(u.port), u.hostname, () =>
        c.write(`GET /r HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer a.b.c\r\nAuthorization: Bearer d.e.f\r\nConnection: close\r\n\r\n`),
      );
      let buf = '';
      c.on('data', (d) => (buf += d));
      c.on('close', () => resolve(buf));
    });
    expect(raw).toMatch(/^HTTP\/1\.1 401/);
    expect(raw).toMatch(/www-authenticate: Bearer realm="[^"]*", error="invalid_token"/i);
    expect(raw).toContain('no single well-formed Bearer token');
  });
});
