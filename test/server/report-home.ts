import { request } from 'node:http';
import { join } from 'node:path';
import { accessReportUrl, createAccessReport } from '../../src/audit/index.js';
import { openHome, type Home } from '../../src/home/home.js';
import { serveHome, type RunningServer } from '../../src/server/serve.js';
import { issueGrant } from '../../src/grants/index.js';
import { sha256Digest } from '../../src/encoding/json.js';
import type { Issuer } from '../../src/credentials/types.js';
import { tempDir } from '../helpers.js';
import { handReceipt } from '../audit/hand-receipt.js';

/**
 * A person's home served by `serveHome` on 127.0.0.1, the access-report tests' fixture: `alice` has
 * granted `app` read access to profile/email, and a platform reports decisions taken under that grant.
 */
export interface ReportHome {
  home: Home;
  server: RunningServer;
  alice: Issuer;
  app: Issuer;
  grant: { id: string; jwt: string };
  /** A decision receipt `by` signs about a use of this home's grant by its grantee. */
  receipt(by: Issuer): Promise<string>;
  /** An access report `by` signs about one such use, addressed (`aud`) to this home. */
  report(by: Issuer): Promise<string>;
  close(): Promise<void>;
}

export interface ReportHomeOptions {
  /** The home's public URL from its server's own URL (default: the server's URL). */
  publicUrl?: (serverUrl: string) => string;
  /** How long the grant is valid from now (default one day). */
  grantMs?: number;
  env?: NodeJS.ProcessEnv;
}

export async function openReportHome(options: ReportHomeOptions = {}): Promise<ReportHome> {
  const home = await openHome({
    home: join(tempDir('charter-report-home-'), 'home'),
    passphrase: async () => 'report home passphrase',
    allowLoopback: true,
    ...(options.env ? { env: options.env } : {}),
  });
  await home.init();
  const server = await serveHome(home, { port: 0 });
  await home.setPublicUrl(options.publicUrl ? options.publicUrl(server.url) : server.url);
  await home.createIdentity({ alias: 'alice' });
  await home.createIdentity({ alias: 'app' });
  const alice = await home.issuer('alice');
  const app = await home.issuer('app');
  const grant = await issueGrant(home.store, alice, {
    grantee: app.did,
    resources: ['profile/email'],
    actions: ['read'],
    purpose: 'tests',
    validUntil: new Date(Date.now() + (options.grantMs ?? 86_400_000)),
    baseUrl: (await home.publicUrl())!,
  });
  const receipt = (by: Issuer) =>
    handReceipt(by, {
      sub: app.did,
      grant: { id: grant.id, iss: alice.did },
      credentials: [{ h: sha256Digest(grant.jwt), id: grant.id, iss: alice.did, type: ['DataAccessGrant'] }],
      policy: { kind: 'grant', resource: 'profile/email', action: 'read', owner: alice.did },
    });
  return {
    home,
    server,
    alice,
    app,
    grant,
    receipt,
    report: async (by) => createAccessReport(by, { grant: grant.id, receipts: [await receipt(by)], aud: accessReportUrl(grant.jwt) }),
    close: async () => {
      await server.close();
      await home.close();
    },
  };
}

/** POSTs a body as application/jwt to `url`, from a given loopback address (the per-address limit is keyed by it). */
export function postJwt(url: string, body: string, localAddress = '127.0.0.1'): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', localAddress, headers: { 'content-type': 'application/jwt', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** POSTs a report to the `/access-reports` of a home served at `serverUrl`'s root. */
export const postReport = (serverUrl: string, body: string, localAddress?: string) => postJwt(new URL('/access-reports', serverUrl).href, body, localAddress);
