import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { digest, generateSalt } from '@sd-jwt/crypto-nodejs';
import type { Issuer } from '../../src/credentials/types.js';
import { createResolver } from '../../src/did/index.js';
import { issueSdJwtVc, presentSdJwtVc, verifySdJwtVc } from '../../src/sdjwt/index.js';
import { makeIssuer } from '../helpers.js';

/**
 * Claim names may contain dots (mDL namespaces such as "org.iso.18013.5.1"),
 * so a dotted path can read as a name or as a path into nested claims.
 * Charter chooses disclosures by segments over the claims themselves: a
 * presentation never reveals a claim the holder did not name (or a parent
 * needed to reach one, RFC 9901 §7.1), a dotted path naming two claims is
 * refused, and a JSON Pointer (RFC 6901) names any claim exactly.
 */
const resolver = createResolver();
const AUD = 'https://verifier.example';
const NONCE = 'n-dotted';
const VCT = 'https://example.com/vct/Dotted';
const now = () => Math.floor(Date.now() / 1000);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

let issuer: Issuer;
let holder: Issuer;
let peer: SDJwtVcInstance;

beforeAll(() => {
  issuer = makeIssuer('P-256');
  holder = makeIssuer('P-256');
  const sign = async (data: string) => Buffer.from(issuer.signer.sign(new TextEncoder().encode(data)) as Uint8Array).toString('base64url');
  // @sd-jwt/sd-jwt-vc with its default options, as another issuer would use it
  peer = new SDJwtVcInstance({ signer: sign, signAlg: 'ES256', hasher: digest, saltGenerator: generateSalt });
});

/** A token from the peer issuer over `claims` with `frame`, bound to the holder's key. */
const peerIssue = (claims: Record<string, unknown>, frame: Record<string, unknown>) =>
  peer.issue({ iss: issuer.did, vct: VCT, iat: now(), exp: now() + 3600, sub: holder.did, cnf: { jwk: holder.publicJwk }, ...claims } as never, frame as never, {
    header: { kid: issuer.kid },
  });
const present = (token: string, disclose: string[]) => presentSdJwtVc(token, { holder, disclose, aud: AUD, nonce: NONCE });
/** The decoded disclosures a presentation carries: [name, value] for an object member, [value] for an array element. */
const shown = (presentation: string) =>
  presentation
    .split('~')
    .slice(1, -1)
    .map((d) => (JSON.parse(Buffer.from(d, 'base64url').toString()) as unknown[]).slice(1))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
/** What the verifier sees of a presentation. */
async function seen(presentation: string): Promise<Record<string, unknown>> {
  const v = await verifySdJwtVc(presentation, { resolver, aud: AUD, nonce: NONCE });
  expect(v.reasons).toEqual([]);
  return v.claims!;
}
const issuerPayload = (token: string) => JSON.parse(Buffer.from(token.split('~')[0]!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe('presenting claims whose names contain dots', () => {
  it('mDL namespaces: disclosing "org.iso.18013.5.1" does not reveal "org.iso.18013.5.1.aamva"', async () => {
    const token = await peerIssue(
      { 'org.iso.18013.5.1': 'age_over_18', 'org.iso.18013.5.1.aamva': 'SECRET organ donor' },
      { _sd: ['org.iso.18013.5.1', 'org.iso.18013.5.1.aamva'] },
    );
    for (const path of ['org.iso.18013.5.1', '/org.iso.18013.5.1']) {
      const p = await present(token, [path]);
      expect(shown(p)).toEqual([['org.iso.18013.5.1', 'age_over_18']]);
      const claims = await seen(p);
      expect(claims['org.iso.18013.5.1']).toBe('age_over_18');
      expect(claims).not.toHaveProperty(['org.iso.18013.5.1.aamva']);
    }
    expect(shown(await present(token, ['org.iso.18013.5.1.aamva']))).toEqual([['org.iso.18013.5.1.aamva', 'SECRET organ donor']]);
    expect(shown(await present(token, []))).toEqual([]);
  });

  it('{a: {b}, "a.b"}: "a" reveals only a, "a.b" is ambiguous and refused, a JSON Pointer names either', async () => {
    const token = await peerIssue({ a: { b: 'nested' }, 'a.b': 'SECRET' }, { _sd: ['a', 'a.b'], a: { _sd: ['b'] } });
    const onlyA = await present(token, ['a']);
    expect(shown(onlyA).map(([name]) => name)).toEqual(['a', 'b']);
    const claims = await seen(onlyA);
    expect(claims.a).toEqual({ b: 'nested' });
    expect(claims).not.toHaveProperty(['a.b']);

    for (const bad of [['a.b'], ['a.b', 'a'], ['a', 'a.b']]) {
      await expect(present(token, bad)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('ambiguous') });
    }

    const top = await present(token, ['/a.b']);
    expect(shown(top)).toEqual([['a.b', 'SECRET']]);
    expect(await seen(top)).not.toHaveProperty('a');

    const nested = await present(token, ['/a/b']);
    const n = await seen(nested);
    expect(n.a).toEqual({ b: 'nested' }); // the parent a is needed to reach b (RFC 9901 §7.1)
    expect(n).not.toHaveProperty(['a.b']);
  });

  it('an array x and a claim "x.0": "x" reveals only the array, "x.0" is ambiguous, pointers name each', async () => {
    const token = await peerIssue({ x: ['y', 'z'], 'x.0': 'SECRET2' }, { _sd: ['x', 'x.0'], x: { _sd: [0, 1] } });
    const whole = await seen(await present(token, ['x']));
    expect(whole.x).toEqual(['y', 'z']);
    expect(whole).not.toHaveProperty(['x.0']);
    await expect(present(token, ['x.0'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const first = await seen(await present(token, ['/x/0']));
    expect(first.x).toEqual(['y']);
    expect(first).not.toHaveProperty(['x.0']);
    const dotted = await present(token, ['/x.0']);
    expect(shown(dotted)).toEqual([['x.0', 'SECRET2']]);
    expect(await seen(dotted)).not.toHaveProperty('x');
  });

  it('nested: "address.street" does not reveal a sibling named "street.no"; deeper ambiguity is refused too', async () => {
    const token = await peerIssue({ address: { street: 'Main St', 'street.no': '17', country: 'US' } }, { _sd: ['address'], address: { _sd: ['street', 'street.no'] } });
    const street = await seen(await present(token, ['address.street']));
    expect(street.address).toEqual({ street: 'Main St', country: 'US' });
    const no = await seen(await present(token, ['address.street.no'])); // one reading only: street is a string
    expect(no.address).toEqual({ 'street.no': '17', country: 'US' });

    const deep = await peerIssue({ a: { b: { c: 'nested-c' }, 'b.c': 'SECRET' } }, { _sd: ['a'], a: { _sd: ['b', 'b.c'], b: { _sd: ['c'] } } });
    await expect(present(deep, ['a.b.c'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((await seen(await present(deep, ['a.b']))).a).toEqual({ b: { c: 'nested-c' } });
    expect((await seen(await present(deep, ['/a/b/c']))).a).toEqual({ b: { c: 'nested-c' } });
    expect((await seen(await present(deep, ['/a/b.c']))).a).toEqual({ 'b.c': 'SECRET' });
  });

  it('JSON Pointer spelling: ~1 is "/", ~0 is "~"; a bad escape, a missing claim or a non-canonical index is refused', async () => {
    const token = await peerIssue({ 'a/b': 1, 'c~d': 2, '/lead': 3, list: ['p', 'q'] }, { _sd: ['a/b', 'c~d', '/lead'], list: { _sd: [0, 1] } });
    expect(shown(await present(token, ['/a~1b']))).toEqual([['a/b', 1]]);
    expect(shown(await present(token, ['/c~0d']))).toEqual([['c~d', 2]]);
    expect(shown(await present(token, ['/~1lead']))).toEqual([['/lead', 3]]);
    expect(shown(await present(token, ['a/b']))).toEqual([['a/b', 1]]); // dotted form: no dot, one name
    for (const bad of [['/a~2b'], ['/c~'], ['/nope'], ['/list/01'], ['/list/2'], ['/lead'], ['a..b'], ['.a'], [''], ['/__proto__']]) {
      await expect(present(token, bad)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
  });

  it('an honest nested disclosure still works, dotted or as a pointer', async () => {
    const claims = { address: { street: 'Main St 1', city: 'Springfield', country: 'US' }, nationalities: ['US', 'DE'] };
    const vc = await issueSdJwtVc({
      issuer,
      subject: holder.did,
      vct: VCT,
      claims,
      disclosable: ['address', 'address.street', 'address.city', 'nationalities.0', 'nationalities.1'],
      holderKey: holder.publicJwk,
    });
    expect(vc.disclosable).toEqual(['address', 'address.street', 'address.city', 'nationalities.0', 'nationalities.1']);
    for (const d of [
      ['address.street', 'nationalities.1'],
      ['/address/street', '/nationalities/1'],
    ]) {
      const v = await verifySdJwtVc(await present(vc.token, d), { resolver, aud: AUD, nonce: NONCE });
      expect(v.ok).toBe(true);
      expect(v.claims).toMatchObject({ address: { street: 'Main St 1', country: 'US' }, nationalities: ['DE'] });
      expect(v.claims!.address).not.toHaveProperty('city');
      expect(v.disclosed).toEqual(['address', 'address.street', 'nationalities.1']);
    }
  });
});

describe('issuing claims whose names contain dots', () => {
  const issue = (claims: Record<string, unknown>, disclosable: string[]) =>
    issueSdJwtVc({ issuer, subject: holder.did, vct: VCT, claims, disclosable, holderKey: holder.publicJwk });
  const disclosed = shown; // every disclosure of an issued token

  it('{a: {b}, "a.b"}: the dotted "a.b" is refused as ambiguous; each pointer makes exactly its claim disclosable', async () => {
    await expect(issue({ a: { b: 1 }, 'a.b': 2 }, ['a.b'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('ambiguous') });

    const top = await issue({ a: { b: 1 }, 'a.b': 2 }, ['/a.b']);
    expect(top.disclosable).toEqual(['/a.b']);
    expect(disclosed(top.token)).toEqual([['a.b', 2]]);
    const p = issuerPayload(top.token);
    expect(p.a).toEqual({ b: 1 });
    expect(p).not.toHaveProperty(['a.b']);

    const nested = await issue({ a: { b: 1 }, 'a.b': 2 }, ['/a/b']);
    expect(nested.disclosable).toEqual(['/a/b']);
    expect(disclosed(nested.token)).toEqual([['b', 1]]);
    expect(issuerPayload(nested.token)['a.b']).toBe(2);

    const all = await issue({ a: { b: 1 }, 'a.b': 2 }, ['/a.b', '/a/b', 'a']);
    expect(all.disclosable).toEqual(['a', '/a/b', '/a.b']); // in claim order, each as the holder names it
    for (const name of all.disclosable) expect(shown(await present(all.token, [name]))).toHaveLength(name === '/a.b' ? 1 : 2);
    expect(shown(await present(all.token, ['/a.b']))).toEqual([['a.b', 2]]);
  });

  it('mDL namespaces: both made disclosable by their dotted names, each presented alone', async () => {
    const vc = await issue({ 'org.iso.18013.5.1': { age_over_18: true }, 'org.iso.18013.5.1.aamva': { organ_donor: 1 } }, ['org.iso.18013.5.1', 'org.iso.18013.5.1.aamva']);
    expect(vc.disclosable).toEqual(['org.iso.18013.5.1', 'org.iso.18013.5.1.aamva']);
    const p = issuerPayload(vc.token);
    expect(p).not.toHaveProperty(['org.iso.18013.5.1']);
    expect(p).not.toHaveProperty(['org.iso.18013.5.1.aamva']);
    const claims = await seen(await present(vc.token, ['org.iso.18013.5.1']));
    expect(claims['org.iso.18013.5.1']).toEqual({ age_over_18: true });
    expect(claims).not.toHaveProperty(['org.iso.18013.5.1.aamva']);
  });

  it('arrays: "x.0" beside an array x is refused; /x/0 makes the element disclosable and leaves "x.0" in clear', async () => {
    await expect(issue({ x: ['y'], 'x.0': 'S' }, ['x.0'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const vc = await issue({ x: ['y'], 'x.0': 'S' }, ['/x/0']);
    expect(vc.disclosable).toEqual(['/x/0']);
    expect(disclosed(vc.token)).toEqual([['y']]);
    expect(issuerPayload(vc.token)['x.0']).toBe('S');
  });

  it('a name unambiguous among the claims but not beside the claims Charter sets is handed back as a pointer', async () => {
    const vc = await issue({ 'cnf.jwk': 'mine' }, ['cnf.jwk']);
    expect(vc.disclosable).toEqual(['/cnf.jwk']);
    await expect(present(vc.token, ['cnf.jwk'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(shown(await present(vc.token, vc.disclosable))).toEqual([['cnf.jwk', 'mine']]);
  });

  it('paths that name no claim are refused, in both spellings', async () => {
    for (const bad of [['/nope'], ['nope'], ['/a/c'], ['a.c'], ['/a~2']]) {
      await expect(issue({ a: { b: 1 } }, bad)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
  });
});

describe('presenting never reveals a claim the holder did not name (fast-check)', () => {
  // few names, so a dotted name and a nested path of the same spelling often meet
  const NAMES = ['a', 'b', 'a.b', 'b.a', '0', 'a.0', 'a.b.a', 'a/b', 'c~d'];
  type Json = unknown;
  const { tree } = fc.letrec<{ tree: Json; node: Json }>((t) => ({
    tree: fc.oneof(
      fc.dictionary(fc.constantFrom(...NAMES), t('node'), { minKeys: 2, maxKeys: 5 }),
      // a name with dots beside the nested path of the same spelling, in objects and in arrays
      fc
        .tuple(t('node'), t('node'), t('node'), fc.array(t('node'), { minLength: 1, maxLength: 2 }), fc.dictionary(fc.constantFrom(...NAMES), t('node'), { maxKeys: 3 }))
        .map(([x, y, z, arr, rest]) => ({ ...rest, a: { b: x, ...(isObj(rest.a) ? rest.a : {}) }, 'a.b': y, x: arr, 'x.0': z })),
    ),
    node: fc.oneof(
      { depthSize: 'small', maxDepth: 3 },
      fc.oneof(fc.string({ maxLength: 3 }), fc.integer()),
      fc.dictionary(fc.constantFrom(...NAMES), t('node'), { maxKeys: 3 }),
      fc.array(t('node'), { maxLength: 3 }),
    ),
  }));

  interface N {
    segs: string[];
    member: boolean;
  }
  const pointer = (segs: readonly string[]) => segs.map((s) => '/' + s.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
  function nodes(v: unknown, segs: string[] = [], out: N[] = []): N[] {
    const entries: [string, unknown][] = Array.isArray(v) ? v.map((e, i) => [String(i), e]) : isObj(v) ? Object.entries(v) : [];
    for (const [k, e] of entries) {
      out.push({ segs: [...segs, k], member: !Array.isArray(v) });
      nodes(e, [...segs, k], out);
    }
    return out;
  }

  it('for random claims (names with dots, arrays) every member disclosable, any chosen paths reveal exactly those, what is under them and their ancestors', async () => {
    await fc.assert(
      fc.asyncProperty(tree, fc.array(fc.tuple(fc.nat(), fc.boolean()), { maxLength: 4 }), async (claims, picks) => {
        const c = claims as Record<string, unknown>;
        const all = nodes(c);
        // every object member a disclosure of its own (array elements stay in their array, so indices are kept)
        const vc = await issueSdJwtVc({
          issuer,
          subject: holder.did,
          vct: VCT,
          claims: c,
          disclosable: all.filter((n) => n.member).map((n) => pointer(n.segs)),
          holderKey: holder.publicJwk,
        });
        const chosen = picks.map(([i, asPointer]) => ({ node: all[i % all.length]!, asPointer }));
        const paths = chosen.map(({ node, asPointer }) => {
          const dotted = node.segs.join('.');
          return asPointer || dotted.startsWith('/') ? pointer(node.segs) : dotted;
        });
        const ambiguous = paths.some((p) => !p.startsWith('/') && all.filter((n) => n.segs.join('.') === p).length > 1);
        if (ambiguous) {
          await expect(present(vc.token, paths)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
          return;
        }
        const v = await verifySdJwtVc(await present(vc.token, paths), { resolver, aud: AUD, nonce: NONCE });
        expect(v.reasons).toEqual([]);
        const allowed = new Set<string>();
        for (const { node } of chosen) {
          for (const n of all) if (n.segs.length >= node.segs.length && node.segs.every((s, i) => n.segs[i] === s)) allowed.add(pointer(n.segs));
          for (let i = 1; i < node.segs.length; i++) allowed.add(pointer(node.segs.slice(0, i)));
        }
        const visibleClaims = Object.fromEntries(Object.entries(v.claims!).filter(([k]) => Object.hasOwn(c, k)));
        const visible = nodes(visibleClaims);
        for (const n of visible) if (n.member) expect(allowed, `revealed ${pointer(n.segs)} for ${JSON.stringify(paths)}`).toContain(pointer(n.segs));
        const seenPointers = new Set(visible.map((n) => pointer(n.segs)));
        for (const p of allowed) expect(seenPointers, `withheld ${p} for ${JSON.stringify(paths)}`).toContain(p);
      }),
      { numRuns: 100 },
    );
  });
});
