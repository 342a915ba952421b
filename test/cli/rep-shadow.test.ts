import { describe, expect, it } from 'vitest';
import { issueCredential, schemaIdFor } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { issueAttestation, issueReceipt } from '../../src/reputation/index.js';
import { makeIssuer } from '../helpers.js';
import { charter, freshEnv, json } from './harness.js';

/**
 * README: the rating is kept keyed by attester and id ("another attester
 * reusing it cannot shadow it"). A stranger's attestation (about a
 * sockpuppet) reusing a trusted attester's id, imported first, must not hide
 * that rating from `charter rep score`, and `rep import` says which JWT it
 * could not keep.
 */
interface Score {
  score: number | null;
  count: number;
  counted: number;
  attesters: number;
  attestations: { id: string; attester: string }[];
  ignored: { id: string; code: string }[];
}
interface Imported {
  imported: string[];
  skipped: { code: string }[];
  notKept: { id: string; attester: string; code: string }[];
}

async function world() {
  const [A, shop, good, S, X] = [makeIssuer(), makeIssuer(), makeIssuer(), makeIssuer(), makeIssuer()];
  const rate = async (agent: Issuer, by: Issuer, score: number, interactionId: string) =>
    issueAttestation(null, by, { receiptJwt: (await issueReceipt(null, agent, { counterparty: by.did, interactionId })).jwt, score });
  const bad = await rate(A, shop, 0, 'o1');
  const fine = await rate(A, good, 1, 'o2');
  const r = await issueReceipt(null, S, { counterparty: X.did, interactionId: 'sock' });
  const shadowOf = async (id: string) =>
    (
      await issueCredential({
        issuer: X,
        id,
        subject: S.did,
        type: 'ReputationAttestation',
        claims: { rating: { score: 1 }, interaction: r.id },
        credentialSchema: { id: schemaIdFor('ReputationAttestation')!, type: 'JsonSchema' },
        extra: { evidence: [{ id: r.id, type: ['Evidence', 'InteractionReceipt'], receipt: r.jwt }] },
      })
    ).jwt;
  return { A, shop, good, S, X, bad, fine, shadow: await shadowOf(bad.id) };
}

const scoreOf = async (env: NodeJS.ProcessEnv, agent: string, trust: string[], extra: string[] = []) => {
  const r = await charter(['rep', 'score', agent, ...trust.flatMap((t) => ['--trust', t]), ...extra, '--json'], env);
  expect(r.code).toBe(0);
  return json<Score>(r);
};

describe('charter rep: a reused id cannot shadow a rating', () => {
  it('a stranger importing the same id first: the trusted rating still counts, and import says its JWT was not kept', async () => {
    const w = await world();
    const honest = freshEnv();
    const shadowed = freshEnv();
    for (const env of [honest, shadowed]) expect((await charter(['init'], env)).code).toBe(0);
    const first = json<Imported>(await charter(['rep', 'import', '-', '--json'], shadowed, `${w.shadow}\n`));
    expect(first.imported).toEqual([w.bad.id]);
    const real = json<Imported>(await charter(['rep', 'import', '-', '--json'], shadowed, `${w.bad.jwt}\n${w.fine.jwt}\n`));
    expect(real.imported.sort()).toEqual([w.bad.id, w.fine.id].sort());
    expect(real.notKept).toEqual([{ id: w.bad.id, attester: w.shop.did, code: 'ALREADY_EXISTS', message: expect.any(String) }]);
    // the text output says it too
    const again = freshEnv();
    await charter(['init'], again);
    await charter(['rep', 'import', '-'], again, `${w.shadow}\n`);
    const text = await charter(['rep', 'import', '-'], again, `${w.bad.jwt}\n`);
    expect(text.stdout).toMatch(/^imported 1$/m);
    expect(text.stdout).toContain(`not kept ${w.bad.id}`);
    json<Imported>(await charter(['rep', 'import', '-', '--json'], honest, `${w.bad.jwt}\n${w.fine.jwt}\n`));

    const trust = [w.shop.did, w.good.did];
    const h = await scoreOf(honest, w.A.did, trust);
    const s = await scoreOf(shadowed, w.A.did, trust);
    for (const x of [h, s]) {
      expect(x).toMatchObject({ score: 0.5, count: 2, counted: 2, attesters: 2 });
      expect(x.attestations.map((a) => a.attester).sort()).toEqual(trust.sort());
    }
    // scored twice, the same (nothing re-imported twice, nothing lost)
    expect(await scoreOf(shadowed, w.A.did, trust)).toMatchObject({ score: 0.5, count: 2, attesters: 2 });
    // the stranger's own rating is kept too, about its own subject
    expect(await scoreOf(shadowed, w.S.did, [w.X.did])).toMatchObject({ score: 1, count: 1, attesters: 1 });
  }, 180_000);

  it('the trusted rating imported first, the stranger second: both ratings are recorded, each about its own agent', async () => {
    const w = await world();
    const env = freshEnv();
    await charter(['init'], env);
    expect(json<Imported>(await charter(['rep', 'import', '-', '--json'], env, `${w.bad.jwt}\n${w.fine.jwt}\n`)).notKept).toEqual([]);
    const late = json<Imported>(await charter(['rep', 'import', '-', '--json'], env, `${w.shadow}\n`));
    expect(late.imported).toEqual([w.bad.id]);
    expect(late.notKept).toEqual([{ id: w.bad.id, attester: w.X.did, code: 'ALREADY_EXISTS', message: expect.any(String) }]);
    expect(await scoreOf(env, w.A.did, [w.shop.did, w.good.did])).toMatchObject({ score: 0.5, count: 2, attesters: 2 });
    expect(await scoreOf(env, w.S.did, [w.X.did])).toMatchObject({ score: 1, count: 1, attesters: 1 });
  }, 180_000);

  it('one file holding the stranger first: the same', async () => {
    const w = await world();
    const env = freshEnv();
    await charter(['init'], env);
    const r = json<Imported>(await charter(['rep', 'import', '-', '--json'], env, `${w.shadow}\n${w.bad.jwt}\n${w.fine.jwt}\n`));
    expect(r.imported).toHaveLength(3);
    expect(r.notKept).toHaveLength(1);
    expect(await scoreOf(env, w.A.did, [w.shop.did, w.good.did])).toMatchObject({ score: 0.5, count: 2, attesters: 2 });
  }, 180_000);
});
