import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCharterError, type CharterError } from '../../src/errors.js';
import { decodeCredential, signJwt, soleSubject, verifyCredential } from '../../src/credentials/index.js';
import {
  createAgentPresentation,
  delegateMandate,
  issueAgentIdentity,
  issueMandate,
  listMandates,
  mandateDigest,
  orderChain,
  revokeMandate,
  type Authority,
} from '../../src/agents/index.js';
import { openWorld, type World } from './fixture.js';
import { days, ROOT, step } from './setup.js';

let w: World;
beforeAll(async () => {
  w = await openWorld();
});
afterAll(async () => {
  await w.close();
});

async function thrown(p: Promise<unknown>): Promise<CharterError> {
  try {
    await p;
  } catch (e) {
    if (isCharterError(e)) return e;
    throw e;
  }
  throw new Error('expected a CharterError');
}

describe('issueAgentIdentity', () => {
  it('issues a schema-valid identity naming the operator, stored as issued', async () => {
    const operator = w.issuer('op');
    const agent = w.issuer('agent');
    const c = await issueAgentIdentity(w.store, operator, {
      agent: agent.did,
      name: 'shopper',
      software: { name: 'bot', version: '1.2.3', digest: 'sha256-abc' },
      model: 'm-1',
      homepage: 'https://bot.example',
      validUntil: days(90),
    });
    expect(c.credential.credentialSubject).toEqual({
      id: agent.did,
      agent: { name: 'shopper', operator: operator.did, software: { name: 'bot', version: '1.2.3', digest: 'sha256-abc' }, model: 'm-1', homepage: 'https://bot.example' },
    });
    expect((await verifyCredential(c.jwt, { resolver: w.resolver })).ok).toBe(true);
    expect(await w.store.getCredential(c.id)).toMatchObject({ direction: 'issued', issuer: operator.did, subject: agent.did, types: ['AgentIdentityCredential'] });
  });

  it('refuses an identity that does not fit the schema', async () => {
    const e = await thrown(issueAgentIdentity(null, w.issuer('op'), { agent: w.issuer('agent').did, name: '' }));
    expect(e.code).toBe('SCHEMA_INVALID');
  });

  it('may name the origin of its Web Bot Auth key directory; anything but an origin is refused, and unknown fields still fail closed', async () => {
    const operator = w.issuer('op');
    const agent = w.issuer('agent');
    const c = await issueAgentIdentity(null, operator, { agent: agent.did, name: 'crawler', directory: 'https://Agent.Example/' });
    expect(soleSubject(c.credential)!.agent).toEqual({ name: 'crawler', operator: operator.did, directory: 'https://agent.example' });
    expect((await verifyCredential(c.jwt, { resolver: w.resolver })).ok).toBe(true);
    for (const directory of ['https://agent.example/keys', 'ftp://agent.example', 'https://agent.example?x=1', 'not a url']) {
      expect((await thrown(issueAgentIdentity(null, operator, { agent: agent.did, name: 'crawler', directory }))).code).toBe('INVALID_ARGUMENT');
    }
    // Past the helper, the schema holds the line: a directory with a path, or a field it does not know.
    const { issueCredential, schemaIdFor } = await import('../../src/credentials/index.js');
    const issue = (a: Record<string, unknown>) =>
      issueCredential({
        issuer: operator,
        subject: agent.did,
        type: 'AgentIdentityCredential',
        claims: { agent: { name: 'crawler', operator: operator.did, ...a } },
        credentialSchema: { id: schemaIdFor('AgentIdentityCredential')!, type: 'JsonSchema' },
      });
    expect((await thrown(issue({ directory: 'https://agent.example/keys' }))).code).toBe('SCHEMA_INVALID');
    expect((await thrown(issue({ directory: 'https://agent.example', keys: [] }))).code).toBe('SCHEMA_INVALID');
  });
});

describe('issueMandate', () => {
  it('issues a revocable, expiring mandate and stores it', async () => {
    const principal = w.issuer('principal');
    const agent = w.issuer('agent');
    const m = await issueMandate(w.store, principal, { agent: agent.did, authority: ROOT, validUntil: days(30), baseUrl: w.baseUrl });
    expect(m.credential.credentialSubject).toEqual({ id: agent.did, authority: ROOT });
    expect(m.credential.credentialStatus).toMatchObject({ type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: String(m.statusIndex) });
    expect(m.credential.validUntil).toBeDefined();
    expect((await verifyCredential(m.jwt, { resolver: w.resolver, status: w.status() })).ok).toBe(true);
    const rows = await listMandates(w.store, { agent: agent.did });
    expect(rows).toMatchObject([{ id: m.id, issuer: principal.did, agent: agent.did, state: 'active', authority: ROOT }]);
  });

  it.each<[string, Partial<{ authority: unknown; validUntil: unknown }>, string]>([
    ['an unknown constraint', { authority: { ...ROOT, limits: { ...ROOT.limits, geofence: 'EU' } } }, 'UNKNOWN_CONSTRAINT'],
    ['a float amount', { authority: { ...ROOT, limits: { perTransaction: { amount: 49.99, currency: 'USD' } } } }, 'INVALID_ARGUMENT'],
    ['a parent on a root mandate', { authority: { ...ROOT, parent: { id: 'urn:uuid:x', digest: 'sha256-' + 'A'.repeat(43) } } }, 'INVALID_ARGUMENT'],
    ['no expiry', { validUntil: undefined }, 'INVALID_ARGUMENT'],
    ['an expiry in the past', { validUntil: days(-1) }, 'INVALID_ARGUMENT'],
  ])('refuses %s', async (_, change, code) => {
    const input = { agent: w.issuer('agent').did, authority: ROOT, validUntil: days(30), baseUrl: w.baseUrl, ...change } as Parameters<typeof issueMandate>[2];
    expect((await thrown(issueMandate(w.store, w.issuer('principal'), input))).code).toBe(code);
  });
});

describe('delegateMandate', () => {
  it('links the child to its parent by id and JWT digest, stored with parentId', async () => {
    const [p, a1, a2] = [w.issuer('principal'), w.issuer('a1'), w.issuer('a2')];
    const root = await issueMandate(w.store, p, { agent: a1.did, authority: ROOT, validUntil: days(30), baseUrl: w.baseUrl });
    const child = await delegateMandate(w.store, a1, { parentJwt: root.jwt, to: a2.did, authority: step(ROOT), validUntil: days(10), baseUrl: w.baseUrl });
    const auth = soleSubject(child.credential)!.authority as Authority;
    expect(auth.parent).toEqual({ id: root.id, digest: mandateDigest(root.jwt) });
    expect(auth.parent!.digest).toMatch(/^sha256-[A-Za-z0-9_-]{43}$/);
    expect(child.credential.issuer).toBe(a1.did);
    expect(child.parentId).toBe(root.id);
    expect(await w.store.getCredential(child.id)).toMatchObject({ parentId: root.id, issuer: a1.did, subject: a2.did });
    expect((await listMandates(w.store, { parentId: root.id })).map((m) => m.id)).toEqual([child.id]);

    await revokeMandate(w.store, root.id, w.issuerFor);
    expect((await listMandates(w.store, { agent: a1.did })).map((m) => m.state)).toEqual(['revoked']);
  });

  it.each<[string, Partial<Authority>, string]>([
    ['more actions', { actions: ['*'] }, 'actions'],
    ['a higher per-transaction limit', { limits: { ...ROOT.limits, perTransaction: { amount: '51', currency: 'USD' } } }, 'perTransaction'],
    ['a shorter budget period', { limits: { ...ROOT.limits, budget: { amount: '100', currency: 'USD', period: 'P1D' } } }, 'budget'],
    ['a budget in another currency', { limits: { ...ROOT.limits, budget: { amount: '1', currency: 'EUR', period: 'P30D' } } }, 'budget'],
    ['dropping the rate', { limits: { ...ROOT.limits, rate: undefined } }, 'rate'],
    ['an equal depth', { maxDelegationDepth: ROOT.maxDelegationDepth }, 'maxDelegationDepth'],
  ])('refuses %s with AUTHORITY_WIDENED naming the dimension', async (_, change, dimension) => {
    const [p, a1, a2] = [w.issuer('principal'), w.issuer('a1'), w.issuer('a2')];
    const root = await issueMandate(w.store, p, { agent: a1.did, authority: ROOT, validUntil: days(30), baseUrl: w.baseUrl });
    const e = await thrown(delegateMandate(w.store, a1, { parentJwt: root.jwt, to: a2.did, authority: { ...step(ROOT), ...change }, validUntil: days(10), baseUrl: w.baseUrl }));
    expect(e.code).toBe('AUTHORITY_WIDENED');
    expect(e.details?.dimension).toBe(dimension);
  });

  it('refuses to outlive its parent (AUTHORITY_WIDENED, validity)', async () => {
    const [p, a1, a2] = [w.issuer('principal'), w.issuer('a1'), w.issuer('a2')];
    const root = await issueMandate(w.store, p, { agent: a1.did, authority: ROOT, validUntil: days(30), baseUrl: w.baseUrl });
    const e = await thrown(delegateMandate(w.store, a1, { parentJwt: root.jwt, to: a2.did, authority: step(ROOT), validUntil: days(31), baseUrl: w.baseUrl }));
    expect([e.code, e.details?.dimension]).toEqual(['AUTHORITY_WIDENED', 'validity']);
  });

  it('refuses a delegator that is not the parent subject (DELEGATION_BROKEN)', async () => {
    const [p, a1, a2] = [w.issuer('principal'), w.issuer('a1'), w.issuer('a2')];
    const root = await issueMandate(w.store, p, { agent: a1.did, authority: ROOT, validUntil: days(30), baseUrl: w.baseUrl });
    expect((await thrown(delegateMandate(w.store, a2, { parentJwt: root.jwt, to: a2.did, authority: step(ROOT), validUntil: days(10), baseUrl: w.baseUrl }))).code).toBe(
      'DELEGATION_BROKEN',
    );
  });

  it('refuses to delegate a mandate of depth 0 (DELEGATION_DEPTH_EXCEEDED)', async () => {
    const [p, a1, a2] = [w.issuer('principal'), w.issuer('a1'), w.issuer('a2')];
    const root = await issueMandate(w.store, p, { agent: a1.did, authority: { ...ROOT, maxDelegationDepth: 0 }, validUntil: days(30), baseUrl: w.baseUrl });
    expect(
      (await thrown(delegateMandate(w.store, a1, { parentJwt: root.jwt, to: a2.did, authority: { ...ROOT, maxDelegationDepth: 0 }, validUntil: days(10), baseUrl: w.baseUrl })))
        .code,
    ).toBe('DELEGATION_DEPTH_EXCEEDED');
  });

  it('refuses a parent whose validity dates do not parse (INVALID_ARGUMENT, not a TypeError)', async () => {
    const [p, a1, a2] = [w.issuer('principal'), w.issuer('a1'), w.issuer('a2')];
    const root = await issueMandate(w.store, p, { agent: a1.did, authority: ROOT, validUntil: days(30), baseUrl: w.baseUrl });
    const body = JSON.parse(Buffer.from(root.jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    const bad: Record<string, unknown>[] = [
      { validFrom: 'garbage' },
      { validFrom: 1700000000 },
      { validFrom: {} },
      { validUntil: 'not-a-date' },
      { validUntil: '2027-02-30T00:00:00Z' },
    ];
    for (const over of bad) {
      const parentJwt = await signJwt({ typ: 'vc+jwt' }, { ...body, ...over }, p.signer, p.kid);
      const e = await thrown(delegateMandate(w.store, a1, { parentJwt, to: a2.did, authority: step(ROOT), validUntil: days(2), baseUrl: w.baseUrl }));
      expect([over, e.code]).toEqual([over, 'INVALID_ARGUMENT']);
    }
  });

  it('refuses a parent that is not a mandate', async () => {
    const op = w.issuer('op');
    const a1 = w.issuer('a1');
    const identity = await issueAgentIdentity(null, op, { agent: a1.did, name: 'x' });
    expect((await thrown(delegateMandate(w.store, a1, { parentJwt: identity.jwt, to: a1.did, authority: step(ROOT), validUntil: days(1), baseUrl: w.baseUrl }))).code).toBe(
      'INVALID_ARGUMENT',
    );
  });
});

describe('createAgentPresentation', () => {
  it('presents the identity and the chain root first, whatever order it is given in', async () => {
    const [p, a1, a2, a3] = [w.issuer('principal'), w.issuer('a1'), w.issuer('a2'), w.issuer('a3')];
    const m1 = await issueMandate(w.store, p, { agent: a1.did, authority: ROOT, validUntil: days(30), baseUrl: w.baseUrl });
    const m2 = await delegateMandate(w.store, a1, { parentJwt: m1.jwt, to: a2.did, authority: step(ROOT), validUntil: days(20), baseUrl: w.baseUrl });
    const m3 = await delegateMandate(w.store, a2, { parentJwt: m2.jwt, to: a3.did, authority: step(step(ROOT)), validUntil: days(10), baseUrl: w.baseUrl });
    expect(orderChain([m3.jwt, m1.jwt, m2.jwt])).toEqual([m1.jwt, m2.jwt, m3.jwt]);
    const vp = await createAgentPresentation({ agent: a3, chain: [m2.jwt, m3.jwt, m1.jwt], aud: 'did:web:shop.example', nonce: 'n' });
    const ids = (JSON.parse(Buffer.from(vp.split('.')[1]!, 'base64url').toString()).verifiableCredential as { id: string }[]).map(
      (c) => decodeCredential(c.id.slice('data:application/vc+jwt,'.length)).id,
    );
    expect(ids).toEqual([m1.id, m2.id, m3.id]);
  });

  it('refuses mandates that do not form one chain', async () => {
    const [p, a1] = [w.issuer('principal'), w.issuer('a1')];
    const x = await issueMandate(w.store, p, { agent: a1.did, authority: ROOT, validUntil: days(30), baseUrl: w.baseUrl });
    const y = await issueMandate(w.store, p, { agent: a1.did, authority: ROOT, validUntil: days(30), baseUrl: w.baseUrl });
    expect((await thrown(createAgentPresentation({ agent: a1, chain: [x.jwt, y.jwt], aud: 'a', nonce: 'n' }))).code).toBe('INVALID_ARGUMENT');
    expect((await thrown(createAgentPresentation({ agent: a1, chain: [], aud: 'a', nonce: 'n' }))).code).toBe('INVALID_ARGUMENT');
  });
});
