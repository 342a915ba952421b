import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CharterError } from '../errors.js';
import type { Home } from '../home/home.js';
import { listGrants, resumeGrant, revokeGrant, suspendGrant, type GrantState } from '../grants/index.js';
import { classifyAddress } from '../did/address.js';
import { CONSENT_STYLE_SRC, pausable, renderConsentPage, renderNotPausable, renderRevokeConfirmation, type ConsentView } from './consent-page.js';
import { dateFormatter, namer, parseFilter, pickLocale, sortGrants, type ConsentGrant } from './consent-view.js';
import { accessReports, MAX_KEPT_PER_GRANT } from '../audit/index.js';
import { renderAccessReports } from './access-report-view.js';
import { problem } from './reply.js';

export type ConsentHandler = ((req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>) & {
  /** The page's key: `/consent?key=…` (the link `charter serve` prints) opens the page that may change grants (its links keep the key). */
  readonly key: string;
};

export interface ConsentOptions {
  origin: string;
  port: number;
  /** The paths routed here and the methods each answers (for 405's Allow). */
  paths?: Record<string, string>;
  /** More Host values the page answers (`address:port`): the machine's own addresses when bound to a wildcard address (hosts.ts). */
  hosts?: readonly string[];
  /** Answer only requests from a loopback address (the page is on loopback; a forwarded port must not reach it). */
  loopbackPeersOnly?: boolean;
  /** Fills each grant's access-report slot (see ConsentView.accessReports). */
  accessReports?: ConsentView['accessReports'];
  /** Formats dates in this zone instead of the process's (tests). */
  timeZone?: string;
}

const MAX_FORM = 4096;
const ACTIONS = { revoke: revokeGrant, suspend: suspendGrant, resume: resumeGrant } as const;
const DONE = { revoke: 'revoked', suspend: 'suspended', resume: 'resumed' } as const;
type Done = (typeof DONE)[keyof typeof DONE];
/** The state a grant is in once each action is done: a notice is shown only when the grant is really in it. */
const DONE_STATE: Record<Done, GrantState> = { revoked: 'revoked', suspended: 'suspended', resumed: 'active' };

/** No script at all; the one style sheet by hash; forms only to this origin; never framed. */
const SECURITY = {
  'content-security-policy': `default-src 'none'; style-src ${CONSENT_STYLE_SRC}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  'x-frame-options': 'DENY',
  // same-origin (not no-referrer): with no-referrer browsers send `Origin: null` on our own form posts.
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

/**
 * The person's page: every grant they issued, with controls to pause, resume
 * or revoke (revoking asks first: it is permanent). Cross-site requests are
 * refused three ways: the Host header must be this loopback origin (DNS
 * rebinding), and every POST carries the page's token and a same-origin
 * Origin (a POST without Origin is refused: browsers send it on every form
 * post). Reading the page needs none of these: any process of this machine
 * may read it (the loopback design). Changing a grant takes the page's key:
 * the link `charter serve` prints to the person (`/consent?key=…`). Only a
 * page requested with the key holds the token (an HMAC of the key) and
 * carries the key in its own links; a page without it is read-only. The key
 * lives in URLs, never in a cookie: browsers send a cookie to every port of
 * a host (RFC 6265 §8.5), so another user's server on 127.0.0.1 the person
 * happens to visit would receive it. The token and Origin stop browsers on
 * other sites; the key stops other programs and other users of this machine,
 * which can read the page and send any header they like but never saw the
 * link (same-origin Referrer-Policy: no other origin sees the URLs).
 */
export function createConsentHandler(home: Home, opts: ConsentOptions): ConsentHandler {
  const secret = randomBytes(32);
  const key = randomBytes(24).toString('base64url');
  // What a page opened with the key puts in its forms: only the server can make it, and only such a page shows it.
  const pageToken = createHmac('sha256', secret).update(key).digest('base64url');
  const allowedHosts = new Set([`127.0.0.1:${opts.port}`, `localhost:${opts.port}`, `[::1]:${opts.port}`, new URL(opts.origin).host, ...(opts.hosts ?? [])]);
  const allowedOrigins = new Set([...allowedHosts].map((h) => `http://${h}`));
  /** Whether the request's URL carries the page's key (every link of a keyed page does). */
  const keyed = (url: URL): boolean => safeEqual(url.searchParams.get('key') ?? '', key);
  /** A link of this page: a keyed page's links keep the key, so the person stays able to change grants. */
  const linker =
    (withKey: boolean) =>
    (path: string, params: Record<string, string> = {}): string => {
      const q = new URLSearchParams(withKey ? { ...params, key } : params).toString();
      return q === '' ? path : `${path}?${q}`;
    };

  const grants = async (): Promise<ConsentGrant[]> =>
    sortGrants(
      await Promise.all(
        (await listGrants(home.store, {})).map(async (g) => {
          const rec = await home.store.getCredential(g.id);
          const issued = rec?.validFrom ?? rec?.createdAt;
          return issued ? { ...g, issued } : g;
        }),
      ),
    );

  const viewFor = async (req: IncomingMessage, withKey: boolean) => {
    const locale = pickLocale(req.headers['accept-language']);
    return { token: withKey ? pageToken : '', link: linker(withKey), locale, name: namer(await home.store.listIdentities()), date: dateFormatter(locale, opts.timeZone) };
  };

  const html = (res: ServerResponse, headers: Record<string, string>, body: string) => {
    res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8' });
    res.end(body);
  };

  const handler = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (opts.loopbackPeersOnly === true && classifyAddress(req.socket.remoteAddress ?? '') !== 'loopback') {
      return problem(res, 'NOT_FOUND', 'the consent page is served on loopback only', 404);
    }
    if (!allowedHosts.has(req.headers.host ?? '')) return problem(res, 'INVALID_ARGUMENT', 'unexpected Host header', 421);
    // Exposed (--expose-consent), the page lists the person's grants to the network: from another machine
    // it opens only with its key, to read too (a change needs the key's page token in any case).
    if (opts.loopbackPeersOnly !== true && classifyAddress(req.socket.remoteAddress ?? '') !== 'loopback' && !keyed(url) && req.method !== 'POST') {
      return problem(res, 'INVALID_ARGUMENT', 'from another machine the consent page opens only with its key: use the consent link `charter serve` printed', 403);
    }
    const headers: Record<string, string> = { ...SECURITY };
    // HEAD wherever GET (RFC 9110 §9.3.2): the same headers, and Node sends no body.
    const read = req.method === 'GET' || req.method === 'HEAD';

    if (read && (url.pathname === '/' || url.pathname === '/consent')) {
      const base = await viewFor(req, keyed(url));
      const all = await grants();
      const done = url.searchParams.get('done');
      const named = all.find((g) => g.id === url.searchParams.get('id'));
      // Only what really happened: a link cannot make the page say an active grant was revoked.
      const notice = (Object.values(DONE) as string[]).includes(done ?? '') && named?.state === DONE_STATE[done as Done] ? { action: done as Done, grant: named } : undefined;
      // The uses platforms reported back (access reports, accountability), in each grant's card: all of them
      // (a home keeps at most MAX_KEPT_PER_GRANT), so the count is true and every verifier is named.
      // Read only when the page renders them itself (not when a caller fills the slot).
      let reports = opts.accessReports;
      if (reports === undefined) {
        const uses = new Map(await Promise.all(all.map(async (g) => [g.id, await accessReports(home.store, g.id, { limit: MAX_KEPT_PER_GRANT })] as const)));
        reports = (g: ConsentGrant) => renderAccessReports(uses.get(g.id) ?? [], { date: base.date, name: base.name, grantee: g.grantee });
      }
      const view: ConsentView = { ...base, grants: all, filter: parseFilter(url.searchParams.get('show')), notice, accessReports: reports };
      return html(res, headers, renderConsentPage(view));
    }

    // Revoking is permanent: the page's Revoke link leads here first, and nothing changes until the confirmation is posted.
    if (read && url.pathname === '/consent/revoke') {
      const base = await viewFor(req, keyed(url));
      const g = (await grants()).find((x) => x.id === url.searchParams.get('id'));
      if (!g || (g.state !== 'active' && g.state !== 'suspended')) return problem(res, 'NOT_FOUND', 'no grant with this id that can still be revoked', 404);
      return html(res, headers, renderRevokeConfirmation(base, g, await staleness(home, g.id)));
    }

    const action = /^\/consent\/(revoke|suspend|resume)$/.exec(url.pathname)?.[1] as keyof typeof ACTIONS | undefined;
    if (req.method === 'POST' && action) {
      // A same-origin Origin is required, not merely checked when present: every browser sends it on a form
      // POST, and a request without one (a script, a tool) has no business changing a grant.
      const origin = req.headers.origin;
      const site = req.headers['sec-fetch-site'];
      if (origin === undefined || !allowedOrigins.has(origin) || (site !== undefined && site !== 'same-origin' && site !== 'none')) {
        return problem(res, 'INVALID_ARGUMENT', 'cross-site request refused: changes are made from the page itself', 403);
      }
      const form = new URLSearchParams(await readBody(req));
      const token = form.get('token') ?? '';
      if (token === '') return problem(res, 'INVALID_ARGUMENT', 'open the consent link `charter serve` printed (it carries the page key) to change grants', 403);
      if (!safeEqual(token, pageToken)) return problem(res, 'INVALID_ARGUMENT', 'wrong page token: open the consent link `charter serve` printed again', 403);
      const link = linker(true);
      const id = form.get('id') ?? '';
      if (action === 'suspend' || action === 'resume') {
        // An SD-JWT grant has no paused state (its Token Status List has one bit): the page offers no Pause,
        // and one posted anyway (an old page, a hand-made form) gets words, not a bare error.
        const g = (await grants()).find((x) => x.id === id);
        if (g && !pausable(g)) {
          const detail = 'this grant cannot be paused or resumed: it is an SD-JWT grant, which has no paused state (it can only be revoked)';
          if (!/\btext\/html\b/.test(req.headers.accept ?? '')) return problem(res, 'INVALID_ARGUMENT', detail, 400);
          res.writeHead(400, { ...SECURITY, 'content-type': 'text/html; charset=utf-8' });
          return void res.end(renderNotPausable(await viewFor(req, true), g));
        }
      }
      if (action === 'revoke' && form.get('confirm') !== 'yes') {
        // An unconfirmed revoke (an old page, a hand-made form) only shows the confirmation.
        res.writeHead(303, { ...SECURITY, location: link('/consent/revoke', { id }) });
        return void res.end();
      }
      try {
        await ACTIONS[action](home.store, id, (did: string) => home.issuer(did));
      } catch (e) {
        if (e instanceof CharterError) return problem(res, e.code, e.message, e.code === 'NOT_FOUND' ? 404 : 400);
        throw e;
      }
      res.writeHead(303, { ...SECURITY, location: link('/consent', { done: DONE[action], id }) });
      res.end();
      return;
    }
    const allow = opts.paths?.[url.pathname];
    if (allow === undefined) return problem(res, 'NOT_FOUND', 'not found', 404);
    problem(res, 'INVALID_ARGUMENT', `${req.method ?? '?'} is not allowed here`, 405, { allow });
  };
  return Object.assign(handler, { key });
}

/** How long verifiers may keep believing the grant is live after a revocation: its revocation list's ttl. */
async function staleness(home: Home, id: string): Promise<number | undefined> {
  for (const a of await home.store.findStatusAllocation(id)) {
    const list = await home.store.getStatusList(a.listId);
    if (list?.purpose === 'revocation') return list.ttlSeconds;
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
