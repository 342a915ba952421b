import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signJwt } from '../../src/credentials/index.js';
import { createResolver } from '../../src/did/index.js';
import { createTokenStatusChecker } from '../../src/status/token-checker.js';
import { decodeTokenStatusList, encodeTokenStatusList, readTokenStatus, writeTokenStatus } from '../../src/status/token-codec.js';
import type { StatusListSnapshot } from '../../src/status/checker.js';
import { makeIssuer, serve } from '../helpers.js';

/**
 * A revocation the verifier is told of (refresh, clear) must be seen even
 * when a fetch of the list begun before it is still on its way: that fetch
 * may answer the check that started it, but never the refresh, and never
 * refill the cache afterwards.
 */
describe('Token Status List: refresh() and clear() against a fetch already in flight', () => {
  const issuer = makeIssuer();
  const resolver = createResolver();
  let revoked = false;
  /** Requests still to hold back (ms) before answering, in arrival order. */
  const delays: number[] = [];
  /** Waiters for the next request to reach the server (its state is read on arrival, not after a sleep). */
  const arrivals: (() => void)[] = [];
  const arrived = () => new Promise<void>((r) => arrivals.push(r));
  let srv: Awaited<ReturnType<typeof serve>>;
  // Every list is issued in one second: iat is whole seconds, and a list fetched earlier but issued a
  // second before the refreshed one would be refused as a rollback (rollback.ts) whenever the two
  // requests straddle a second boundary, which is not what these tests are about.
  const iat = Math.floor(Date.now() / 1000);
  beforeAll(async () => {
    srv = await serve(async (req, res) => {
      const bytes = new Uint8Array(16);
      if (revoked) writeTokenStatus(bytes, 1, 3, 1); // the state when the request arrived
      arrivals.splice(0).forEach((r) => r());
      const body = await signJwt(
        { typ: 'statuslist+jwt' },
        { iss: issuer.did, sub: srv.url + req.url, iat, exp: iat + 3600, ttl: 300, status_list: { bits: 1, lst: encodeTokenStatusList(bytes) } },
        issuer.signer,
        issuer.kid,
      );
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/statuslist+jwt' }).end(body), delays.shift() ?? 0);
    });
  });
  afterAll(() => srv.close());

  const setup = (path: string) => {
    revoked = false;
    const tsc = createTokenStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
    const status = { status_list: { idx: 3, uri: `${srv.url}${path}` } };
    return { tsc, status, uri: status.status_list.uri, check: () => tsc(status, { issuer: issuer.did, now: new Date() }) };
  };
  const codes = (r: { code: string }[]) => r.map((x) => x.code);
  const later = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('refresh() after a revocation fetches anew: the revoked token is refused at once and stays refused', async () => {
    const { tsc, uri, check } = setup('/statuslists/refresh');
    delays.push(300);
    const reached = arrived();
    const early = check(); // a slow fetch, begun before the revocation
    await reached;
    revoked = true;
    await tsc.refresh(uri);
    expect(codes(await check())).toEqual(['CREDENTIAL_REVOKED']);
    expect(codes(await early)).toEqual([]); // the check that started it saw the list of its time
    await later(50);
    expect(codes(await check())).toEqual(['CREDENTIAL_REVOKED']);
  });

  it('clear() after a revocation: the older fetch in flight does not refill the cache', async () => {
    const { tsc, check } = setup('/statuslists/clear');
    delays.push(200);
    const reached = arrived();
    const early = check();
    await reached;
    revoked = true;
    tsc.clear();
    expect(codes(await check())).toEqual(['CREDENTIAL_REVOKED']);
    await early;
    expect(codes(await check())).toEqual(['CREDENTIAL_REVOKED']);
  });

  it('two refreshes at once: the newer list wins, whichever answer arrives last', async () => {
    const { tsc, uri, check } = setup('/statuslists/two');
    delays.push(250, 0);
    const reached = arrived();
    const first = tsc.refresh(uri); // slow, valid
    await reached;
    revoked = true;
    await tsc.refresh(uri); // fast, revoked
    await first;
    expect(codes(await check())).toEqual(['CREDENTIAL_REVOKED']);
  });

  it('usedList: a check hands its context the Status List Token it read, not the newer one a racing refresh cached', async () => {
    const { tsc, uri, status } = setup('/statuslists/used');
    const statusOf = (jwt: string) => {
      const p = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { status_list: { lst: string; bits: 1 } };
      return readTokenStatus(decodeTokenStatusList(p.status_list.lst), 1, 3);
    };
    const used: StatusListSnapshot[] = [];
    const after: StatusListSnapshot[] = [];
    delays.push(300);
    const reached = arrived();
    const early = tsc(status, { issuer: issuer.did, now: new Date(), usedList: (l) => used.push(l) });
    await reached;
    revoked = true;
    await tsc.refresh(uri);
    expect(codes(await early)).toEqual([]);
    expect(used).toHaveLength(1);
    expect(used[0]!.url).toBe(uri);
    expect(statusOf(used[0]!.jwt)).toBe(0); // the list the VALID answer rests on
    expect(codes(await tsc(status, { issuer: issuer.did, now: new Date(), usedList: (l) => after.push(l) }))).toEqual(['CREDENTIAL_REVOKED']);
    expect(after.map((l) => statusOf(l.jwt))).toEqual([1]);
    // A list that cannot be had is not reported.
    const none: StatusListSnapshot[] = [];
    const missing = { status_list: { idx: 3, uri: 'http://127.0.0.1:1/statuslists/none' } };
    expect(codes(await tsc(missing, { issuer: issuer.did, now: new Date(), usedList: (l) => none.push(l) }))).toEqual(['STATUS_UNAVAILABLE']);
    expect(none).toEqual([]);
  });
});
