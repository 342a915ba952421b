import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initHome, openHome } from '../../src/home/home.js';
import { isLoopbackHostname, localOrigin, verifyTools } from '../../src/home/net.js';
import { tempDir } from '../helpers.js';

describe('the own-origin rule: a home testing locally verifies its own publications, nothing else on loopback', () => {
  it('localOrigin is the public URL origin when that is loopback or plain http, else nothing', () => {
    expect(localOrigin('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(localOrigin('https://localhost:8443/base')).toBe('https://localhost:8443');
    // Plain http elsewhere is never fetched (did/fetch.ts), so it is no local origin to open.
    expect(localOrigin('http://id.example.com')).toBeUndefined();
    expect(localOrigin('https://[::1]:9')).toBe('https://[::1]:9');
    expect(localOrigin('https://id.example.com')).toBeUndefined();
    expect(localOrigin('https://10.0.0.1')).toBeUndefined();
    expect(localOrigin(undefined)).toBeUndefined();
    expect(localOrigin('not a url')).toBeUndefined();
    expect([isLoopbackHostname('127.3.2.1'), isLoopbackHostname('[::1]'), isLoopbackHostname('app.localhost'), isLoopbackHostname('192.168.1.1')]).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });

  it('verifyTools allows loopback only for the own origin: did:web on its host resolves, another loopback host is refused', async () => {
    const tools = verifyTools({ publicUrl: 'http://127.0.0.1:9' });
    expect(tools.ownOrigin).toBe('http://127.0.0.1:9');
    // Nothing listens on port 9: the own origin is *tried* (connection refused), another loopback port is refused before any connection.
    await expect(tools.resolver.resolve('did:web:127.0.0.1%3A9')).rejects.toMatchObject({ code: 'DID_RESOLUTION_FAILED', message: expect.stringMatching(/could not reach/) });
    await expect(tools.resolver.resolve('did:web:127.0.0.1%3A10')).rejects.toMatchObject({ code: 'FORBIDDEN_ADDRESS' });
    expect(verifyTools({ publicUrl: 'https://id.example.com' }).ownOrigin).toBeUndefined();
    expect(verifyTools({ publicUrl: 'http://127.0.0.1:9', allowLoopback: true }).ownOrigin).toBeUndefined();
  });
});

describe('openHome({ create: false }) and initHome', () => {
  it('a missing or uninitialized home is NOT_INITIALIZED and nothing is created; initHome creates; a failed one removes what it created', async () => {
    const root = tempDir();
    const dir = join(root, 'a', 'b');
    await expect(openHome({ home: dir, create: false, env: {} })).rejects.toMatchObject({ code: 'NOT_INITIALIZED' });
    expect(existsSync(join(root, 'a'))).toBe(false);
    const bare = await openHome({ home: dir, env: {} }); // create: true by default (library compatibility)
    await bare.close();
    await expect(openHome({ home: dir, create: false, env: {} })).rejects.toMatchObject({ code: 'NOT_INITIALIZED' });
    const other = join(root, 'c', 'd');
    await expect(initHome({ home: other, env: {}, passphrase: async () => 'short', publicUrl: 'https://x.example' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(existsSync(join(root, 'c'))).toBe(false);
    const { home, created } = await initHome({ home: other, env: {}, passphrase: async () => 'long enough passphrase', publicUrl: 'http://127.0.0.1:9' });
    expect([created, home.ownOrigin]).toEqual([true, undefined]); // opened before the URL was set: the next open sees it
    await home.close();
    const again = await openHome({ home: other, create: false, env: {} });
    expect(again.ownOrigin).toBe('http://127.0.0.1:9');
    await again.close();
  });
});
