// Shared by the examples: a throwaway Charter home whose status lists are served on 127.0.0.1
// (what `charter serve` does), so revocation and budgets work end to end with no setup.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { openHome, type Home } from '../src/home/home.js';
import { serveHome } from '../src/server/serve.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import type { Store } from '../src/store/types.js';

export async function throwawayHome(aliases: string[]): Promise<{ home: Home; baseUrl: string; apiStore: Store; done: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'charter-example-'));
  const home = await openHome({ home: join(dir, 'home'), passphrase: async () => 'example passphrase', allowLoopback: true });
  await home.init();
  const served = await serveHome(home, { port: 0 });
  await home.setPublicUrl(served.url);
  for (const alias of aliases) await home.createIdentity({ alias });
  // The API keeps its own store: replay cache, issued nonces, spend ledger.
  const apiStore = await openSqliteStore(join(dir, 'api.db'));
  return {
    home,
    baseUrl: served.url,
    apiStore,
    done: async () => {
      await served.close();
      await apiStore.close();
      await home.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function listen(app: { listen(port: number, host: string): Server }): Promise<{ url: string; close: () => void }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

export async function show(label: string, r: Response): Promise<void> {
  const body = (await r.json()) as { code?: string; detail?: string };
  console.log(`${label.padEnd(44)} → ${r.status} ${body.code && body.detail ? `${body.code}: ${body.detail}` : JSON.stringify(body)}`);
}
