import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSigner, generateKeyPair } from '../src/keys/index.js';
import type { KeyType } from '../src/keys/types.js';
import { didKeyRef } from '../src/did/index.js';
import type { Issuer } from '../src/credentials/types.js';

/** A fresh did:key identity with its signer. */
export function makeIssuer(type: KeyType = 'Ed25519', method: 'key' | 'jwk' = 'key'): Issuer {
  const kp = generateKeyPair(type);
  return { ...didKeyRef(method, kp.publicJwk), signer: createSigner(kp.privateJwk) };
}

const scratch = new Set<string>();

/** A fresh folder under the OS temp folder, removed when the test file ends (test/setup.ts). */
export function tempDir(prefix = 'charter-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.add(dir);
  return dir;
}

/** Removes every folder tempDir made in this test file. */
export function removeTempDirs(): void {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  scratch.clear();
}

/** A real HTTP server on 127.0.0.1 with a handler, closed by the returned function. */
export async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; port: number; server: Server; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Re-encodes a JWT part (header or payload) with a change, keeping the signature. */
export function tamper(jwt: string, part: 0 | 1, change: (o: Record<string, unknown>) => void): string {
  const parts = jwt.split('.');
  const o = JSON.parse(Buffer.from(parts[part]!, 'base64url').toString()) as Record<string, unknown>;
  change(o);
  parts[part] = Buffer.from(JSON.stringify(o)).toString('base64url');
  return parts.join('.');
}

/** Everything an error shows whoever logs it: message, JSON, own properties, stack (to check a secret is in none). */
export function everythingShown(e: unknown): string {
  const o = e as Error;
  return `${String(o?.message)} ${JSON.stringify(e)} ${JSON.stringify(Object.entries(o ?? {}))} ${String(o?.stack)}`;
}
