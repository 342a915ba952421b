import { describe, expect, it } from 'vitest';
import { createDidWeb, createResolver } from '../../src/did/index.js';
import { generateKeyPair } from '../../src/keys/index.js';
import { serve } from '../helpers.js';

/**
 * A key read from a cached DID document lives no longer than that document:
 * a key removed from the document (rotated out after a compromise) stops
 * resolving once the document's cache entry expires, however late the key
 * was first asked for.
 */
describe('the resolver key cache and its document', () => {
  it('a key first asked for late in its cached document life expires with the document', async () => {
    let doc = '';
    let fetches = 0;
    const srv = await serve((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/did+json' }).end(doc);
    });
    try {
      const did = `did:web:127.0.0.1%3A${srv.port}`;
      const [a, b] = [generateKeyPair('Ed25519'), generateKeyPair('Ed25519')];
      const base = createDidWeb({ domain: did, publicJwk: a.publicJwk });
      const second = `${did}#key-2`;
      doc = JSON.stringify({
        ...base.document,
        verificationMethod: [...base.document.verificationMethod!, { id: second, type: 'JsonWebKey2020', controller: did, publicKeyJwk: b.publicJwk }],
        assertionMethod: [base.kid, second],
      });
      const TTL = 1000;
      const r = createResolver({ allowLoopback: true, allowHttp: true, cacheTtlMs: TTL });
      const t0 = Date.now();
      await r.resolveKey(did, base.kid, 'assertionMethod'); // the document, cached for TTL
      doc = JSON.stringify(base.document); // key-2 removed at once
      await new Promise((res) => setTimeout(res, 500));
      expect((await r.resolveKey(did, second, 'assertionMethod')).id).toBe(second); // read from the cached document
      await new Promise((res) => setTimeout(res, Math.max(0, t0 + TTL + 250 - Date.now())));
      // Past the document's life, and (unless this machine stalls for a quarter second) before a fresh
      // TTL from the key's first use would end.
      await expect(r.resolveKey(did, second, 'assertionMethod')).rejects.toMatchObject({ code: 'VERIFICATION_METHOD_NOT_FOUND' });
      expect(fetches).toBe(2);
    } finally {
      await srv.close();
    }
  });
});
