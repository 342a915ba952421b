import { describe, expect, it } from 'vitest';
import { createStatusChecker, encodeBitstring, MIN_LIST_SIZE } from '../../src/status/index.js';
import { createTokenStatusChecker } from '../../src/status/token-checker.js';
import { encodeTokenStatusList } from '../../src/status/token-codec.js';
import { issueCredential, signJwt, verifyCredential } from '../../src/credentials/index.js';
import type { CredentialStatusEntry } from '../../src/credentials/types.js';
import { createResolver } from '../../src/did/index.js';
import type { CharterResolver } from '../../src/did/types.js';
import { CharterError } from '../../src/errors.js';
import { makeIssuer } from '../helpers.js';

/**
 * What is wrong is refused for good (STATUS_INVALID); only what could not be
 * had is retried (STATUS_UNAVAILABLE, HTTP 503 at a gateway). A verifier
 * told "try again" about a status that can never be checked retries forever.
 */
const resolver = createResolver();
const issuer = makeIssuer();
const LIST = 'https://issuer.example/status/1';
const TOKEN_LIST = 'https://issuer.example/statuslists/1';
const NOT_HTTP = ['not a url', 'file:///etc/passwd', 'data:application/vc+jwt,abc', 'ftp://127.0.0.1/x', '/status/1'];

async function credentialWith(statusListCredential: string): Promise<string> {
  const entry = { type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '7', statusListCredential } as unknown as CredentialStatusEntry;
  return (await issueCredential({ issuer, subject: makeIssuer().did, type: 'TestCredential', claims: {}, credentialStatus: entry })).jwt;
}

/** A list credential as the issuer signs it, with `extra` members. */
function listCredential(extra: Record<string, unknown> = {}): Promise<string> {
  const now = Date.now();
  const payload = {
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    id: LIST,
    type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer: issuer.did,
    validFrom: new Date(now - 60_000).toISOString(),
    validUntil: new Date(now + 86_400_000).toISOString(),
    credentialSubject: { id: `${LIST}#list`, type: 'BitstringStatusList', statusPurpose: 'revocation', encodedList: encodeBitstring(new Uint8Array(MIN_LIST_SIZE / 8)) },
    ...extra,
  };
  return signJwt({ typ: 'vc+jwt', cty: 'vc' }, payload, issuer.signer, issuer.kid);
}

function tokenList(kid = issuer.kid): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return signJwt(
    { typ: 'statuslist+jwt' },
    { iss: issuer.did, sub: TOKEN_LIST, iat, exp: iat + 3600, ttl: 60, status_list: { bits: 1, lst: encodeTokenStatusList(new Uint8Array(16)) } },
    issuer.signer,
    kid,
  );
}

const codesOf = async (jwt: string, source: () => Promise<string>) =>
  (await verifyCredential(jwt, { resolver, status: createStatusChecker({ resolver, source }) })).reasons.map((r) => r.code);

describe('Bitstring Status List entries and lists that can never be checked: STATUS_INVALID', () => {
  it.each(NOT_HTTP)('statusListCredential %j, not an http(s) URL: refused without a fetch', async (url) => {
    let fetched = 0;
    const source = async () => (fetched++, listCredential());
    expect(await codesOf(await credentialWith(url), source)).toEqual(['STATUS_INVALID']);
    expect(fetched).toBe(0);
  });

  it('a list credential with a credentialStatus of its own: STATUS_INVALID, saying why', async () => {
    const own = {
      id: 'https://issuer.example/status/2#3',
      type: 'BitstringStatusListEntry',
      statusPurpose: 'revocation',
      statusListIndex: '3',
      statusListCredential: 'https://issuer.example/status/2',
    };
    const served = await listCredential({ credentialStatus: own });
    const v = await verifyCredential(await credentialWith(LIST), { resolver, status: createStatusChecker({ resolver, source: async () => served }) });
    expect(v.reasons).toEqual([{ code: 'STATUS_INVALID', message: expect.stringContaining('credentialStatus of its own') }]);
    // The same list without it reads.
    const plain = await listCredential();
    expect(await codesOf(await credentialWith(LIST), async () => plain)).toEqual([]);
  });
});

describe('Token Status List references and signers: STATUS_INVALID unless the list could not be had', () => {
  const check = (source: () => Promise<string>, r: CharterResolver = resolver) => createTokenStatusChecker({ resolver: r, source });
  const codes = async (c: ReturnType<typeof check>, uri = TOKEN_LIST) => (await c({ status_list: { idx: 0, uri } }, { issuer: issuer.did, now: new Date() })).map((r) => r.code);

  it.each(NOT_HTTP)('uri %j, not an http(s) URL: refused without a fetch', async (uri) => {
    let fetched = 0;
    expect(
      await codes(
        check(async () => (fetched++, tokenList())),
        uri,
      ),
    ).toEqual(['STATUS_INVALID']);
    expect(fetched).toBe(0);
  });

  it("a kid naming a key the issuer's DID document does not hold: STATUS_INVALID", async () => {
    const served = await tokenList(`${issuer.did}#no-such-key`);
    expect(await codes(check(async () => served))).toEqual(['STATUS_INVALID']);
    expect(await codes(check(async () => tokenList()))).toEqual([]);
  });

  it.each(['DID_RESOLUTION_FAILED', 'DID_NOT_FOUND', 'STATUS_UNAVAILABLE'] as const)('a signer key that cannot be had (%s): STATUS_UNAVAILABLE', async (code) => {
    const down = {
      ...resolver,
      resolveKey: async () => {
        throw new CharterError(code, 'unreachable');
      },
    } as CharterResolver;
    const served = await tokenList();
    expect(await codes(check(async () => served, down))).toEqual(['STATUS_UNAVAILABLE']);
  });
});

describe('skewSeconds is checked when a checker is made', () => {
  const bad = [-1, NaN, Infinity, '60', null];
  it.each(bad)('%s: TypeError from both checkers', (skewSeconds) => {
    expect(() => createStatusChecker({ resolver, skewSeconds: skewSeconds as number })).toThrow(TypeError);
    expect(() => createTokenStatusChecker({ resolver, skewSeconds: skewSeconds as number })).toThrow(TypeError);
  });

  it('0, 60 and a value above the 300 s cap are taken; a list then reads', async () => {
    const served = await listCredential();
    for (const skewSeconds of [0, 60, 86_400]) {
      createTokenStatusChecker({ resolver, skewSeconds });
      const status = createStatusChecker({ resolver, skewSeconds, source: async () => served });
      expect((await verifyCredential(await credentialWith(LIST), { resolver, status })).reasons).toEqual([]);
    }
  });
});
