import { describe, expect, it } from 'vitest';
import { checkAuditJws, RECEIPT_TYP } from '../../src/audit/jws.js';
import { documentResolver } from '../../src/did/document-resolver.js';
import { resolveDidKey } from '../../src/did/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { makeIssuer } from '../helpers.js';

/**
 * What no audit record Charter signs carries is refused, each alone, with a record that is otherwise
 * exactly as Charter writes it and whose signature holds (found by mutation testing of
 * src/audit/jws.ts: each of these refusals could be dropped with every earlier test still passing).
 */
const by: Issuer = makeIssuer();
const resolver = documentResolver(async (did) => resolveDidKey(did), { cacheTtlMs: 0 });
const b64 = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');

/** A compact JWS of `payload` (an object, or its text as given) under `header`, really signed by `by`. */
async function signed(header: Record<string, unknown>, payload: unknown): Promise<string> {
  const input = `${b64({ alg: by.signer.alg, kid: by.kid, typ: RECEIPT_TYP, ...header })}.${b64(payload)}`;
  const sig = await by.signer.sign(new TextEncoder().encode(input));
  return `${input}.${Buffer.from(sig).toString('base64url')}`;
}
const claims = () => {
  const t = new Date();
  return { iss: by.did, iat: Math.floor(t.getTime() / 1000), time: t.toISOString(), kind: 'probe' };
};
const check = (jws: string) => checkAuditJws(jws, RECEIPT_TYP, resolver, 'AUDIT_CHAIN_BROKEN');

describe('an audit record in a form Charter never signs, its signature valid', () => {
  it('the record as Charter writes it passes (so each refusal below is the form alone)', async () => {
    expect((await check(await signed({}, claims()))).reasons).toEqual([]);
  });

  it('an unencoded payload marker, even b64: true (which decodes as usual), is refused; any critical header too', async () => {
    const r = await check(await signed({ b64: true }, claims()));
    expect(r.reasons).toEqual([{ code: 'AUDIT_CHAIN_BROKEN', message: 'the record marks its header b64 or crit, which no audit record carries' }]);
    for (const header of [
      { crit: ['exp'], exp: 1 },
      { b64: true, crit: ['b64'] },
    ]) {
      expect((await check(await signed(header, claims()))).reasons.length, JSON.stringify(header)).toBeGreaterThan(0);
    }
  });

  it('a header replicating the signer claim with another value is refused (RFC 7519 §5.3)', async () => {
    const r = await check(await signed({ iss: 'did:web:someone-else.example' }, claims()));
    expect(r.reasons).toEqual([{ code: 'AUDIT_CHAIN_BROKEN', message: 'the header parameter "iss" differs from the claim (RFC 7519 §5.3)' }]);
  });

  it('payload text with whitespace of its own is refused, though it parses to the same claims', async () => {
    const r = await check(await signed({}, JSON.stringify(claims(), null, 1)));
    expect(r.reasons[0]).toMatchObject({ code: 'AUDIT_CHAIN_BROKEN', message: expect.stringMatching(/not in the form Charter signs/) });
  });

  it('a signer that is no DID is refused as naming no signer, not looked up', async () => {
    const r = await check(await signed({}, { ...claims(), iss: 'https://api.example' }));
    expect(r.reasons).toEqual([{ code: 'AUDIT_CHAIN_BROKEN', message: 'the record names no signer (iss)' }]);
  });

  it('another typ is refused as INVALID_TYP', async () => {
    const r = await check(await signed({ typ: 'JWT' }, claims()));
    expect(r.reasons).toEqual([{ code: 'INVALID_TYP', message: `expected a ${RECEIPT_TYP}` }]);
  });
});
