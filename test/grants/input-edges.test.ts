import { describe, expect, it } from 'vitest';
import { normalizeResource } from '../../src/grants/scope.js';
import { verifyCredential, verifyPresentation, issueCredential, createPresentation } from '../../src/credentials/index.js';
import { createResolver } from '../../src/did/index.js';
import { requireGrant } from '../../src/http/guards.js';
import { verifyRequest } from '../../src/http/request.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { verifyRequestSignature } from '../../src/httpsig/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { makeIssuer, tempDir } from '../helpers.js';

/** Values a request or a caller gives that no rule can read: refused by name, never passed, never a 500. */
describe('input edges', () => {
  it('a resource with an invisible or bidi-control character is RESOURCE_INVALID (a look-alike of another resource)', () => {
    for (const c of ['\u00ad', '\u034f', '\u061c', '\u115f', '\u180e', '\u2060', '\u2066', '\u2067', '\u2069', '\u3164', '\ufe0f', '\u{e0041}', '\u200b', '\u202e', '\ufeff']) {
      expect(() => normalizeResource(`photos/a${c}b`), c.codePointAt(0)!.toString(16)).toThrow(expect.objectContaining({ code: 'RESOURCE_INVALID' }));
      expect(() => normalizeResource(`photos/${encodeURIComponent(c)}..%2Fsecret`)).toThrow(expect.objectContaining({ code: 'RESOURCE_INVALID' }));
    }
    // Visible non-ASCII letters are resources like any other.
    expect(normalizeResource('photos/été')).toBe('photos/été');
  });

  it('an action a route takes from the request that is not a non-empty string is a 400, not a 500', async () => {
    const store = await openSqliteStore(`${tempDir()}/s.db`);
    try {
      const v = createVerifier({ aud: 'did:web:api.example', store, trustHostHeader: true });
      const alice = makeIssuer();
      const guard = requireGrant<Request>({ resource: 'profile/email', action: (r) => new URL(r.url).searchParams.getAll('a') as unknown as string, owner: alice.did });
      for (const q of ['', '?a=read&a=write', '?a=']) {
        const d = await verifyRequest(new Request(`http://api.example/x${q}`, { headers: { authorization: 'Bearer a.b.c' } }), v, guard);
        expect([q, d.status, d.reasons[0]?.code]).toEqual([q, 400, 'INVALID_ARGUMENT']);
      }
    } finally {
      await store.close();
    }
  });

  it('an invalid now is a TypeError wherever a verification takes one: never "valid" because every comparison with NaN is false', async () => {
    const resolver = createResolver();
    const issuer = makeIssuer();
    const { jwt } = await issueCredential({ issuer, subject: issuer.did, type: 'ExampleCredential', claims: { a: 1 }, validUntil: new Date(Date.now() + 1000) });
    const vp = await createPresentation({ holder: issuer, credentials: [jwt], aud: 'x', nonce: 'n' });
    for (const now of [new Date(Number.NaN), new Date('garbage'), '2026-01-01' as unknown as Date, 0 as unknown as Date]) {
      await expect(verifyCredential(jwt, { resolver, now })).rejects.toThrow(TypeError);
      await expect(verifyPresentation(vp, { resolver, aud: 'x', nonce: 'n', now })).rejects.toThrow(TypeError);
      await expect(verifyRequestSignature({ method: 'GET', url: 'https://a.example/', headers: {} }, { keys: { keys: [] }, now })).rejects.toThrow(TypeError);
    }
  });
});
