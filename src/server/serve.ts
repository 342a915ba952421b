import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { CharterError, shown } from '../errors.js';
import type { Home } from '../home/home.js';
import { currentStatusListJwt } from '../status/index.js';
import { DIRECTORY_PATH } from '../httpsig/index.js';
import { currentTokenStatusListJwt, STATUS_LIST_MEDIA_TYPE } from '../status/token-issuer.js';
import { didWebToUrl } from '../did/index.js';
import { decodedRequestPath, didWebPath } from './did-web-path.js';
import { agentDirectory } from './directory.js';
import { createConsentHandler, type ConsentHandler } from './consent.js';
import { wildcardHosts } from './hosts.js';
import { problem } from './reply.js';
import { createAccessReportHandler } from './access-report.js';
import { isLoopbackHostname } from '../home/net.js';
import { classifyAddress } from '../did/address.js';

export interface ServeOptions {
  port?: number;
  host?: string;
  /** Serve the consent page on a non-loopback host too (it can revoke grants). */
  exposeConsent?: boolean;
  /**
   * Longest HTTP caches may keep a status list (Cache-Control max-age, seconds):
   * the list's own ttl when shorter. Default 60. Lower means a revocation
   * reaches verifiers behind a cache sooner, at the cost of more fetches.
   */
  statusMaxAgeSeconds?: number;
  /**
   * Told what the operator should know but no request is refused for (agents left out of the key
   * directory over its 16-key cap), once per distinct message. Default: `process.emitWarning`.
   */
  warn?: (message: string) => void;
}

/** The default Cache-Control max-age of a served status list, in seconds. */
export const DEFAULT_STATUS_MAX_AGE_SECONDS = 60;

export interface RunningServer {
  server: Server;
  url: string;
  /** The consent page's URL with its key (the link for the person: the page opened with it may change grants), when this server shows the page (bound to a loopback address, or `exposeConsent`); null otherwise. */
  consent: string | null;
  close(): Promise<void>;
}

/**
 * Whether a `--host` value names this machine only (`localhost`, 127.0.0.0/8,
 * ::1), judged from the text as home/net.ts judges it. The server itself
 * decides from the address it actually bound (a name may resolve elsewhere).
 */
export function isLoopbackHost(host: string): boolean {
  return isLoopbackHostname(host);
}

/** The consent paths and the methods each answers (HEAD wherever GET, RFC 9110 §9.3.2). */
const CONSENT_PATHS: Record<string, string> = {
  '/': 'GET, HEAD',
  '/consent': 'GET, HEAD',
  '/consent/revoke': 'GET, HEAD, POST',
  '/consent/suspend': 'POST',
  '/consent/resume': 'POST',
};

/**
 * `charter serve`: status list credentials (always current: a revocation is
 * visible to the next fetch) at /status/<id>, the same lists as IETF Status
 * List Tokens at /statuslists/<id>, did:web documents, the Web Bot Auth key
 * directory of the home's agents, and the consent page.
 * Status lists are re-signed on demand when the stored signed version is
 * older than the bits (this also repairs a crash between commit and re-sign).
 */
export async function serveHome(home: Home, options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  /** Decided once listening, from the address bound: a host name such as 127.example.net may resolve to any address. */
  let consentEnabled = false;
  const maxAge = options.statusMaxAgeSeconds ?? DEFAULT_STATUS_MAX_AGE_SECONDS;
  if (!Number.isInteger(maxAge) || maxAge < 0) throw new TypeError('statusMaxAgeSeconds must be a non-negative integer');
  // Unlock now: serving must re-sign lists without prompting mid-request.
  await home.passphrase();
  let consent: ConsentHandler | undefined;
  /** Where this server listens: the directory's authority when the home has no public URL. */
  let selfOrigin = '';
  const accessReport = createAccessReportHandler(home);
  const warned = new Set<string>();
  const warn = (message: string) => {
    // Once per message (a bounded few): the directory is fetched often, the log is read by a person.
    if (warned.has(message) || warned.size >= 64) return;
    warned.add(message);
    if (options.warn) options.warn(message);
    else process.emitWarning(message, { code: 'CHARTER_DIRECTORY_CAP' });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) {
        // The status from the one edge table: a store fault is a 503 with Retry-After, never a bare 500.
        // A body over the cap is 413 (RFC 9110 §15.5.14) here, whatever the table says of a token too large.
        if (e instanceof CharterError) problem(res, e.code, e.message, e.code === 'INPUT_TOO_LARGE' ? 413 : undefined);
        else problem(res, 'INTERNAL', 'internal error');
      } else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A request-target URL cannot parse ("//", "//a:b@/") names nothing here: 404, not a 500.
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return problem(res, 'NOT_FOUND', 'no such resource', 404);
    }
    const path = url.pathname;
    if (req.method === 'GET' || req.method === 'HEAD') {
      const status = /^\/status\/([A-Za-z0-9_-]{1,128})$/.exec(path);
      if (status) {
        const list = await home.store.getStatusList(status[1]!);
        if (!list) return problem(res, 'NOT_FOUND', 'no such status list', 404);
        const jwt = await currentStatusListJwt(home.store, list.id, (did) => home.issuer(did));
        res.writeHead(200, {
          'content-type': 'application/vc+jwt',
          // Bitstring Status List §2.2: ttl is advisory; HTTP caches follow it too, never longer than this server's cap.
          'cache-control': `public, max-age=${Math.min(maxAge, Math.max(0, Math.floor(list.ttlSeconds)))}`,
        });
        res.end(req.method === 'HEAD' ? undefined : jwt);
        return;
      }
      // The same list as an IETF Token Status List (draft-ietf-oauth-status-list §8.1: GET the `uri`
      // of a Referenced Token's status, answered as application/statuslist+jwt), for SD-JWT VCs.
      const token = /^\/statuslists\/([A-Za-z0-9_-]{1,128})$/.exec(path);
      if (token) {
        const list = await home.store.getStatusList(token[1]!);
        // One bit cannot say SUSPENDED (§7.1): only revocation lists are published this way.
        if (!list || list.purpose !== 'revocation') return problem(res, 'NOT_FOUND', 'no such status list', 404);
        const jwt = await currentTokenStatusListJwt(home.store, list.id, (did) => home.issuer(did));
        res.writeHead(200, { 'content-type': STATUS_LIST_MEDIA_TYPE, 'cache-control': `public, max-age=${Math.min(maxAge, Math.max(0, Math.floor(list.ttlSeconds)))}` });
        res.end(req.method === 'HEAD' ? undefined : jwt);
        return;
      }
      if (path === DIRECTORY_PATH) {
        // Web Bot Auth: the keys the home's agents sign requests with, signed afresh per request.
        const dir = await agentDirectory(home, selfOrigin);
        if (!dir) return problem(res, 'NOT_FOUND', 'this home has no agent with an Ed25519 or P-256 key', 404);
        // Over the cap a verifier reads, the first agents are published and the operator told which are not.
        if (dir.omitted.length > 0) {
          const names = dir.omitted.slice(0, 20).join(', ') + (dir.omitted.length > 20 ? ', …' : '');
          warn(`the key directory lists at most 16 agents: ${dir.omitted.length} left out (newest): ${names}`);
        }
        res.writeHead(dir.status, dir.headers);
        res.end(req.method === 'HEAD' ? undefined : dir.body);
        return;
      }
      if (path.endsWith('/did.json')) {
        // did:web §3.2: the document of the DID whose host and path the request names. Several did:web
        // identities may share a path on different hosts; with none for this Host (a proxy that rewrites
        // it), the one identity at this path, if only one is.
        // didWebPath decodes the DID's segments, so the request's are decoded too (users:caf%C3%A9 is /users/caf%C3%A9/did.json);
        // a path that cannot be a did:web path once decoded (an encoded "/", a dot segment) names none.
        const wanted = decodedRequestPath(path);
        const atPath = wanted === undefined ? [] : (await home.store.listIdentities()).filter((rec) => rec.method === 'web' && rec.document && didWebPath(rec.did) === wanted);
        const host = (req.headers.host ?? '').toLowerCase();
        const rec = atPath.find((r) => new URL(didWebToUrl(r.did)).host.toLowerCase() === host) ?? (atPath.length === 1 ? atPath[0] : undefined);
        if (rec) {
          res.writeHead(200, { 'content-type': 'application/did+json' });
          res.end(req.method === 'HEAD' ? undefined : JSON.stringify(rec.document));
          return;
        }
        return problem(res, 'NOT_FOUND', atPath.length > 1 ? 'several did:web documents live at this path: name the host' : 'no did:web document at this path', 404);
      }
    }
    // The read-only resources exist for GET and HEAD only (RFC 9110 §15.5.6: 405 with Allow).
    if (/^\/(?:status|statuslists)\/[A-Za-z0-9_-]{1,128}$/.test(path) || path === DIRECTORY_PATH || path.endsWith('/did.json')) {
      return problem(res, 'INVALID_ARGUMENT', `${req.method ?? '?'} is not allowed here: use GET`, 405, { allow: 'GET, HEAD' });
    }
    if (path === '/access-reports') return accessReport(req, res);
    if (Object.hasOwn(CONSENT_PATHS, path)) {
      if (!consentEnabled || !consent) return problem(res, 'NOT_FOUND', 'the consent page is served on loopback only', 404);
      return consent(req, res, url);
    }
    return problem(res, 'NOT_FOUND', 'not found', 404);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      // A busy port is the caller's to fix (another port), not a fault.
      if (e.code === 'EADDRINUSE')
        reject(new CharterError('ADDRESS_IN_USE', `${host}:${options.port ?? 0} is already in use: choose another port (charter serve --port N)`, { cause: e }));
      // A host that does not resolve or is not this machine's, or a port this user may not bind: the caller's choice to fix.
      else if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN' || e.code === 'EADDRNOTAVAIL' || e.code === 'EACCES' || e.code === 'EINVAL')
        reject(new CharterError('INVALID_ARGUMENT', `cannot listen on ${shown(host, 100)}:${options.port ?? 0} (${e.code}): choose a local address and port`, { cause: e }));
      else reject(e);
    });
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const hostPart = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${hostPart}:${addr.port}`;
  selfOrigin = url;
  const loopback = classifyAddress(addr.address) === 'loopback';
  consentEnabled = loopback || options.exposeConsent === true;
  // On loopback, a request from elsewhere (a forwarded port) is refused too; exposing the page is the person's explicit choice.
  // Bound to every address: the page answers the machine's own addresses (no browser sends Host 0.0.0.0),
  // and the link names loopback, which a browser on this machine opens.
  const hosts = wildcardHosts(addr.address, addr.port, networkInterfaces());
  if (consentEnabled) consent = createConsentHandler(home, { origin: url, port: addr.port, paths: CONSENT_PATHS, loopbackPeersOnly: options.exposeConsent !== true, hosts });
  const consentOrigin = addr.address === '0.0.0.0' || addr.address === '::' ? `http://127.0.0.1:${addr.port}` : url;
  return {
    server,
    url,
    consent: consent ? `${consentOrigin}/consent?key=${consent.key}` : null,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
