import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CharterError } from '../errors.js';
import type { Home } from '../home/home.js';
import { listGrants, resumeGrant, revokeGrant, suspendGrant } from '../grants/index.js';
import { renderConsentPage } from './consent-page.js';
import { accessReports } from '../audit/index.js';
import { renderAccessReports } from './access-report-view.js';
import { problem } from './reply.js';

export type ConsentHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

const COOKIE = 'charter_consent';
const MAX_FORM = 4096;
const ACTIONS = { revoke: revokeGrant, suspend: suspendGrant, resume: resumeGrant } as const;

/**
 * The person's page: every grant they issued, with buttons to revoke, suspend
 * or resume. Cross-site requests are refused three ways: the Host header must
 * be this loopback origin (DNS rebinding), the session cookie is SameSite=Strict,
 * and every POST carries a per-session token (HMAC of the session id).
 */
export function createConsentHandler(home: Home, opts: { origin: string; port: number }): ConsentHandler {
  const secret = randomBytes(32);
  const allowedHosts = new Set([`127.0.0.1:${opts.port}`, `localhost:${opts.port}`, `[::1]:${opts.port}`, new URL(opts.origin).host]);
  const tokenFor = (session: string) => createHmac('sha256', secret).update(session).digest('base64url');

  return async (req, res, url) => {
    if (!allowedHosts.has(req.headers.host ?? '')) return problem(res, 'INVALID_ARGUMENT', 'unexpected Host header', 421);
    const security = {
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      'x-frame-options': 'DENY',
      // same-origin (not no-referrer): with no-referrer browsers send `Origin: null` on our own form posts.
      'referrer-policy': 'same-origin',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    };
    if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/consent')) {
      let session = readCookie(req, COOKIE);
      const headers: Record<string, string> = { ...security, 'content-type': 'text/html; charset=utf-8' };
      if (!session || !/^[A-Za-z0-9_-]{43}$/.test(session)) {
        session = randomBytes(32).toString('base64url');
        headers['set-cookie'] = `${COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/`;
      }
      const grants = await listGrants(home.store, {});
      // ---- access reports (accountability): a separate block below the grants ----
      const uses = new Map(await Promise.all(grants.map(async (g) => [g.id, await accessReports(home.store, g.id, { limit: 20 })] as const)));
      const after = renderAccessReports(grants, uses);
      res.writeHead(200, headers);
      res.end(renderConsentPage(grants, { token: tokenFor(session), notice: url.searchParams.get('done') ?? undefined, after }));
      return;
    }
    const action = /^\/consent\/(revoke|suspend|resume)$/.exec(url.pathname)?.[1] as keyof typeof ACTIONS | undefined;
    if (req.method === 'POST' && action) {
      const origin = req.headers.origin;
      const site = req.headers['sec-fetch-site'];
      if ((origin !== undefined && origin !== opts.origin && origin !== `http://localhost:${opts.port}`) || (site !== undefined && site !== 'same-origin' && site !== 'none')) {
        return problem(res, 'INVALID_ARGUMENT', 'cross-site request refused', 403);
      }
      const session = readCookie(req, COOKIE);
      const form = new URLSearchParams(await readBody(req));
      const token = form.get('token') ?? '';
      if (!session || !safeEqual(token, tokenFor(session))) return problem(res, 'INVALID_ARGUMENT', 'missing or wrong page token: reload the page', 403);
      const id = form.get('id') ?? '';
      try {
        await ACTIONS[action](home.store, id, (did: string) => home.issuer(did));
      } catch (e) {
        if (e instanceof CharterError) return problem(res, e.code, e.message, e.code === 'NOT_FOUND' ? 404 : 400);
        throw e;
      }
      res.writeHead(303, { ...security, location: `/consent?done=${action}d` });
      res.end();
      return;
    }
    problem(res, 'INVALID_ARGUMENT', 'method not allowed', 405);
  };
}

function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function readBody(req: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_FORM) throw new CharterError('INPUT_TOO_LARGE', 'form too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
