import { describe, expect, it } from 'vitest';
import { documentResolver } from '../../src/did/index.js';
import { DOCUMENT_CACHE_CHARS } from '../../src/did/document-resolver.js';
import type { DIDDocument } from '../../src/did/types.js';

/**
 * The DID document cache is bounded by the documents' size as well as their
 * number: a presentation names DIDs anyone can mint (did:web paths on one
 * host), each document up to 100 KiB of JSON and ten times that as objects,
 * so 10,000 of them would fill any heap from requests that are all refused.
 * Observed from outside: a document pushed out is loaded again.
 */
const did = (i: number) => `did:web:attacker.example:h:${i}`;

function loader(padding: number) {
  const loads = new Map<string, number>();
  const load = async (d: string): Promise<DIDDocument> => {
    loads.set(d, (loads.get(d) ?? 0) + 1);
    // No keys at all, and bulk the document rules allow (service entries are not read).
    return { '@context': ['https://www.w3.org/ns/did/v1'], id: d, service: [{ id: '#s', type: 'X', serviceEndpoint: 'x'.repeat(padding) }] } as unknown as DIDDocument;
  };
  return { load, loads };
}

describe('the DID document cache: bounded by size', () => {
  it('large documents push the oldest out long before the count cap; ordinary ones stay', async () => {
    for (const [padding, n, loadsOfFirst] of [
      [100_000, Math.ceil(DOCUMENT_CACHE_CHARS / 100_000) + 4, 2],
      [500, 200, 1],
    ] as const) {
      const { load, loads } = loader(padding);
      const r = documentResolver(load);
      for (let i = 0; i < n; i++) expect((await r.resolve(did(i))).id).toBe(did(i));
      expect((await r.resolve(did(0))).id).toBe(did(0));
      expect([padding, loads.get(did(0))]).toEqual([padding, loadsOfFirst]);
    }
  });

  it('a document over the whole budget is returned, never cached; the ones held stay', async () => {
    const { load, loads } = loader(1000);
    const huge = 'did:web:attacker.example:huge';
    const r = documentResolver(async (d) => (d === huge ? { ...(await load(d)), service: [{ id: '#s', type: 'X', serviceEndpoint: 'x'.repeat(DOCUMENT_CACHE_CHARS) }] } : load(d)));
    await r.resolve(did(1));
    for (let i = 0; i < 2; i++) expect((await r.resolve(huge)).id).toBe(huge);
    await r.resolve(did(1));
    expect([loads.get(huge), loads.get(did(1))]).toEqual([2, 1]);
  });
});
