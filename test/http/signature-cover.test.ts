import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireSignature } from '../../src/http/guards.js';
import { verifyRequest } from '../../src/http/request.js';
import { contentDigest, signatureHeaders, verifyRequestSignature } from '../../src/httpsig/index.js';
import { openWorld, type World } from './world.js';

/**
 * What a signature must cover. The Web Bot Auth draft asks only for
 * @authority (and the Signature-Agent member): such a signature names the
 * agent, for any request to the site. `cover: 'request'` makes it a
 * signature of this request: one made for GET /public is refused on POST
 * /orders, and one covering only the authority is refused outright.
 */
describe('requireSignature({ cover })', () => {
  let w: World;
  const ORIGIN = 'http://127.0.0.1:9999';
  beforeAll(async () => {
    w = await openWorld();
  });
  afterAll(async () => {
    await w.close();
  });

  const keys = () => ({ keys: { keys: [w.agent.publicJwk] } });
  const sign = (method: string, path: string, components?: string[], headers: Record<string, string> = {}) =>
    signatureHeaders({ method, url: ORIGIN + path, headers }, { signer: w.agent.signer, publicJwk: w.agent.publicJwk, ...(components ? { components } : {}) }).then(
      (h) => ({ ...headers, ...h }) as Record<string, string>,
    );
  const send = (method: string, path: string, headers: Record<string, string>, cover?: 'agent' | 'request' | string[]) =>
    verifyRequest(new Request(ORIGIN + path, { method, headers }), w.verifier(), requireSignature({ ...keys(), ...(cover !== undefined ? { cover } : {}) }));

  it("default ('agent'): a signature of the authority alone is accepted, as Web Bot Auth bots send it", async () => {
    const d = await send('GET', '/public', await sign('GET', '/public', ['@authority']));
    expect(d.reasons).toEqual([]);
    expect(d.ok).toBe(true);
  });

  it("'request': the authority alone is not enough", async () => {
    const d = await send('GET', '/public', await sign('GET', '/public', ['@authority']), 'request');
    expect([d.status, d.reasons[0]?.code]).toEqual([401, 'SIGNATURE_INVALID']);
    // The refusal asks for what it wants (RFC 9421 §5.1).
    expect(d.acceptSignature).toMatch(/"@method".*"@authority".*"@path".*"@query"/);
  });

  it("'request': a signature made for GET /public is refused on POST /orders, and on GET /public?x=1", async () => {
    const forPublic = await sign('GET', '/public');
    expect((await send('POST', '/orders', forPublic, 'request')).reasons[0]?.code).toBe('SIGNATURE_INVALID');
    expect((await send('GET', '/public?x=1', await sign('GET', '/public'), 'request')).reasons[0]?.code).toBe('SIGNATURE_INVALID');
    expect((await send('GET', '/public', await sign('GET', '/public'), 'request')).ok).toBe(true);
  });

  it('@target-uri stands for the authority, path and query it contains', async () => {
    const d = await send('GET', '/a?b=1', await sign('GET', '/a?b=1', ['@method', '@target-uri']), 'request');
    expect(d.reasons).toEqual([]);
  });

  it('a list: content-digest required means a body-less signature is refused and Accept-Signature asks for it', async () => {
    const body = '{"sku":"tea"}';
    const withDigest = await sign('POST', '/orders', undefined, { 'content-digest': contentDigest(body) });
    const bare = await sign('POST', '/orders');
    const guard = requireSignature({ ...keys(), cover: ['@method', '@path', 'content-digest'] });
    const verify = (headers: Record<string, string>) => verifyRequest(new Request(ORIGIN + '/orders', { method: 'POST', headers, body }), w.verifier(), guard);
    expect((await verify(withDigest)).reasons).toEqual([]);
    const refused = await verify(bare);
    expect(refused.reasons[0]?.code).toBe('SIGNATURE_INVALID');
    expect(refused.acceptSignature).toContain('"content-digest"');
  });

  it('verifyRequestSignature({ requiredComponents }) refuses what is not covered; misuse is a TypeError', async () => {
    const headers = await sign('GET', '/x', ['@authority']);
    const r = await verifyRequestSignature({ method: 'GET', url: ORIGIN + '/x', headers }, { ...keys(), requiredComponents: ['@path'] });
    expect(r.reasons.map((x) => x.code)).toEqual(['SIGNATURE_INVALID']);
    for (const bad of [['@Path'], [''], ['a b'], 'request', [1]] as unknown[]) {
      await expect(verifyRequestSignature({ method: 'GET', url: ORIGIN + '/x', headers }, { ...keys(), requiredComponents: bad as string[] })).rejects.toThrow(TypeError);
    }
    for (const bad of ['everything', 5, [2]] as unknown[]) expect(() => requireSignature({ ...keys(), cover: bad as 'agent' })).toThrow(TypeError);
  });
});
