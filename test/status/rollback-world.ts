// Shared by the rollback-mark tests: lists served from 127.0.0.1 whose copies a test swaps, and a credential
// whose status entry points at one of them, checked by a status checker on a clock the test moves.
import { afterAll, beforeAll } from 'vitest';
import { createStatusChecker, type StatusListChecker } from '../../src/status/index.js';
import { issueCredential, verifyCredential } from '../../src/credentials/index.js';
import type { CredentialStatusEntry } from '../../src/credentials/types.js';
import { createResolver } from '../../src/did/index.js';
import { makeIssuer, serve } from '../helpers.js';

export const resolver = createResolver();
export const issuer = makeIssuer();
export const holder = makeIssuer();
export const T0 = Date.UTC(2026, 11, 3, 10, 0, 0);
export const iso = (ms: number) => new Date(ms).toISOString();
/** The credential's index in every list. */
export const INDEX = 7;

/** Starts the list server for the file's tests; `path(kind)` gives a fresh path on it, `serve` swaps what a path serves. */
export function listServer() {
  let srv: Awaited<ReturnType<typeof serve>>;
  const serving = new Map<string, string>();
  let n = 0;
  beforeAll(async () => {
    srv = await serve((req, res) => {
      const body = serving.get(req.url ?? '');
      if (body === undefined) res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'application/vc+jwt' }).end(body);
    });
  });
  afterAll(() => srv.close());
  const fresh = (kind: string) => {
    const path = `/${kind}/${++n}`;
    return { path, url: srv.url + path, serve: (body: string) => serving.set(path, body) };
  };
  /** A credential with a status entry of `purpose` at a fresh list path; `codes()` verifies it at the test's clock. */
  async function setup(o: { purpose?: string; kind?: string } = {}) {
    const { url, serve: serveBody } = fresh(o.kind ?? 'lists');
    const entry = {
      type: 'BitstringStatusListEntry',
      statusPurpose: o.purpose ?? 'revocation',
      statusListIndex: String(INDEX),
      statusListCredential: url,
    } as unknown as CredentialStatusEntry;
    const jwt = (await issueCredential({ issuer, subject: holder.did, type: 'TestCredential', claims: {}, credentialStatus: entry, validFrom: new Date(T0 - 86_400_000) })).jwt;
    let clock = T0 + 60_000;
    const status = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true, now: () => clock });
    const codes = async (checker: StatusListChecker = status) => (await verifyCredential(jwt, { resolver, status: checker, now: new Date(clock) })).reasons.map((r) => r.code);
    return {
      url,
      status,
      codes,
      serve: serveBody,
      /** Past the cached copy's ttl (1 s), so the next check fetches again. */
      later: () => {
        clock += 2_000;
      },
    };
  }
  return { fresh, setup };
}
