import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importAttestations, issueAttestation, issueReceipt, scoreFromStore } from '../../src/reputation/index.js';
import { decodeJwt, issueCredential, schemaIdFor, verifyCredential } from '../../src/credentials/index.js';
import { verifyDecodedCredential } from '../../src/credentials/verify.js';
import { createResolver } from '../../src/did/index.js';
import type { CharterResolver } from '../../src/did/types.js';
import type { Issuer, StatusChecker } from '../../src/credentials/types.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { makeIssuer, tamper, tempDir } from '../helpers.js';

const resolver = createResolver();
const status: StatusChecker = async () => [];
const counting = () => {
  const c = { n: 0, resolver: undefined as unknown as CharterResolver };
  c.resolver = { ...resolver, resolveKey: (...a) => (c.n++, resolver.resolveKey(...a)) };
  return c;
};
const store = () => openSqliteStore(join(tempDir('charter-rep-parts-'), 'r.db'));
/** Entries that take a place in an import and cost no crypto (each refused as MALFORMED_JWT). */
const filler = (k: number) => Array.from({ length: k }, () => `not-a-jwt-${randomUUID()}`);

/**
 * An import decodes each attestation once, a part at a time, and reads the
 * id it claims from that decoding: the rules that hold for a whole import
 * (one rating per attester and id, whatever the order; a token given twice;
 * what is held is skipped before any crypto) hold across its parts too.
 */
describe('an import decoded part by part', () => {
  async function sameId(agent: Issuer, shop: Issuer, froms: number[]) {
    const r = await issueReceipt(null, agent, { counterparty: shop.did, interactionId: `i-${randomUUID()}`, at: new Date(Math.min(...froms) - 3_600_000) });
    const id = `urn:uuid:${randomUUID()}`;
    return Promise.all(
      froms.map((from, i) =>
        issueCredential({
          issuer: shop,
          id,
          subject: agent.did,
          type: 'ReputationAttestation',
          validFrom: new Date(from),
          claims: { rating: { score: i / (froms.length - 1) }, interaction: r.id },
          credentialSchema: { id: schemaIdFor('ReputationAttestation')!, type: 'JsonSchema' },
          extra: { evidence: [{ id: r.id, type: ['Evidence', 'InteractionReceipt'], receipt: r.jwt }] },
        }).then((c) => c.jwt),
      ),
    );
  }

  it('two attestations of one attester and id, a thousand entries apart: the earlier counts, in either order', async () => {
    const agent = makeIssuer();
    const shop = makeIssuer();
    const now = Date.now();
    // Scores 0 (latest), 0.5, 1 (earliest): the earliest is the one recorded.
    const [late, mid, early] = await sameId(agent, shop, [now - 60_000, now - 120_000, now - 30 * 60_000]);
    for (const given of [
      [late!, ...filler(1100), early!, ...filler(900), mid!],
      [early!, ...filler(1100), mid!, ...filler(900), late!],
      [mid!, ...filler(1500), late!, ...filler(10), early!],
    ]) {
      const db = await store();
      const r = await importAttestations(db, given, { resolver, status });
      expect(r.imported).toHaveLength(1);
      expect(r.skipped.filter((s) => s.code !== 'MALFORMED_JWT').map((s) => s.code)).toEqual(['INVALID_CREDENTIAL', 'INVALID_CREDENTIAL']);
      expect((await scoreFromStore(db, agent.did, { resolver, status, trustedAttesters: [shop.did] })).score).toBe(1);
      await db.close();
    }
  });

  it('a token given again in a later part is given twice, and verified once', async () => {
    const agent = makeIssuer();
    const shop = makeIssuer();
    const a = await issueAttestation(null, shop, { receiptJwt: (await issueReceipt(null, agent, { counterparty: shop.did, interactionId: 'x' })).jwt, score: 0.4 });
    const db = await store();
    const c = counting();
    const r = await importAttestations(db, [a.jwt, ...filler(1500), a.jwt], { resolver: c.resolver, status });
    expect(r.imported.map((i) => i.id)).toEqual([a.id]);
    expect(r.skipped.filter((s) => s.code !== 'MALFORMED_JWT')).toEqual([{ id: a.id, code: 'ALREADY_EXISTS', message: 'given twice in this import' }]);
    expect(c.n).toBe(2);
    await db.close();
  });

  it('a held attestation given again in another spelling is refused as malformed, and one edited is skipped as held, neither with crypto', async () => {
    const agent = makeIssuer();
    const shop = makeIssuer();
    const a = await issueAttestation(null, shop, { receiptJwt: (await issueReceipt(null, agent, { counterparty: shop.did, interactionId: 'y' })).jwt, score: 0.9 });
    const db = await store();
    await importAttestations(db, [a.jwt], { resolver, status });
    const [h, p, s] = a.jwt.split('.') as [string, string, string];
    // Non-zero pad bits in the signature, or a character the decoder skips: decodeJwt refuses either.
    // (64 bytes: the last of 86 characters carries 2 bits and 4 zero pad bits; setting the lowest keeps the bytes.)
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const padded = alphabet[alphabet.indexOf(s.at(-1)!) | 1]!;
    expect(Buffer.from(`${s.slice(0, -1)}${padded}`, 'base64url')).toEqual(Buffer.from(s, 'base64url'));
    const respelt = [`${h}.${p}.${s.slice(0, -1)}${padded}`, `${h}.${p.slice(0, 8)}\n${p.slice(8)}.${s}`];
    const edited = tamper(a.jwt, 1, (o) => ((o.credentialSubject as { rating: { score: number } }).rating.score = 0));
    const c = counting();
    const r = await importAttestations(db, [...respelt, edited], { resolver: c.resolver, status });
    expect(r.imported).toEqual([]);
    // What is held is skipped first (before any verification), then what verification refused.
    expect(r.skipped.map((x) => x.code)).toEqual(['ALREADY_EXISTS', 'MALFORMED_JWT', 'MALFORMED_JWT']);
    expect(r.skipped[0]!.id).toBe(a.id);
    expect(c.n).toBe(0);
    expect((await scoreFromStore(db, agent.did, { resolver, status, trustedAttesters: [shop.did] })).score).toBe(0.9);
    await db.close();
  });

  it('verifying a token already decoded answers as verifying the token, and holds it to a limit of its own', async () => {
    const agent = makeIssuer();
    const shop = makeIssuer();
    const a = await issueAttestation(null, shop, { receiptJwt: (await issueReceipt(null, agent, { counterparty: shop.did, interactionId: 'z' })).jwt, score: 0.3 });
    const opts = { resolver, status, once: true as const };
    expect(await verifyDecodedCredential(a.jwt, decodeJwt(a.jwt), opts)).toEqual(await verifyCredential(a.jwt, opts));
    const small = await verifyDecodedCredential(a.jwt, decodeJwt(a.jwt), { ...opts, maxBytes: 100 });
    expect([small.ok, small.reasons[0]?.code]).toEqual([false, 'INPUT_TOO_LARGE']);
  });
});
