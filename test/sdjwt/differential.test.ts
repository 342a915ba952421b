import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { createResolver } from '../../src/did/index.js';
import { issueSdJwtVc, presentSdJwtVc, verifySdJwtVc } from '../../src/sdjwt/index.js';
import { sdDigest, sdJwtHasher } from '../../src/sdjwt/hash.js';
import { isKbJwtTyp } from '../../src/sdjwt/keybinding.js';
import type { Issuer } from '../../src/credentials/types.js';
import type { KeyType, PublicJwk } from '../../src/keys/types.js';
import { makeIssuer } from '../helpers.js';

/*
 * Differential: Charter's SD-JWT VC verifier against @sd-jwt/sd-jwt-vc's on
 * the same bytes. Each token starts as a valid key-bound presentation from
 * Charter's own issuer and holder and is then mutated: disclosures reordered,
 * duplicated, dropped, unknown or re-spelt; the KB-JWT's sd_hash taken over
 * another serialisation; KB-JWT headers and claims changed (re-signed by the
 * holder, so only the rules differ). The property: Charter never accepts what
 * the peer refuses. (peer-differences.test.ts lists what the peer accepts and
 * Charter refuses; the one place Charter is the more lenient is pinned below.)
 */

const resolver = createResolver();
const AUD = 'https://verifier.example';
const NONCE = 'nonce-4242';
const enc = new TextEncoder();

const nodeVerifier = (type: KeyType, jwk: PublicJwk) => {
  const key = createPublicKey({ key: { ...jwk }, format: 'jwk' });
  return (data: string, sig: string) =>
    type === 'Ed25519'
      ? nodeVerify(null, Buffer.from(data), key, Buffer.from(sig, 'base64url'))
      : nodeVerify('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig, 'base64url'));
};

interface World {
  holder: Issuer;
  alg: string;
  jwt: string;
  disclosures: string[];
  kbPayload: Record<string, unknown>;
  peer: SDJwtVcInstance;
  presentation: string;
}

async function world(type: KeyType): Promise<World> {
  const issuer = makeIssuer(type);
  const holder = makeIssuer(type);
  const issued = await issueSdJwtVc({
    issuer,
    subject: holder.did,
    vct: 'https://credentials.example/member',
    claims: { email: 'a@b.example', name: 'Ada', address: { street: 'Main 1', city: 'X' }, tags: ['a', 'b', 'c'] },
    disclosable: ['email', 'name', 'address.street', 'tags.1'],
  });
  const presentation = await presentSdJwtVc(issued.token, { holder, disclose: ['email', 'name', 'address.street', 'tags.1'], aud: AUD, nonce: NONCE });
  const parts = presentation.split('~');
  const kb = parts.at(-1)!;
  return {
    holder,
    alg: type === 'Ed25519' ? 'EdDSA' : 'ES256',
    jwt: parts[0]!,
    disclosures: parts.slice(1, -1),
    kbPayload: JSON.parse(Buffer.from(kb.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>,
    peer: new SDJwtVcInstance({ hasher: sdJwtHasher, verifier: nodeVerifier(type, issuer.publicJwk), kbVerifier: nodeVerifier(type, holder.publicJwk) }),
    presentation,
  };
}

async function kbJwt(w: World, header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${Buffer.from(await w.holder.signer.sign(enc.encode(input))).toString('base64url')}`;
}

async function charterOk(token: string): Promise<boolean> {
  return (await verifySdJwtVc(token, { resolver, aud: AUD, nonce: NONCE })).ok;
}
async function peerOk(w: World, token: string): Promise<boolean> {
  try {
    await w.peer.verify(token, { keyBindingNonce: NONCE, requireKeyBindings: true } as Parameters<SDJwtVcInstance['verify']>[1]);
    return true;
  } catch {
    return false;
  }
}

/** How the disclosure list is changed. */
const disclosureEdit = fc.oneof(
  fc.constant({ what: 'as issued', f: (d: string[]) => d }),
  fc.constant({ what: 'reversed', f: (d: string[]) => [...d].reverse() }),
  fc.nat().map((i) => ({ what: 'one dropped', f: (d: string[]) => d.filter((_, k) => k !== i % d.length) })),
  fc.constant({ what: 'none', f: () => [] as string[] }),
  fc.nat().map((i) => ({ what: 'one duplicated', f: (d: string[]) => [...d, d[i % d.length]!] })),
  fc.constantFrom(['s', 'admin', true], ['s', 'x'], ['s', '_sd', []], ['s', 'iss', 'did:example:evil']).map((a) => ({
    what: 'unknown added',
    f: (d: string[]) => [...d, Buffer.from(JSON.stringify(a)).toString('base64url')],
  })),
  fc.tuple(fc.nat(), fc.constantFrom('=', 'pad bits', '+/', ' ')).map(([i, how]) => ({
    what: `re-spelt ${how}`,
    f: (d: string[]) =>
      d.map((s, k) => {
        if (k !== i % d.length) return s;
        if (how === '=') return s + '=';
        if (how === '+/') return s.replace(/-/g, '+').replace(/_/g, '/');
        if (how === ' ') return s + ' ';
        const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        return s.length % 4 === 0 ? s : s.slice(0, -1) + A[A.indexOf(s.at(-1)!) ^ 1];
      }),
  })),
);

/** What the KB-JWT's sd_hash is computed over, given the presented `<jwt>~<d>~...~`. */
const sdHashOver = fc.constantFrom(
  { what: 'the presentation', f: (p: string) => sdDigest('sha-256', p) },
  { what: 'the issuer JWT alone', f: (p: string) => sdDigest('sha-256', p.split('~')[0]!) },
  { what: 'without the last ~', f: (p: string) => sdDigest('sha-256', p.slice(0, -1)) },
  {
    what: 'the disclosures reordered',
    f: (p: string) => {
      const [j, ...d] = p.slice(0, -1).split('~');
      return sdDigest('sha-256', [j, ...d.reverse(), ''].join('~'));
    },
  },
  { what: 'base64 with padding', f: (p: string) => Buffer.from(sdJwtHasher(p, 'sha-256')).toString('base64') },
  { what: 'sha-512', f: (p: string) => sdDigest('sha-512', p) },
);

const kbHeader = fc.constantFrom<Record<string, unknown>>(
  {},
  { typ: 'JWT' },
  { typ: undefined },
  { typ: 'kb+jwt+x' },
  { crit: ['exp'] },
  { alg: 'none' },
  { alg: 'ES256K' },
  { kid: 'x' },
);
const kbClaims = fc.constantFrom<Record<string, unknown>>(
  {},
  { nonce: undefined },
  { nonce: 'another' },
  { aud: undefined },
  { aud: 'https://other.example' },
  { aud: [AUD] },
  { iat: undefined },
  { iat: 'now' },
  { iat: 1 },
  { exp: 1 },
  { sd_hash: undefined },
);

describe.each<KeyType>(['Ed25519', 'P-256'])('%s SD-JWT VC: Charter never accepts what @sd-jwt/sd-jwt-vc refuses', (type) => {
  let w: World;
  beforeAll(async () => {
    w = await world(type);
  });

  it('the unmutated presentation passes both (conformance)', async () => {
    expect(await charterOk(w.presentation)).toBe(true);
    expect(await peerOk(w, w.presentation)).toBe(true);
  });

  it('disclosures edited, sd_hash over some serialisation, KB-JWT header and claims changed, re-signed by the holder (property)', async () => {
    await fc.assert(
      fc.asyncProperty(disclosureEdit, sdHashOver, kbHeader, kbClaims, async (edit, over, h, c) => {
        const presented = [w.jwt, ...edit.f(w.disclosures), ''].join('~');
        const header = { typ: 'kb+jwt', alg: w.alg, ...h };
        const token = presented + (await kbJwt(w, header, { ...w.kbPayload, sd_hash: over.f(presented), ...c }));
        if (await charterOk(token)) expect(await peerOk(w, token)).toBe(true);
      }),
      { seed: 9901, numRuns: 200 },
    );
  });

  it('the KB-JWT or the issuer JWT changed by one character, or the whole token by whitespace, is refused by Charter (the peer reads some of them)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.integer({ min: 1, max: 63 }), fc.constantFrom('kb', 'jwt', 'ws'), async (i, d, where) => {
        const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        const flip = (s: string) => {
          const k = i % s.length;
          return s[k] === '.' ? s : s.slice(0, k) + A[(A.indexOf(s[k]!) + d) % 64] + s.slice(k + 1);
        };
        const parts = w.presentation.split('~');
        if (where === 'kb') parts[parts.length - 1] = flip(parts.at(-1)!);
        if (where === 'jwt') parts[0] = flip(parts[0]!);
        const token = where === 'ws' ? `${w.presentation.slice(0, i % w.presentation.length)}\n${w.presentation.slice(i % w.presentation.length)}` : parts.join('~');
        if (token === w.presentation) return;
        // Each part has one spelling in Charter; the peer reads some of these (a newline inside a part) as the original.
        expect(await charterOk(token)).toBe(false);
      }),
      { seed: 9902, numRuns: 60 },
    );
  });

  it('the one place Charter is the more lenient: typ kb+jwt in another case or with application/ (RFC 7515 §4.1.9), which the peer compares exactly', async () => {
    const presented = [w.jwt, ...w.disclosures, ''].join('~');
    for (const typ of ['KB+JWT', 'application/kb+jwt', 'Application/Kb+Jwt']) {
      expect(isKbJwtTyp(typ)).toBe(true);
      const token = presented + (await kbJwt(w, { typ, alg: w.alg }, w.kbPayload));
      expect(await charterOk(token)).toBe(true);
      expect(await peerOk(w, token)).toBe(false);
    }
  });
});
