import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { issueCredential } from '../../src/credentials/index.js';
import { importAttestations, scoreAgent, scoreFromStore, type ReputationScore, type ScorePolicy } from '../../src/reputation/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../helpers.js';
import { mk, rate, resolver, status, web } from './listed-keys-world.js';

/**
 * Import notes the key each attestation's signature verified with, and
 * scoring ties raters to the rated agent's parties, and to each other, by
 * that key rather than by what DID documents list: a party listing a
 * critic's signing key costs the party (no score), never the critic; a rater
 * listing others' keys merges no one; two DIDs whose ratings one key signed
 * are one voice, even after a document rotated away from that key. Ratings
 * stored before the key was noted are scored as they were.
 */

const fields = (s: ReputationScore) => ({ score: s.score, attesters: s.attesters, counted: s.counted, codes: s.ignored.map((i) => i.code).sort() });

/** Imports `jwts` into a fresh SQLite store; the store's file path, to reopen or edit it. */
async function imported(jwts: string[]) {
  const path = join(tempDir('charter-rep-signed-'), 'r.db');
  const store = await openSqliteStore(path);
  const result = await importAttestations(store, jwts, { resolver, status });
  return { path, store, result };
}

/** Scored from the store and from the JWTs: the same answer, field for field; the store's returned. */
async function both(store: Awaited<ReturnType<typeof openSqliteStore>>, agent: string, jwts: string[], policy: ScorePolicy) {
  const f = await scoreFromStore(store, agent, policy);
  const a = await scoreAgent(agent, jwts, policy);
  expect({ ...fields(f), ignored: f.ignored, attestations: f.attestations }).toEqual({ ...fields(a), ignored: a.ignored, attestations: a.attestations });
  return f;
}

/** Sets every stored rating's key to NULL, as rows imported before it was noted. */
function forgetKeys(path: string) {
  const db = new Database(path);
  db.prepare('UPDATE ratings SET signed_with = NULL').run();
  db.close();
}

describe("a party's document listing a did:web critic's signing key costs the party, never the critic", () => {
  it("the agent's own did:web document listing the critic's key: kept at import, and the agent has no score", async () => {
    const criticKp = mk().kp;
    const critic = web('critic-a.signed.example', criticKp);
    const friend = mk();
    const agent = web('agent-a.signed.example', mk().kp, [criticKp]);
    const jwts = [await rate(agent, critic, 0), await rate(agent, critic, 0), await rate(agent, friend.key, 1)];
    const { store, result } = await imported(jwts);
    // Before: refused at import as the agent rating itself, and the friend's 1 alone passed any threshold.
    expect(result.skipped).toEqual([]);
    expect(result.imported).toHaveLength(3);
    const s = await both(store, agent.did, jwts, { resolver, status, operator: mk().key.did, trustedAttesters: [critic.did, friend.key.did] });
    expect(fields(s)).toEqual({ score: null, attesters: 0, counted: 0, codes: ['SELF_ATTESTATION', 'SELF_ATTESTATION', 'SELF_ATTESTATION'] });
    await store.close();
  });

  it('the operator listing it for authentication only: the same', async () => {
    const criticKp = mk().kp;
    const critic = web('critic-b.signed.example', criticKp);
    const friend = mk();
    const agent = mk();
    const op = web('op-b.signed.example', mk().kp, [criticKp], ['authentication']);
    const jwts = [await rate(agent.key, critic, 0), await rate(agent.key, friend.key, 1)];
    const { store } = await imported(jwts);
    const s = await both(store, agent.key.did, jwts, { resolver, status, operator: op.did, trustedAttesters: [critic.did, friend.key.did] });
    expect(fields(s)).toMatchObject({ score: null, attesters: 0, codes: ['SELF_ATTESTATION', 'SELF_ATTESTATION'] });
    await store.close();
  });

  it('a critic that rotated its key after import: the key its ratings were signed with still decides', async () => {
    const [oldKp, newKp] = [mk().kp, mk().kp];
    const critic = web('critic-c.signed.example', oldKp);
    const friend = mk();
    const agent = mk();
    const jwts = [await rate(agent.key, critic, 0), await rate(agent.key, critic, 0), await rate(agent.key, friend.key, 1)];
    const { store } = await imported(jwts);
    web('critic-c.signed.example', newKp);
    // The operator lists the key the critic no longer lists: its stored ratings were signed with it.
    const op = web('op-c.signed.example', mk().kp, [oldKp]);
    const policy = { resolver, status, operator: op.did, trustedAttesters: [critic.did, friend.key.did] };
    expect(fields(await scoreFromStore(store, agent.key.did, policy))).toMatchObject({
      score: null,
      attesters: 0,
      codes: ['SELF_ATTESTATION', 'SELF_ATTESTATION', 'SELF_ATTESTATION'],
    });
    // Listing nothing of the critic's, the operator leaves both raters their say.
    const fair = { ...policy, operator: web('op-c2.signed.example', mk().kp).did };
    expect(fields(await scoreFromStore(store, agent.key.did, fair))).toEqual({ score: 0.5, attesters: 2, counted: 3, codes: [] });
    await store.close();
  });

  it('a rating signed with a key the operator is (its did:jwk, spelt with other members), under a did:web that since rotated: SELF_ATTESTATION, the agent keeps its score', async () => {
    const opKp = mk().kp;
    const { kty, crv, x } = opKp.publicJwk as { kty: string; crv: string; x: string };
    const spelt = `did:jwk:${Buffer.from(JSON.stringify({ x, alg: 'EdDSA', crv, kty, use: 'sig' })).toString('base64url')}`;
    const alias = web('alias-d.signed.example', opKp);
    const friend = mk();
    const agent = mk();
    const jwts = [await rate(agent.key, alias, 1), await rate(agent.key, alias, 1), await rate(agent.key, friend.key, 0)];
    const { store } = await imported(jwts);
    web('alias-d.signed.example', mk().kp);
    const s = await scoreFromStore(store, agent.key.did, { resolver, status, operator: spelt, trustedAttesters: [alias.did, friend.key.did] });
    expect(fields(s)).toEqual({ score: 0, attesters: 1, counted: 1, codes: ['SELF_ATTESTATION', 'SELF_ATTESTATION'] });
    await store.close();
  });

  it('an agent signing as a did:web with the key of its own did:jwk is refused at import, whatever the spelling', async () => {
    const agent = mk();
    const { kty, crv, x } = agent.kp.publicJwk as { kty: string; crv: string; x: string };
    const spelt = `did:jwk:${Buffer.from(JSON.stringify({ crv, x, kty, kid: 'k-1' })).toString('base64url')}`;
    const alias = web('alias-e.signed.example', agent.kp);
    // The receipt is the agent's (its did:key); the rating names the did:jwk spelling as its subject.
    const jwt = await rate({ ...agent.key, did: spelt, kid: `${spelt}#0` }, alias, 1);
    const { store, result } = await imported([jwt]);
    expect(result.skipped.map((s) => s.code)).toEqual(['SELF_ATTESTATION']);
    await store.close();
  });
});

describe('a vouch is tied to the parties by the key it was signed with', () => {
  it('an operator listing the own key of the did:web identity issuer vouching for the critic: no score, the vouch not voided', async () => {
    const registryKp = mk().kp;
    const registry = web('registry-h.signed.example', registryKp);
    const critic = mk();
    const friend = mk();
    const agent = mk();
    const op = web('op-h.signed.example', mk().kp, [registryKp]);
    const vouch = (await issueCredential({ issuer: registry, subject: critic.key.did, type: 'OrganizationCredential', claims: { name: 'critic' } })).jwt;
    const jwts = [await rate(agent.key, critic.key, 0), await rate(agent.key, critic.key, 0), await rate(agent.key, friend.key, 1)];
    const { store } = await imported(jwts);
    const policy = { resolver, status, operator: op.did, trustedAttesters: [friend.key.did], trustedIdentityIssuers: [registry.did], attesterCredentials: [vouch] };
    // Before: the registry was taken as the operator, its vouch void, and the friend's 1 alone passed.
    expect(fields(await both(store, agent.key.did, jwts, policy))).toEqual({
      score: null,
      attesters: 0,
      counted: 0,
      codes: ['SELF_ATTESTATION', 'SELF_ATTESTATION', 'SELF_ATTESTATION'],
    });
    // Listing nothing of the registry's, the operator leaves the critic its vouch: two voices.
    const fair = { ...policy, operator: web('op-h2.signed.example', mk().kp).did };
    expect(fields(await both(store, agent.key.did, jwts, fair))).toEqual({ score: 0.5, attesters: 2, counted: 3, codes: [] });
    await store.close();
  });
});

describe('voices are told apart by the key each rating was signed with', () => {
  it('a trusted did:web listing two other trusted raters’ keys does not merge them into its voice', async () => {
    const [bKp, cKp] = [mk().kp, mk().kp];
    const lister = web('lister-f.signed.example', mk().kp, [bKp, cKp]);
    const b = web('b-f.signed.example', bKp);
    const c = web('c-f.signed.example', cKp);
    const agent = mk();
    const jwts = [await rate(agent.key, lister, 1), await rate(agent.key, lister, 1), await rate(agent.key, b, 0), await rate(agent.key, c, 0)];
    const { store, path } = await imported(jwts);
    const policy = { resolver, status, trustedAttesters: [lister.did, b.did, c.did] };
    // Three voices: 1, 0, 0. Merged into one (before), the four ratings averaged 0.5 from one attester.
    expect(fields(await both(store, agent.key.did, jwts, policy))).toEqual({ score: 1 / 3, attesters: 3, counted: 4, codes: [] });
    await store.close();
    // Ratings stored before keys were noted are scored as they were: by what the documents list.
    forgetKeys(path);
    const old = await openSqliteStore(path);
    expect(fields(await scoreFromStore(old, agent.key.did, policy))).toEqual({ score: 0.5, attesters: 1, counted: 4, codes: [] });
    await old.close();
  });

  it('DIDs whose ratings one key signed (two did:web, the did:jwk of the key) are one voice, even once the documents no longer list it', async () => {
    const k = mk();
    const x = web('x-g.signed.example', k.kp);
    const y = web('y-g.signed.example', k.kp);
    const other = mk();
    const agent = mk();
    const jwts = [await rate(agent.key, x, 1), await rate(agent.key, y, 1), await rate(agent.key, k.jwk, 1), await rate(agent.key, other.key, 0)];
    const { store } = await imported(jwts);
    const policy = { resolver, status, trustedAttesters: [x.did, y.did, k.jwk.did, other.key.did] };
    expect(fields(await both(store, agent.key.did, jwts, policy))).toEqual({ score: 0.5, attesters: 2, counted: 4, codes: [] });
    // Both documents rotate away from the key: their stored ratings were still signed by one holder.
    web('x-g.signed.example', mk().kp);
    web('y-g.signed.example', mk().kp);
    expect(fields(await scoreFromStore(store, agent.key.did, policy))).toEqual({ score: 0.5, attesters: 2, counted: 4, codes: [] });
    await store.close();
  });
});
