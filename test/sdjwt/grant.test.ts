import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Issuer } from '../../src/credentials/types.js';
import { createResolver } from '../../src/did/index.js';
import { listGrants, revokeGrant, revokeGrantsTo, suspendGrant, type GrantDecision } from '../../src/grants/index.js';
import {
  createTokenStatusChecker,
  GRANT_VCT,
  issueSdJwtGrant,
  issueSdJwtVc,
  issueStoredSdJwtVc,
  presentSdJwtVc,
  revokeSdJwtVc,
  verifySdJwtGrant,
  type IssuedSdJwtGrant,
  type VerifySdJwtGrantOptions,
} from '../../src/sdjwt/index.js';
import { SD_JWT_RECORD_TYPE } from '../../src/sdjwt/manage.js';
import { makeIssuer } from '../helpers.js';
import { statusWorld, type StatusWorld } from '../status/token-world.js';

const resolver = createResolver();
const API = 'did:web:api.example';
const NONCE = 'grant-nonce-1';

describe('DataAccessGrant as an SD-JWT VC', () => {
  let w: StatusWorld;
  let owner: Issuer;
  let platform: Issuer;
  let g: IssuedSdJwtGrant;
  const status = () => createTokenStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
  const verify = (token: string, o: Partial<VerifySdJwtGrantOptions> = {}) =>
    verifySdJwtGrant(token, { resolver, status: status(), resource: 'profile/email', action: 'read', owner: owner.did, grantee: platform.did, aud: API, nonce: NONCE, ...o });
  const present = (disclose: string[], token = g.token, holder = platform) => presentSdJwtVc(token, { holder, disclose, aud: API, nonce: NONCE });

  beforeAll(async () => {
    w = await statusWorld();
    owner = w.issuer();
    platform = makeIssuer('P-256');
    g = await issueSdJwtGrant(w.store, owner, {
      grantee: platform.did,
      resources: ['profile/email', 'photos/*'],
      actions: ['read', 'write'],
      purpose: 'order updates',
      constraints: {},
      validUntil: new Date(Date.now() + 30 * 86_400_000),
      baseUrl: w.url,
    });
  });
  afterAll(() => w.close());

  it('makes each resource and action a disclosure of its own; purpose and constraints stay in clear', () => {
    expect(g.disclosable).toEqual(['grant.resources.0', 'grant.resources.1', 'grant.actions.0', 'grant.actions.1']);
    const payload = JSON.parse(Buffer.from(g.token.split('.')[1]!, 'base64url').toString()) as {
      vct: string;
      grant: Record<string, unknown>;
      status: unknown;
      exp: number;
      cnf: unknown;
    };
    expect(payload).toMatchObject({
      vct: GRANT_VCT,
      grant: { purpose: 'order updates', constraints: {} },
      status: { status_list: { idx: g.statusIndex } },
      cnf: { jwk: platform.publicJwk },
    });
    expect(payload.grant.resources).toHaveLength(2);
    expect(JSON.stringify(payload.grant.resources)).not.toContain('profile/email');
  });

  it('allows what the presentation discloses and nothing it withholds; the decision has the GrantDecision shape', async () => {
    const p = await present(['grant.resources.0', 'grant.actions.0']);
    const d: GrantDecision = await verify(p);
    expect(d.reasons).toEqual([]);
    expect(d).toMatchObject({
      ok: true,
      id: g.id,
      grantor: owner.did,
      grantee: platform.did,
      grant: { resources: ['profile/email'], actions: ['read'], purpose: 'order updates' },
    });
    expect(d.grant?.validUntil).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect((await verify(p, { resource: 'photos/2024/a.jpg' })).reasons.map((r) => r.code)).toEqual(['GRANT_SCOPE']);
    expect((await verify(p, { action: 'write' })).reasons.map((r) => r.code)).toEqual(['GRANT_SCOPE']);
    expect((await verify(await present(['grant.resources.1', 'grant.actions']), { resource: 'photos/2024/a.jpg', action: 'write' })).ok).toBe(true);
    expect((await verify(await present([]))).reasons.map((r) => r.code)).toEqual(['GRANT_SCOPE']);
  });

  it('refuses another grantee, a missing key binding, another audience, and a credential that is not a grant', async () => {
    const p = await present(['grant']);
    expect((await verify(p, { grantee: 'did:web:other.example' })).reasons.map((r) => r.code)).toEqual(['GRANTEE_MISMATCH']);
    expect((await verify(g.token)).reasons.map((r) => r.code)).toEqual(['KEY_BINDING_INVALID']);
    expect((await verify(g.token, { allowMissingKeyBinding: true, nonce: undefined })).ok).toBe(true);
    expect((await verify(p, { aud: 'did:web:elsewhere.example' })).reasons.map((r) => r.code)).toEqual(['AUDIENCE_MISMATCH']);
    const other = await issueSdJwtVc({
      issuer: owner,
      subject: platform.did,
      vct: 'https://example.com/vct/Email',
      claims: { grant: { resources: ['profile/email'], actions: ['read'], purpose: 'x' } },
    });
    // Not a grant: said as verifyGrant says it of a presentation without one (test/sdjwt/grant-other-vct.test.ts).
    expect((await verify(await present([], other.token))).reasons.map((r) => r.code)).toEqual(['GRANT_MISSING']);
  });

  it('the owner rule and resource normalisation of vc+jwt grants: GRANT_NOT_OWNER, RESOURCE_INVALID, the same codes', async () => {
    const p = await present(['grant']);
    expect((await verify(p, { owner: 'did:web:someone-else.example' })).reasons.map((r) => r.code)).toEqual(['GRANT_NOT_OWNER']);
    expect((await verify(p, { owner: '' })).reasons.map((r) => r.code)).toEqual(['GRANT_NOT_OWNER']);
    expect((await verify(p, { owner: undefined, anyOwner: true })).ok).toBe(true);
    // a path written another way names the same resource; one that climbs out is malformed
    expect((await verify(p, { resource: '/profile//./email' })).ok).toBe(true);
    expect(await verify(p, { resource: 'photos/%2E%2E/secrets' }).catch((e: { code: string }) => e.code)).toBe('RESOURCE_INVALID');
    await expect(verify(p, { owner: undefined })).rejects.toThrow(TypeError);
    await expect(verify(p, { anyOwner: true })).rejects.toThrow(TypeError);
    await expect(verify(p, { at: new Date() } as never)).rejects.toThrow(TypeError);
  });

  it('a grant without a status or an expiry is refused', async () => {
    const bare = await issueSdJwtVc({ issuer: owner, subject: platform.did, vct: GRANT_VCT, claims: { grant: { resources: ['profile/email'], actions: ['read'], purpose: 'x' } } });
    expect((await verify(await present([], bare.token))).reasons.map((r) => r.code).sort()).toEqual(['INVALID_CREDENTIAL', 'STATUS_INVALID']);
    const odd = await issueSdJwtVc({
      issuer: owner,
      subject: platform.did,
      vct: GRANT_VCT,
      validUntil: new Date(Date.now() + 60_000),
      status: { idx: 1, uri: `${w.url}/statuslists/x` },
      claims: { grant: { resources: ['profile/email'], actions: ['read'], purpose: 'x', scope: 'all' } },
    });
    expect((await verify(await present([], odd.token))).reasons.map((r) => r.code)).toEqual(['SCHEMA_INVALID']);
  });

  it('revocation: revokeSdJwtVc sets the bit and the next check refuses with CREDENTIAL_REVOKED', async () => {
    const h = await issueSdJwtGrant(w.store, owner, {
      grantee: platform.did,
      resources: ['profile/name'],
      actions: ['read'],
      purpose: 'greeting',
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: w.url,
    });
    const p = await present(['grant'], h.token);
    expect((await verify(p, { resource: 'profile/name' })).ok).toBe(true);
    await revokeSdJwtVc(w.store, h.id, w.issuerFor);
    expect((await verify(p, { resource: 'profile/name' })).reasons.map((r) => r.code)).toEqual(['CREDENTIAL_REVOKED']);
    await expect(revokeSdJwtVc(w.store, 'urn:uuid:unknown', w.issuerFor)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('is kept as an issued SD-JWT VC, listed with the vc+jwt grants (format dc+sd-jwt), every permission shown to its issuer', async () => {
    const rec = await w.store.getCredential(g.id);
    expect(rec).toMatchObject({ direction: 'issued', issuer: owner.did, subject: platform.did, types: [SD_JWT_RECORD_TYPE, GRANT_VCT] });
    expect((await listGrants(w.store, { grantee: platform.did })).find((x) => x.id === g.id)).toEqual({
      id: g.id,
      format: 'dc+sd-jwt',
      grantor: owner.did,
      grantee: platform.did,
      resources: ['profile/email', 'photos/*'],
      actions: ['read', 'write'],
      purpose: 'order updates',
      expires: expect.any(String),
      state: 'active',
    });
  });

  it('revokeGrant and revokeGrantsTo work on SD-JWT grants (the one Token Status List bit); suspending one is refused', async () => {
    const h = await issueSdJwtGrant(w.store, owner, {
      grantee: platform.did,
      resources: ['profile/age'],
      actions: ['read'],
      purpose: 'age check',
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: w.url,
    });
    await expect(suspendGrant(w.store, h.id, w.issuerFor)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await revokeGrant(w.store, h.id, w.issuerFor);
    expect((await listGrants(w.store)).find((x) => x.id === h.id)?.state).toBe('revoked');
    expect((await verify(await present(['grant'], h.token), { resource: 'profile/age' })).reasons.map((r) => r.code)).toEqual(['CREDENTIAL_REVOKED']);
    const other = makeIssuer('P-256');
    const k = await issueSdJwtGrant(w.store, owner, {
      grantee: other.did,
      resources: ['profile/age'],
      actions: ['read'],
      purpose: 'x',
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: w.url,
    });
    expect((await revokeGrantsTo(w.store, other.did, w.issuerFor)).map((c) => c.credentialId)).toEqual([k.id]);
  });

  it('issuing refuses what the DataAccessGrant schema refuses, and a past expiry', async () => {
    const base = { grantee: platform.did, resources: ['profile/email'], actions: ['read'], purpose: 'x', validUntil: new Date(Date.now() + 60_000), baseUrl: w.url };
    await expect(issueSdJwtGrant(w.store, owner, { ...base, resources: [] })).rejects.toMatchObject({ code: 'SCHEMA_INVALID' });
    await expect(issueSdJwtGrant(w.store, owner, { ...base, actions: ['read everything'] })).rejects.toMatchObject({ code: 'SCHEMA_INVALID' });
    await expect(issueSdJwtGrant(w.store, owner, { ...base, validUntil: new Date(Date.now() - 1000) })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('terms travel in clear and are checked as for vc+jwt grants: declared purpose, processing, unknown terms refused', async () => {
    const t = await issueSdJwtGrant(w.store, owner, {
      grantee: platform.did,
      resources: ['profile/email'],
      actions: ['read'],
      purpose: 'order updates',
      terms: { purpose: ['service-delivery'], processing: 'on-device' },
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: w.url,
    });
    const p = await present(['grant.resources.0', 'grant.actions.0'], t.token);
    expect((await verify(p, { purpose: 'service-delivery', processing: 'on-device' })).reasons).toEqual([]);
    expect((await verify(p, { purpose: 'marketing', processing: 'on-device' })).reasons.map((r) => r.code)).toEqual(['PURPOSE_NOT_ALLOWED']);
    expect((await verify(p, { purpose: 'service-delivery' })).reasons.map((r) => r.code)).toEqual(['PROCESSING_NOT_ALLOWED']);
    const odd = await issueStoredSdJwtVc(w.store, owner, {
      subject: platform.did,
      vct: GRANT_VCT,
      claims: { grant: { resources: ['profile/email'], actions: ['read'], purpose: 'x', terms: { purpose: ['service-delivery'], maxRecords: 3 } } },
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: w.url,
    });
    const q = await presentSdJwtVc(odd.token, { holder: platform, disclose: [], aud: API, nonce: NONCE });
    expect((await verify(q, { purpose: 'service-delivery' })).reasons.map((r) => r.code)).toContain('UNKNOWN_TERM');
  });
});
