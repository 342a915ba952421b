import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { createResolver, didKeyRef } from '../src/did/index.js';
import { createSigner, generateKeyPair } from '../src/keys/index.js';
import { issueCredential } from '../src/credentials/index.js';
import { allocateStatusEntry, createStatusChecker, currentStatusListJwt, decodeBitstring, encodeBitstring } from '../src/status/index.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';
import { opsPerSecond, printTable, ratio } from './measure.js';

/** Issue 3: a status check against a cached 131,072-entry list, and decoding a 1,000,000-entry list. */
export async function benchStatus(): Promise<Record<string, number>> {
  const kp = generateKeyPair();
  const issuer = { ...didKeyRef('key', kp.publicJwk), signer: createSigner(kp.privateJwk) };
  const store = await openSqliteStore(join(mkdtempSync(join(tmpdir(), 'charter-bench-')), 'b.db'));
  const server = createServer(async (req, res) => res.end(await currentStatusListJwt(store, (req.url ?? '').split('/').pop()!, async () => issuer)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const entry = await allocateStatusEntry(store, { issuerDid: issuer.did, purpose: 'revocation', baseUrl: base, credentialId: 'x' });
  const vc = await issueCredential({ issuer, subject: issuer.did, type: 'TestCredential', claims: {}, credentialStatus: entry });
  const resolver = createResolver();
  const status = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
  const credential = JSON.parse(Buffer.from(vc.jwt.split('.')[1]!, 'base64url').toString());
  const ctx = { issuer: issuer.did, now: new Date() };
  if ((await status(credential, ctx)).length !== 0) throw new Error('bench setup: status check failed');

  const [h, p, s] = vc.jwt.split('.') as [string, string, string];
  const key = createPublicKey({ key: { ...kp.publicJwk }, format: 'jwk' });
  const input = Buffer.from(`${h}.${p}`);
  const sig = Buffer.from(s, 'base64url');
  const verifyOps = await opsPerSecond(() => nodeVerify(null, input, key, sig));
  const statusOps = await opsPerSecond(() => status(credential, ctx));

  const million = new Uint8Array(1_000_000 / 8);
  for (let i = 0; i < million.length; i += 97) million[i] = 0x5a;
  const encoded = encodeBitstring(million);
  const runs = 20;
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) decodeBitstring(encoded);
  const decodeMs = (performance.now() - t0) / runs;
  server.close();
  await store.close();
  printTable('Status lists', [
    { name: 'status check, cached 131,072-entry list', opsPerSec: statusOps, note: `${ratio(statusOps, verifyOps)}x a signature verify` },
    { name: 'plain Ed25519 signature verify (for scale)', opsPerSec: verifyOps },
    { name: 'decode a 1,000,000-entry list (gunzip + base64url)', ms: decodeMs },
  ]);
  return { statusOps, verifyOps, decodeMs };
}
