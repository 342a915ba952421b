import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openHome } from '../../src/home/home.js';
import { publishHome } from '../../src/server/publish.js';
import { tempDir } from '../helpers.js';

const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));

async function homeWith(domains: string[]) {
  const dir = tempDir('charter-publish-');
  const home = await openHome({ home: join(dir, 'home'), passphrase: async () => 'publish tests passphrase' });
  await home.init();
  const dids: string[] = [];
  for (const [i, domain] of domains.entries()) dids.push((await home.createIdentity({ alias: `w${i}`, method: 'web', domain })).did);
  return { home, dids, out: join(dir, 'public') };
}

/** `charter status publish`: every did:web document of the home, none overwriting another. */
describe('publishHome and did:web documents', () => {
  it('one host: its documents at their did:web paths, at the top (as served)', async () => {
    const { home, dids, out } = await homeWith(['example.org', 'example.org:users:alice']);
    try {
      const r = await publishHome(home, out);
      expect(r.files.map((f) => relative(out, f)).sort()).toEqual(['.well-known/did.json', 'users/alice/did.json']);
      expect(JSON.parse(readFileSync(join(out, '.well-known/did.json'), 'utf8')).id).toBe(dids[0]);
      expect(JSON.parse(readFileSync(join(out, 'users/alice/did.json'), 'utf8')).id).toBe(dids[1]);
    } finally {
      await home.close();
    }
  });

  it("several hosts: a folder per host, so two hosts' /.well-known/did.json never overwrite each other", async () => {
    const { home, dids, out } = await homeWith(['a.example', 'b.example', 'a.example:shop', 'localhost%3A8443']);
    try {
      const r = await publishHome(home, out);
      const rel = r.files.map((f) => relative(out, f)).sort();
      expect(rel).toEqual(['a.example/.well-known/did.json', 'a.example/shop/did.json', 'b.example/.well-known/did.json', 'localhost%3A8443/.well-known/did.json']);
      expect(
        walk(out)
          .map((f) => relative(out, f))
          .sort(),
      ).toEqual(rel);
      // Each file holds its own DID's document.
      const idAt = (p: string) => JSON.parse(readFileSync(join(out, p), 'utf8')).id as string;
      expect(idAt('a.example/.well-known/did.json')).toBe(dids[0]);
      expect(idAt('b.example/.well-known/did.json')).toBe(dids[1]);
      expect(idAt('a.example/shop/did.json')).toBe(dids[2]);
      expect(idAt('localhost%3A8443/.well-known/did.json')).toBe(dids[3]);
    } finally {
      await home.close();
    }
  });
});
