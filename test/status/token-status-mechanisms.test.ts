import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { allocateTokenStatus, setTokenStatus } from '../../src/status/token-issuer.js';
import { createTokenStatusChecker, type TokenStatusChecker } from '../../src/status/token-checker.js';
import { statusWorld, type StatusWorld } from './token-world.js';

/**
 * Token Status List §6.1: the `status` claim holds one or more status
 * mechanisms, one per member (an extension point with its own registry), and
 * the issuer may revoke through any of them. Charter checks only status_list:
 * any other member is refused (STATUS_INVALID), beside status_list as alone,
 * never skipped so that status_list alone decides.
 */
let w: StatusWorld;
let check: TokenStatusChecker;
let iss: ReturnType<StatusWorld['issuer']>;
let ref: Awaited<ReturnType<typeof allocateTokenStatus>>;
let revokedRef: Awaited<ReturnType<typeof allocateTokenStatus>>;
beforeAll(async () => {
  w = await statusWorld();
  iss = w.issuer();
  ref = await allocateTokenStatus(w.store, { issuerDid: iss.did, baseUrl: w.url, credentialId: 'urn:uuid:mech-1' });
  revokedRef = await allocateTokenStatus(w.store, { issuerDid: iss.did, baseUrl: w.url, credentialId: 'urn:uuid:mech-2' });
  await setTokenStatus(w.store, 'urn:uuid:mech-2', true, w.issuerFor);
  check = createTokenStatusChecker({ resolver: createResolver(), allowLoopback: true, allowHttp: true });
});
afterAll(async () => {
  await w.close();
});

const codes = async (status: unknown) => (await check(status, { issuer: iss.did, now: new Date() })).map((r) => r.code);
const idList = () => ({ id: '0xB1', uri: `${w.url}/identifierlists/1` });

describe('Token Status List: status mechanisms other than status_list', () => {
  it('status_list alone, valid: no refusal (the baseline)', async () => {
    expect(await codes(ref)).toEqual([]);
    expect(await codes({ ...revokedRef })).toEqual(['CREDENTIAL_REVOKED']);
  });

  it('identifier_list beside a valid status_list is refused, as identifier_list alone is', async () => {
    expect(await codes({ ...ref, identifier_list: idList() })).toEqual(['STATUS_INVALID']);
    expect(await codes({ identifier_list: idList() })).toEqual(['STATUS_INVALID']);
  });

  it.each([
    ['an unregistered mechanism', { x_custom_revocation: { uri: 'https://example.com/r' } }],
    ['two extra mechanisms', { identifier_list: { id: '0x01', uri: 'https://example.com/i' }, crl: { uri: 'https://example.com/crl' } }],
    ['an extra member whose value is null', { other: null }],
    ['an extra member whose value is a string', { other: 'revoked' }],
    ['an extra member named like the mechanism, in another case', { Status_List: { idx: 0, uri: 'https://example.com/s' } }],
  ])('%s beside a valid status_list: STATUS_INVALID', async (_name, extra) => {
    const r = await check({ ...ref, ...extra }, { issuer: iss.did, now: new Date() });
    expect(r.map((x) => x.code)).toEqual(['STATUS_INVALID']);
    expect(r[0]!.message).toMatch(/unsupported status mechanism/);
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])(
    'a member named %s (as JSON.parse makes it: an own member) beside status_list: STATUS_INVALID, no crash',
    async (name) => {
      const claim = JSON.parse(`{"status_list": ${JSON.stringify(ref.status_list)}, ${JSON.stringify(name)}: {"uri": "https://example.com/x"}}`) as unknown;
      expect(Object.getOwnPropertyNames(claim)).toContain(name);
      expect(await codes(claim)).toEqual(['STATUS_INVALID']);
    },
  );

  it('an empty status object, and status_list only inherited from a prototype, are refused', async () => {
    expect(await codes({})).toEqual(['STATUS_INVALID']);
    expect(await codes(Object.create({ status_list: ref.status_list }))).toEqual(['STATUS_INVALID']);
  });

  it('an extra mechanism beside a revoked status_list is still a refusal', async () => {
    const r = await codes({ ...revokedRef, identifier_list: idList() });
    expect(r).toHaveLength(1);
    expect(['STATUS_INVALID', 'CREDENTIAL_REVOKED']).toContain(r[0]);
  });
});

describe('Token Status List checker with a caller source that gives no text', () => {
  it.each([
    ['undefined', undefined],
    ['an object', {}],
    ['a Buffer', Buffer.from('x')],
    ['a number', 42],
  ])('source resolving %s: STATUS_UNAVAILABLE, no TypeError', async (_name, value) => {
    const c = createTokenStatusChecker({ resolver: createResolver(), source: async () => value as never });
    const r = await c(ref, { issuer: iss.did, now: new Date() });
    expect(r.map((x) => x.code)).toEqual(['STATUS_UNAVAILABLE']);
    expect(r[0]!.message).toMatch(/source gave no text/);
  });
});
