import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import didJwkVector from '../vectors/did-jwk.json' with { type: 'json' };
import { didKey } from '../vectors/did-key.js';
import { createResolver, createDidWeb, didKeyRef, didWebToUrl, didWebFromDomain, resolveDidJwk, resolveDidKey, classifyAddress, safeFetch } from '../../src/did/index.js';
import { generateKeyPair } from '../../src/keys/index.js';
import { isCharterError, type CharterErrorCode } from '../../src/errors.js';
import { serve } from '../helpers.js';

async function codeOf(p: Promise<unknown>): Promise<CharterErrorCode | 'NONE' | 'OTHER'> {
  try {
    await p;
    return 'NONE';
  } catch (e) {
    return isCharterError(e) ? e.code : 'OTHER';
  }
}

describe('did:key', () => {
  it('builds the document the did:key spec describes for each key type', () => {
    for (const did of [didKey.Ed25519[0]!.did, didKey['P-256'][0]!.did, didKey.secp256k1[0]!.did]) {
      const doc = resolveDidKey(did);
      const vm = `${did}#${did.slice(8)}`;
      expect(doc.id).toBe(did);
      expect(doc.verificationMethod).toEqual([{ id: vm, type: 'Multikey', controller: did, publicKeyMultibase: did.slice(8) }]);
      for (const r of ['authentication', 'assertionMethod', 'capabilityInvocation', 'capabilityDelegation'] as const) expect(doc[r]).toEqual([vm]);
    }
  });
  it('refuses malformed and non-canonical did:key', () => {
    for (const bad of ['did:key:', 'did:key:abc', 'did:key:z6Mk', 'did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWpX']) {
      expect(() => resolveDidKey(bad)).toThrow(expect.objectContaining({ code: 'INVALID_DID' }));
    }
  });
});

describe('did:jwk', () => {
  it('resolves the spec example to one JsonWebKey2020 method #0', () => {
    const doc = resolveDidJwk(didJwkVector.did);
    const vm = doc.verificationMethod![0]!;
    expect(vm.id).toBe(`${didJwkVector.did}#0`);
    expect(vm.publicKeyJwk).toMatchObject({ kty: 'EC', crv: 'P-256', x: didJwkVector.x, y: didJwkVector.y });
    expect(doc.assertionMethod).toEqual([vm.id]);
  });
  it('refuses a did:jwk whose JSON is not UTF-8 (RFC 8259 §8.1): two DIDs must not carry one key', () => {
    const kp = generateKeyPair();
    const json = Buffer.from(JSON.stringify({ ...kp.publicJwk, x: kp.publicJwk.x }));
    const bad = Buffer.concat([json.subarray(0, json.length - 1), Buffer.from(',"n":"\xff"}', 'latin1')]);
    expect(() => resolveDidJwk(`did:jwk:${bad.toString('base64url')}`)).toThrow(expect.objectContaining({ code: 'INVALID_DID' }));
    expect(resolveDidJwk(`did:jwk:${json.toString('base64url')}`).id).toMatch(/^did:jwk:/);
  });
  it('refuses a did:jwk holding a private key', () => {
    const kp = generateKeyPair();
    const did = `did:jwk:${Buffer.from(JSON.stringify(kp.privateJwk)).toString('base64url')}`;
    expect(() => resolveDidJwk(did)).toThrow(expect.objectContaining({ code: 'INVALID_DID' }));
  });
});

describe('did:web mapping (did:web spec §3.2)', () => {
  it('maps domains, paths and ports to URLs', () => {
    expect(didWebToUrl('did:web:w3c-ccg.github.io')).toBe('https://w3c-ccg.github.io/.well-known/did.json');
    expect(didWebToUrl('did:web:w3c-ccg.github.io:user:alice')).toBe('https://w3c-ccg.github.io/user/alice/did.json');
    expect(didWebToUrl('did:web:example.com%3A3000:user:alice')).toBe('https://example.com:3000/user/alice/did.json');
    expect(didWebFromDomain('example.com:3000:user:alice')).toBe('did:web:example.com%3A3000:user:alice');
    expect(() => didWebToUrl('did:web:exa mple.com')).toThrow(expect.objectContaining({ code: 'INVALID_DID' }));
    expect(() => didWebToUrl('did:web:example.com:..:etc')).toThrow(expect.objectContaining({ code: 'INVALID_DID' }));
  });
  it('refuses segments that would decode into another path, a query or a fragment, and ports out of range', async () => {
    for (const did of [
      'did:web:example.com:%2e%2e:alice',
      'did:web:example.com:%2E:alice',
      'did:web:example.com:a%2Fb',
      'did:web:example.com:a%5Cb',
      'did:web:example.com:a%3Fb',
      'did:web:example.com:a%23b',
      'did:web:example.com:a%0Ab',
      'did:web:example.com:%zz',
      'did:web:example.com%3A0',
      'did:web:example.com%3A65536',
      // Encoded twice: one decoding leaves a "%" that the URL parser or the server decodes again.
      'did:web:example.com:users:alice:%252e%252e:mallory',
      'did:web:example.com:%252E%252E',
      'did:web:example.com:a%252Fb',
      'did:web:example.com:a%255Cb',
      'did:web:example.com:a%2525',
    ]) {
      expect(() => didWebToUrl(did)).toThrow(expect.objectContaining({ code: 'INVALID_DID' }));
      expect(await codeOf(createResolver({ allowLoopback: true, allowHttp: true }).resolve(did))).toBe('INVALID_DID');
    }
    expect(new URL(didWebToUrl('did:web:example.com%3A65535:user%20name')).href).toBe('https://example.com:65535/user%20name/did.json');
  });
  it('classifies addresses for SSRF checks', () => {
    expect(classifyAddress('127.0.0.1')).toBe('loopback');
    expect(classifyAddress('::1')).toBe('loopback');
    expect(classifyAddress('::ffff:127.0.0.1')).toBe('loopback');
    expect(classifyAddress('10.1.2.3')).toBe('private');
    expect(classifyAddress('192.168.1.1')).toBe('private');
    expect(classifyAddress('169.254.169.254')).toBe('link-local');
    expect(classifyAddress('fe80::1')).toBe('link-local');
    expect(classifyAddress('fd00::1')).toBe('private');
    expect(classifyAddress('0.0.0.0')).toBe('reserved');
    expect(classifyAddress('93.184.216.34')).toBe('public');
  });
});

describe('resolver', () => {
  let doc: ReturnType<typeof createDidWeb>;
  let routes: Record<string, (res: ServerResponse) => void>;
  let srv: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    routes = {};
    srv = await serve((req, res) => {
      const r = routes[req.url ?? ''];
      if (r) r(res);
      else res.writeHead(404).end();
    });
    doc = createDidWeb({ domain: `127.0.0.1:${srv.port}`, publicJwk: generateKeyPair().publicJwk });
    routes['/.well-known/did.json'] = (res) => res.end(JSON.stringify(doc.document));
  });
  afterAll(() => srv.close());
  const local = () => createResolver({ allowLoopback: true, allowHttp: true, timeoutMs: 500 });
  const webDid = (path: string) => `did:web:127.0.0.1%3A${srv.port}:${path}`;

  it('resolves did:web over loopback when allowed, and caches the key', async () => {
    const r = local();
    const key = await r.resolveKey(doc.did, doc.kid, 'assertionMethod');
    expect(key.alg).toBe('EdDSA');
    expect(await r.resolveKey(doc.did, doc.kid, 'assertionMethod')).toBe(key);
  });
  it('refuses loopback did:web hosts by default (FORBIDDEN_ADDRESS)', async () => {
    expect(await codeOf(createResolver({ allowHttp: true }).resolve(doc.did))).toBe('FORBIDDEN_ADDRESS');
    expect(await codeOf(createResolver().resolve(doc.did))).toBe('FORBIDDEN_ADDRESS');
  });
  it('checks the addresses a host name resolves to, not only IP literals', async () => {
    const url = `http://localhost:${srv.port}/.well-known/did.json`;
    expect(await codeOf(safeFetch(url, { allowHttp: true }))).toBe('FORBIDDEN_ADDRESS');
    expect((await safeFetch(url, { allowHttp: true, allowLoopback: true })).status).toBe(200);
    expect(await codeOf(safeFetch(url))).toBe('FORBIDDEN_ADDRESS');
  });
  it('refuses an oversized document (DID_DOCUMENT_TOO_LARGE)', async () => {
    routes['/big/did.json'] = (res) => res.end('{"id":"' + 'x'.repeat(200_000) + '"}');
    expect(await codeOf(local().resolve(webDid('big')))).toBe('DID_DOCUMENT_TOO_LARGE');
  });
  it('does not follow redirects', async () => {
    routes['/moved/did.json'] = (res) => res.writeHead(302, { location: '/.well-known/did.json' }).end();
    expect(await codeOf(local().resolve(webDid('moved')))).toBe('DID_RESOLUTION_FAILED');
  });
  it('gives up after the timeout', async () => {
    routes['/slow/did.json'] = () => undefined;
    expect(await codeOf(local().resolve(webDid('slow')))).toBe('DID_RESOLUTION_FAILED');
  });
  it('refuses a document naming another DID, non-JSON, and a missing document', async () => {
    routes['/other/did.json'] = (res) => res.end(JSON.stringify(doc.document));
    expect(await codeOf(local().resolve(webDid('other')))).toBe('DID_RESOLUTION_FAILED');
    routes['/junk/did.json'] = (res) => res.end('<html>');
    expect(await codeOf(local().resolve(webDid('junk')))).toBe('DID_RESOLUTION_FAILED');
    expect(await codeOf(local().resolve(webDid('nobody')))).toBe('DID_NOT_FOUND');
  });
  it('refuses unknown methods and malformed DIDs with their codes', async () => {
    const r = createResolver();
    expect(await codeOf(r.resolve('did:ethr:0xabc'))).toBe('UNSUPPORTED_DID_METHOD');
    expect(await codeOf(r.resolve('not-a-did'))).toBe('INVALID_DID');
    expect(await codeOf(r.resolve('did:key:' + 'z'.repeat(5000)))).toBe('INVALID_DID');
  });
  it('checks that a kid belongs to the DID and to the relationship', async () => {
    const r = createResolver();
    const a = didKeyRef('key', generateKeyPair().publicJwk);
    const b = didKeyRef('key', generateKeyPair().publicJwk);
    expect(await codeOf(r.resolveKey(a.did, b.kid, 'assertionMethod'))).toBe('KID_MISMATCH');
    expect(await codeOf(r.resolveKey(a.did, `${a.did}#nope`, 'assertionMethod'))).toBe('VERIFICATION_METHOD_NOT_FOUND');
    const enc = `did:jwk:${Buffer.from(JSON.stringify({ ...generateKeyPair().publicJwk, use: 'enc' })).toString('base64url')}`;
    expect(await codeOf(r.resolveKey(enc, `${enc}#0`, 'assertionMethod'))).toBe('VERIFICATION_METHOD_NOT_AUTHORIZED');
    expect((await r.resolveKey(a.did, a.kid, 'authentication')).id).toBe(a.kid);
  });
});
