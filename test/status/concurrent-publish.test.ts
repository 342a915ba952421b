import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { openPostgresStore } from '../../src/store/postgres/store.js';
import type { StatusStore, Store } from '../../src/store/types.js';
import { createStatusChecker, createStatusList, currentStatusListJwt, setStatus } from '../../src/status/index.js';
import { currentTokenStatusListJwt, tokenStatusListUrl } from '../../src/status/token-issuer.js';
import { createTokenStatusChecker } from '../../src/status/token-checker.js';
import { createListWatermark } from '../../src/status/rollback.js';
import { decodeJwt, issueCredential, verifyCredential } from '../../src/credentials/index.js';
import type { CredentialStatusEntry, Issuer } from '../../src/credentials/types.js';
import { createResolver } from '../../src/did/index.js';
import { makeIssuer, tempDir } from '../helpers.js';
import { dropSchemas, freshSchema, pgUrlOrReport } from '../store/fixtures/pg-env.js';

/**
 * Verifiers keep, per list URL, the issuance time of the newest copy they
 * accepted and refuse an older one (status/rollback.ts; Bitstring Status List
 * v1.0 §2.1: a revocation "is not reversible"). So every copy an issuer
 * stores and serves must be dated after every copy stored before it, however
 * many instances (or callers) revoke on one list at once and however slowly
 * each signs: a copy dated from a stale read, stored last, would be refused
 * by every verifier that saw the one before, until the next re-sign.
 */
const issuer = makeIssuer();
const resolver = createResolver();
const BASE = 'https://issuer.example';

type Opener = (n: number) => Promise<Store[]>;
const backends: [string, Opener][] = [
  [
    'sqlite (instances on one file)',
    async (n) => {
      const file = join(tempDir(), 'charter.db');
      return Promise.all(Array.from({ length: n }, () => openSqliteStore(file)));
    },
  ],
];
const pgUrl = pgUrlOrReport('concurrent status publication (postgres)');
const schemas = new Set<string>();
if (pgUrl) {
  backends.push([
    'postgres (instances on one schema)',
    async (n) => {
      const schema = freshSchema();
      schemas.add(schema);
      return Promise.all(Array.from({ length: n }, () => openPostgresStore(pgUrl, { schema, poolSize: 3 })));
    },
  ]);
  afterAll(() => dropSchemas(pgUrl, schemas));
}

function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

/** The status part of a store, with some calls replaced (a slow network, a slow signer). */
function statusOf(s: StatusStore, over: Partial<StatusStore> = {}): StatusStore {
  return {
    createStatusList: (...a) => s.createStatusList(...a),
    getStatusList: (...a) => s.getStatusList(...a),
    listStatusLists: (...a) => s.listStatusLists(...a),
    allocateStatusIndex: (...a) => s.allocateStatusIndex(...a),
    findStatusAllocation: (...a) => s.findStatusAllocation(...a),
    setStatusBit: (...a) => s.setStatusBit(...a),
    putSignedStatusList: (...a) => s.putSignedStatusList(...a),
    ...over,
  };
}

/** An issuer whose key answers after a random delay (a remote key manager). */
const slowIssuer = (maxMs: number): Issuer => ({
  ...issuer,
  signer: { alg: issuer.signer.alg, keyType: issuer.signer.keyType, sign: async (d) => (await sleep(Math.random() * maxMs), issuer.signer.sign(d)) },
});

const validFrom = (jwt: string) => Date.parse(String(decodeJwt(jwt).payload.validFrom));
const iat = (jwt: string) => decodeJwt(jwt).payload.iat as number;

/** A verifier fed the copies a test serves it, one by one: the codes of a credential revoked at `index`. */
async function bitstringVerifier(url: string, index: number) {
  let served = '';
  const status = createStatusChecker({ resolver, source: async () => served });
  const entry = { type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: String(index), statusListCredential: url } as unknown as CredentialStatusEntry;
  const jwt = (await issueCredential({ issuer, subject: makeIssuer().did, type: 'TestCredential', claims: {}, credentialStatus: entry })).jwt;
  return async (copy: string) => {
    served = copy;
    await status.refresh(url);
    return (await verifyCredential(jwt, { resolver, status })).reasons.map((r) => r.code);
  };
}

function tokenVerifier(uri: string, idx: number) {
  let served = '';
  const check = createTokenStatusChecker({ resolver, source: async () => served });
  return async (token: string) => {
    served = token;
    await check.refresh(uri);
    return (await check({ status_list: { idx, uri } }, { issuer: issuer.did, now: new Date() })).map((r) => r.code);
  };
}

describe.each(backends)('status lists published from several instances: %s', (_name, open) => {
  it('a newer version signed first but stored last is signed again after the copy stored meanwhile: a verifier reads each copy', async () => {
    const [a, b] = await open(2);
    try {
      const list = await createStatusList(a!, { issuerDid: issuer.did, purpose: 'revocation', baseUrl: BASE });
      const issuerFor = async () => issuer;
      const aCommitted = gate();
      const aGo = gate();
      const bSigned = gate();
      const bGo = gate();
      // A commits index 1 (version 1) and stalls before signing; B commits index 2 (version 2), signs, and stalls
      // before storing. A then signs (dated later than B's copy) and stores; a fetch serves the list; B stores last.
      const slowA = statusOf(a!, {
        setStatusBit: async (...x) => {
          const r = await a!.setStatusBit(...x);
          aCommitted.open();
          await aGo.wait;
          return r;
        },
      });
      let held = false;
      const slowB = statusOf(b!, {
        putSignedStatusList: async (...x) => {
          if (!held) {
            held = true;
            bSigned.open();
            await bGo.wait;
          }
          return b!.putSignedStatusList(...x);
        },
      });
      const pA = setStatus(slowA, list.id, 1, true, issuerFor);
      await aCommitted.wait;
      const pB = setStatus(slowB, list.id, 2, true, issuerFor);
      await bSigned.wait;
      await sleep(5);
      aGo.open();
      await pA;
      const verify = await bitstringVerifier(list.url, 1);
      const first = await currentStatusListJwt(a!, list.id, issuerFor);
      expect(await verify(first)).toEqual(['CREDENTIAL_REVOKED']);
      bGo.open();
      await pB;
      const last = await currentStatusListJwt(b!, list.id, issuerFor);
      expect(validFrom(last)).toBeGreaterThanOrEqual(validFrom(first));
      expect(await verify(last)).toEqual(['CREDENTIAL_REVOKED']);
      const stored = (await a!.getStatusList(list.id))!;
      expect(stored).toMatchObject({ version: 2, signedVersion: 2, signedJwt: last });
    } finally {
      await Promise.all([a, b].map((s) => s!.close()));
    }
  });

  it('revocations racing from several instances with slow signers: copies served in turn go forward in time, the last one is read', async () => {
    const stores = await open(4);
    try {
      const list = await createStatusList(stores[0]!, { issuerDid: issuer.did, purpose: 'revocation', baseUrl: BASE });
      const signerFor = async () => slowIssuer(10);
      // Each instance's commit comes back after a random delay (another host, a slow network).
      const slow = stores.map((s) =>
        statusOf(s, {
          setStatusBit: async (...x) => {
            const r = await s.setStatusBit(...x);
            await sleep(Math.random() * 10);
            return r;
          },
        }),
      );
      const wm = createListWatermark(10);
      const seen: number[] = [];
      const refusals: string[] = [];
      let stop = false;
      // One verifier fetching in turn from every instance (a load balancer): each copy served after the one before.
      const fetcher = (async () => {
        for (let i = 0; !stop; i++) {
          // A stored copy answers without I/O (SQLite): let timers run between fetches.
          await new Promise((r) => setImmediate(r));
          const jwt = await currentStatusListJwt(stores[i % stores.length]!, list.id, signerFor).catch(() => undefined);
          if (jwt === undefined) continue;
          seen.push(validFrom(jwt));
          const why = wm.admit(list.url, validFrom(jwt));
          if (why) refusals.push(why);
        }
      })();
      const indices = Array.from({ length: 60 }, (_, i) => i * 3 + 1);
      await Promise.all(indices.map((idx, i) => setStatus(slow[i % 3]!, list.id, idx, true, signerFor)));
      stop = true;
      await fetcher;
      const last = await currentStatusListJwt(stores[3]!, list.id, signerFor);
      expect(refusals).toEqual([]);
      expect(seen.length).toBeGreaterThan(0);
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]!);
      expect(validFrom(last)).toBeGreaterThanOrEqual(Math.max(...seen));
      expect(wm.admit(list.url, validFrom(last))).toBeUndefined();
      expect((await stores[0]!.getStatusList(list.id))!).toMatchObject({ version: 60, signedVersion: 60, signedJwt: last });
      expect(await (await bitstringVerifier(list.url, indices[59]!))(last)).toEqual(['CREDENTIAL_REVOKED']);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('the Status List Token of one version is dated alike by every instance: one signed earlier by another is never served after', async () => {
    const [a, b] = await open(2);
    try {
      const list = await createStatusList(a!, { issuerDid: issuer.did, purpose: 'revocation', baseUrl: BASE });
      const issuerFor = async () => issuer;
      await setStatus(a!, list.id, 5, true, issuerFor);
      const uri = tokenStatusListUrl(list);
      const verify = tokenVerifier(uri, 5);
      const fromA = await currentTokenStatusListJwt(a!, list.id, issuerFor);
      expect(await verify(fromA)).toEqual(['CREDENTIAL_REVOKED']);
      // A second later, instance B signs the same version for the first time; A still holds its own token.
      await sleep(1_100);
      const fromB = await currentTokenStatusListJwt(b!, list.id, issuerFor);
      expect(await verify(fromB)).toEqual(['CREDENTIAL_REVOKED']);
      const againA = await currentTokenStatusListJwt(a!, list.id, issuerFor);
      expect(iat(againA)).toBe(iat(fromB));
      expect(await verify(againA)).toEqual(['CREDENTIAL_REVOKED']);
    } finally {
      await Promise.all([a, b].map((s) => s!.close()));
    }
  });

  it('Status List Tokens served in turn from several instances while they revoke go forward in iat; the last one is read', async () => {
    const stores = await open(3);
    try {
      const list = await createStatusList(stores[0]!, { issuerDid: issuer.did, purpose: 'revocation', baseUrl: BASE });
      const uri = tokenStatusListUrl(list);
      const signerFor = async () => slowIssuer(10);
      const wm = createListWatermark(10);
      const seen: number[] = [];
      const refusals: string[] = [];
      let stop = false;
      const fetcher = (async () => {
        for (let i = 0; !stop; i++) {
          await new Promise((r) => setImmediate(r));
          const jwt = await currentTokenStatusListJwt(stores[i % stores.length]!, list.id, signerFor).catch(() => undefined);
          if (jwt === undefined) continue;
          seen.push(iat(jwt));
          const why = wm.admit(uri, iat(jwt) * 1000);
          if (why) refusals.push(why);
        }
      })();
      const indices = Array.from({ length: 30 }, (_, i) => i * 5 + 2);
      // Spread over more than a second, so tokens signed by one instance's clock would differ from another's.
      await Promise.all(indices.map(async (idx, i) => (await sleep(i * 50), setStatus(stores[i % 2]!, list.id, idx, true, signerFor))));
      stop = true;
      await fetcher;
      const last = await currentTokenStatusListJwt(stores[2]!, list.id, signerFor);
      expect(refusals).toEqual([]);
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]!);
      expect(wm.admit(uri, iat(last) * 1000)).toBeUndefined();
      expect(await tokenVerifier(uri, indices[29]!)(last)).toEqual(['CREDENTIAL_REVOKED']);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
