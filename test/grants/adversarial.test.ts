import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCharterError } from '../../src/errors.js';
import { createPresentation, schemaIdFor, signJwt } from '../../src/credentials/index.js';
import { allocateStatusEntry } from '../../src/status/index.js';
import { normalizeGrantResource, normalizeResource, resourceCovered, verifyGrant, type VerifyGrantOptions } from '../../src/grants/index.js';
import { openWorld, type World } from '../http/world.js';

/**
 * A grant allows exactly what it names, on its grantor's own data, to its
 * grantee: attacked here from the path encodings, the claim shapes, the
 * owner rule and the holder binding.
 */

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return isCharterError(e) ? e.code : 'not a CharterError';
  }
  return undefined;
};

// Every spelling of "." , ".." and "/" a path parser somewhere might honour.
const DOT = ['.', '%2e', '%2E'];
const SLASH = ['/', '//', '/./', '%2f', '%2F'];
const segment = fc.oneof(
  fc.stringMatching(/^[a-z0-9_-]{1,8}$/),
  fc.constantFrom(...DOT),
  fc.constantFrom('..', '.%2e', '%2e.', '%2e%2e', '%2E%2E', '%252e%252e', '..%2f', '%c0%ae%c0%ae', '．．', '\\..', '..／', '．．／', '..＼'),
);
const path = fc
  .tuple(fc.array(segment, { minLength: 1, maxLength: 6 }), fc.array(fc.constantFrom(...SLASH), { minLength: 6, maxLength: 6 }))
  .map(([segs, seps]) => segs.map((s, i) => (i === 0 ? s : seps[i]! + s)).join(''));

describe('resource paths are normalised before any match', () => {
  it('collapses repeated slashes and "." segments and keeps every other character as written (a resource is a decoded path)', () => {
    expect(normalizeResource('/photos//2024/./a.jpg/')).toBe('photos/2024/a.jpg');
    expect(normalizeResource('photos/caf\u00e9/\u5199\u771f 1.jpg')).toBe('photos/caf\u00e9/\u5199\u771f 1.jpg');
    expect(normalizeResource('photos/a+b;c=d')).toBe('photos/a+b;c=d');
    expect(normalizeGrantResource('/photos/*')).toBe('photos/*');
  });

  it('never decodes: a "%" in any position and spelling is refused, so a parameter the framework decoded is not decoded again', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        expect(codeOf(() => normalizeResource(`photos/${a}%${b}`))).toBe('RESOURCE_INVALID');
        expect(codeOf(() => normalizeGrantResource(`${a}%${b}/*`))).toBe('RESOURCE_INVALID');
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    'photos/../secrets',
    'photos/%2e%2e/secrets',
    'photos/%2E%2E/secrets',
    'photos%2f..%2fsecrets',
    'photos/.%2e/secrets',
    'photos/%252e%252e/secrets',
    'photos/a%2500',
    'photos\\..\\secrets',
    'photos/a\u0000b',
    'photos/\uff0e\uff0e/secrets',
    'photos/%EF%BC%8E%EF%BC%8E/secrets',
    // Compatibility forms of "/" and "\\" (NFKC: "/", "\\"): "..／secrets" is "../secrets" on a server that NFKCs paths.
    'photos/..\uff0fsecrets',
    'photos/\uff0e\uff0e\uff0fsecrets',
    'photos/%EF%BC%8E%EF%BC%8E%EF%BC%8Fsecrets',
    'photos/a\uff0f..\uff0f..\uff0fsecrets',
    'photos/..\uff3csecrets',
    'photos/\ufe68..',
    // A fullwidth percent sign and digits: "%2e%2e" after NFKC.
    'photos/\uff05\uff12\uff45\uff05\uff12\uff45/secrets',
    'photos/%zz',
    // An encoded separator is data to a router but a separator once decoded; a route parameter arrives decoded once.
    'photos%2F2024%2Fa.jpg',
    'photos/public%2Fx',
    'photos/public%2fx',
    'photos/public%5Cx',
    'photos/public%5c..%5csecrets',
    'photos/%252F',
    // A "%" left after one decoding: "%2525" from a raw path, or "%25" from a parameter Express already decoded.
    'photos/a%2525b',
    'photos/a%25b',
    'photos/a%25',
    'photos/100%',
    // One decoding by the framework already happened: "/photos/%2561" gives the handler "%61", not "a".
    '%70hotos/a',
    'photos/%61',
    'photos/%C3%A9',
    'photos/%e2%80%ae',
    'photos/%20',
    // Not NFC: a decomposed "é", a decomposed Hangul syllable, a singleton (Angstrom sign U+212B).
    'photos/cafe\u0301',
    'photos/\u1100\u1161',
    'photos/\u212B',
    'photos/\uff05',
    '',
    '/',
    '//./',
  ])('refuses %j with RESOURCE_INVALID', (p) => {
    expect(codeOf(() => normalizeResource(p))).toBe('RESOURCE_INVALID');
  });

  it('normalising is memoised per exact input: a path seen before gives the same answer, a refused one is refused every time', () => {
    // Hundreds of distinct paths, more than once each, interleaved with refused ones: the memo's bound and eviction are exercised.
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 1500; i++) {
        expect(normalizeResource(`/users/${i}//email/`)).toBe(`users/${i}/email`);
        if (i % 100 === 0) expect(codeOf(() => normalizeResource(`users/${i}/../admin`))).toBe('RESOURCE_INVALID');
      }
    }
    expect(codeOf(() => normalizeResource('photos/%2e%2e/secrets'))).toBe('RESOURCE_INVALID');
    expect(codeOf(() => normalizeResource('photos/%2e%2e/secrets'))).toBe('RESOURCE_INVALID');
  });

  it('a grant resource may use "*" only as its last segment', () => {
    expect(codeOf(() => normalizeGrantResource('photos/*/a'))).toBe('RESOURCE_INVALID');
    expect(codeOf(() => normalizeGrantResource('*'))).toBe('RESOURCE_INVALID');
    expect(codeOf(() => normalizeGrantResource('photos/../*'))).toBe('RESOURCE_INVALID');
  });

  it('property: any encoding of a path either normalises to a canonical path with no dot segment, or is refused; normalising twice changes nothing', () => {
    fc.assert(
      fc.property(path, (p) => {
        let n: string;
        try {
          n = normalizeResource(p);
        } catch (e) {
          expect(isCharterError(e, 'RESOURCE_INVALID')).toBe(true);
          return;
        }
        const segs = n.split('/');
        expect(segs.every((s) => s !== '' && s !== '.' && s !== '..')).toBe(true);
        expect(n).not.toMatch(/%[0-9A-Fa-f]{2}|\\/);
        expect(normalizeResource(n)).toBe(n);
      }),
      { numRuns: 3000 },
    );
  });

  it('property: a grant for photos/* never covers anything outside photos/, however the request spells it', () => {
    fc.assert(
      fc.property(path, (p) => {
        let n: string;
        try {
          n = normalizeResource(`photos/${p}`);
        } catch {
          return; // refused outright: covers nothing
        }
        if (resourceCovered(['photos/*'], n)) expect(n.startsWith('photos/')).toBe(true);
        // And it never escapes: what is covered has photos/ as its first segment.
        if (resourceCovered(['photos/*'], n)) expect(n.split('/')[0]).toBe('photos');
      }),
      { numRuns: 3000 },
    );
  });
});

describe('verifyGrant: owner, shape, holder binding', () => {
  let w: World;
  const status = () => w.status;
  beforeAll(async () => {
    w = await openWorld();
  });
  afterAll(() => w.close());

  const base = (o: Partial<VerifyGrantOptions> = {}): VerifyGrantOptions => ({
    resolver: w.resolver,
    status: status(),
    resource: 'profile/email',
    action: 'read',
    owner: w.alice.did,
    ...o,
  });
  const codes = (d: { reasons: { code: string }[] }) => [...new Set(d.reasons.map((r) => r.code))].sort();

  /** A grant signed directly, bypassing issueGrant's checks, with any claims and no schema. */
  async function rawGrant(grant: unknown, o: { issuer?: World['alice']; subject?: string; id?: string | null; schema?: boolean } = {}) {
    const issuer = o.issuer ?? w.alice;
    const id = o.id === null ? undefined : (o.id ?? `urn:uuid:${randomUUID()}`);
    const credentialId = id ?? `urn:uuid:${randomUUID()}`;
    const entry = await allocateStatusEntry(w.home.store, { issuerDid: issuer.did, baseUrl: w.server.url, purpose: 'revocation', credentialId });
    // Signed by hand: issueCredential refuses a grant its schema refuses, and these are the verifier's to refuse.
    const now = Math.floor(Date.now() / 1000) * 1000;
    return signJwt(
      { typ: 'vc+jwt' },
      {
        '@context': ['https://www.w3.org/ns/credentials/v2'],
        ...(id !== undefined ? { id } : {}),
        type: ['VerifiableCredential', 'DataAccessGrant'],
        issuer: issuer.did,
        validFrom: new Date(now).toISOString(),
        validUntil: new Date(now + 86_400_000).toISOString(),
        credentialSubject: { id: o.subject ?? w.app.did, grant },
        ...(o.schema ? { credentialSchema: { id: schemaIdFor('DataAccessGrant')!, type: 'JsonSchema' } } : {}),
        credentialStatus: entry,
      },
      issuer.signer,
      issuer.kid,
    );
  }

  it('verifyGrant needs exactly one of owner or anyOwner (a TypeError, not a decision)', async () => {
    const g = (await w.grant()).jwt;
    await expect(verifyGrant(g, { ...base(), owner: undefined })).rejects.toThrow(TypeError);
    await expect(verifyGrant(g, { ...base(), anyOwner: true })).rejects.toThrow(TypeError);
    expect((await verifyGrant(g, { ...base(), owner: undefined, anyOwner: true })).ok).toBe(true);
  });

  it("GRANT_NOT_OWNER: a grant anyone issued about alice's data, or for an owner the route cannot name", async () => {
    const self = await rawGrant({ resources: ['profile/email'], actions: ['read'], purpose: 'p' }, { issuer: w.app });
    expect(codes(await verifyGrant(self, base()))).toEqual(['GRANT_NOT_OWNER']);
    for (const owner of ['', 'alice', 'did:key:zUnknown', w.app.did]) {
      const d = await verifyGrant((await w.grant()).jwt, base({ owner }));
      expect(codes(d)).toEqual(['GRANT_NOT_OWNER']);
    }
  });

  it.each([
    ['resources as a string', { resources: 'profile/email', actions: ['read'], purpose: 'p' }],
    ['actions as a string', { resources: ['profile/email'], actions: 'read', purpose: 'p' }],
    ['resources with a number', { resources: ['profile/email', 7], actions: ['read'], purpose: 'p' }],
    ['nested arrays', { resources: [['profile/email']], actions: ['read'], purpose: 'p' }],
    ['no resources', { actions: ['read'], purpose: 'p' }],
    ['empty resources', { resources: [], actions: ['read'], purpose: 'p' }],
    ['a wildcard action', { resources: ['profile/email'], actions: ['*'], purpose: 'p' }],
    ['a dot-dot resource', { resources: ['profile/../email'], actions: ['read'], purpose: 'p' }],
    ['no purpose', { resources: ['profile/email'], actions: ['read'] }],
    ['grant a string', 'profile/email read'],
    ['grant an array', [['profile/email'], ['read']]],
  ])('refused without a schema named (by the DataAccessGrant schema, which holds anyway, or the grant reader): %s', async (_name, grant) => {
    const jwt = await rawGrant(grant);
    const d = await verifyGrant(jwt, base());
    expect(d.ok).toBe(false);
    expect(codes(d).filter((c) => c === 'SCHEMA_INVALID' || c === 'INVALID_CREDENTIAL')).not.toHaveLength(0);
    expect(codes(d)).not.toContain('GRANT_SCOPE');
  });

  it('a substring never matches: "profile/emailx" and "profile" are not "profile/email"', async () => {
    const jwt = await rawGrant({ resources: ['profile/email'], actions: ['read'], purpose: 'p' });
    expect(codes(await verifyGrant(jwt, base({ resource: 'profile/emailx' })))).toEqual(['GRANT_SCOPE']);
    expect(codes(await verifyGrant(jwt, base({ resource: 'profile' })))).toEqual(['GRANT_SCOPE']);
    expect(codes(await verifyGrant(jwt, base({ action: 'rea' })))).toEqual(['GRANT_SCOPE']);
  });

  it('a malformed requested resource is RESOURCE_INVALID (thrown: the request is malformed, not the grant)', async () => {
    const jwt = (await w.grant()).jwt;
    await expect(verifyGrant(jwt, base({ resource: 'photos/%2e%2e/secret' }))).rejects.toMatchObject({ code: 'RESOURCE_INVALID' });
  });

  it('holder binding holds for a grant with no id and no grantee given: only its subject may present it', async () => {
    const noId = await rawGrant({ resources: ['profile/email'], actions: ['read'], purpose: 'p' }, { id: null });
    const aud = 'did:web:api.example';
    const thief = await createPresentation({ holder: w.agent, credentials: [noId], aud, nonce: 'n' });
    const d = await verifyGrant(thief, base({ aud, nonce: 'n' }));
    expect(codes(d)).toContain('HOLDER_MISMATCH');
    const own = await createPresentation({ holder: w.app, credentials: [noId], aud, nonce: 'n' });
    expect((await verifyGrant(own, base({ aud, nonce: 'n' }))).ok).toBe(true);
  });

  it('GRANT_MISSING: a presentation holding no DataAccessGrant', async () => {
    const aud = 'did:web:api.example';
    const empty = await createPresentation({ holder: w.app, credentials: [], aud, nonce: 'n' });
    expect(codes(await verifyGrant(empty, base({ aud, nonce: 'n' })))).toEqual(['GRANT_MISSING']);
    const other = await createPresentation({ holder: w.agent, credentials: [w.agentIdentity], aud, nonce: 'n' });
    expect(codes(await verifyGrant(other, base({ aud, nonce: 'n' })))).toEqual(['GRANT_MISSING']);
  });

  it('a credential in the presentation that does not decode is named: MALFORMED_JWT with its ref, besides GRANT_MISSING', async () => {
    const aud = 'did:web:api.example';
    const good = (await w.grant()).jwt;
    const [h, p, sig] = good.split('.') as [string, string, string];
    const bad = [
      'not-a-jwt',
      `${h}.${p}`,
      `${h}.${p}.${sig}.x`,
      `${h}.${p}.${sig}=`,
      `${h}.${p}.${sig.slice(0, -1)}${sig.at(-1) === 'A' ? 'B' : 'A'}`.slice(0, -2) + '!!',
      `${Buffer.from('{"alg":"EdDSA"').toString('base64url')}.${p}.${sig}`,
      `${h}.${Buffer.from('[1,2]').toString('base64url')}.${sig}`,
      '',
    ];
    for (const inner of bad) {
      const vp = await createPresentation({ holder: w.app, credentials: [inner], aud, nonce: 'n' });
      const d = await verifyGrant(vp, base({ aud, nonce: 'n' }));
      expect(d.ok).toBe(false);
      expect(codes(d)).toContain('GRANT_MISSING');
      const named = d.reasons.filter((r) => r.code !== 'GRANT_MISSING');
      expect(named.length).toBeGreaterThan(0);
      for (const r of named) expect(r).toMatchObject({ ref: 'credential 0' });
    }
    // Beside a valid grant, an undecodable extra credential changes nothing: the grant is judged on its own.
    const both = await createPresentation({ holder: w.app, credentials: ['not-a-jwt', good], aud, nonce: 'n' });
    expect((await verifyGrant(both, base({ aud, nonce: 'n' }))).ok).toBe(true);
  });

  it("with several grants presented, the owner's valid one counts; forged or foreign ones never do", async () => {
    const aud = 'did:web:api.example';
    const good = (await w.grant()).jwt;
    const foreign = await rawGrant({ resources: ['profile/email'], actions: ['read'], purpose: 'p' }, { issuer: w.app });
    const both = await createPresentation({ holder: w.app, credentials: [foreign, good], aud, nonce: 'n' });
    expect((await verifyGrant(both, base({ aud, nonce: 'n' }))).ok).toBe(true);
    const onlyForeign = await createPresentation({ holder: w.app, credentials: [foreign, foreign], aud, nonce: 'n' });
    expect(codes(await verifyGrant(onlyForeign, base({ aud, nonce: 'n' })))).toContain('GRANT_NOT_OWNER');
  });
});
