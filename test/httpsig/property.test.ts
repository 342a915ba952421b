import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { signRequest, verifyRequestSignature } from '../../src/httpsig/index.js';

const ed = generateKeyPair('Ed25519');
const p256 = generateKeyPair('P-256');
const agents = [ed, p256].map((kp) => ({ jwk: kp.publicJwk, signer: createSigner(kp.privateJwk) }));
const keys = { keys: agents.map((a) => a.jwk) };
const NOW = new Date('2026-03-01T12:00:00Z');

type Req = { method: string; url: string; headers: Record<string, string> };

const segment = fc.stringMatching(/^[a-z0-9]{1,8}$/);
const requestArb = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
  host: fc.constantFrom('shop.example', 'api.shop.example', 'shop.example:8443'),
  path: fc.array(segment, { minLength: 1, maxLength: 3 }),
  query: fc.array(fc.tuple(segment, segment), { minLength: 1, maxLength: 3 }),
  header: segment,
  agent: fc.constantFrom(0, 1),
});

/** Every covered component, and the signature, changed one at a time. */
const mutations: Array<[string, (r: Req) => Req]> = [
  ['method', (r) => ({ ...r, method: r.method === 'GET' ? 'HEAD' : 'GET' })],
  ['authority', (r) => ({ ...r, url: r.url.replace('://', '://x') })],
  ['path', (r) => ({ ...r, url: r.url.replace(/(\/[a-z0-9]+)\?/, '$1x?') })],
  ['query', (r) => ({ ...r, url: `${r.url}&extra=1` })],
  ['covered field', (r) => ({ ...r, headers: { ...r.headers, 'x-order': `${r.headers['x-order']}!` } })],
  ['covered field removed', (r) => ({ ...r, headers: Object.fromEntries(Object.entries(r.headers).filter(([k]) => k !== 'x-order')) })],
  ['Signature-Agent member', (r) => ({ ...r, headers: { ...r.headers, 'signature-agent': 'sig1="https://other.example"' } })],
  [
    'a signature parameter',
    (r) => ({ ...r, headers: { ...r.headers, 'signature-input': r.headers['signature-input']!.replace(/created=(\d+)/, (_m, n: string) => `created=${Number(n) - 1}`) } }),
  ],
  ['the covered list', (r) => ({ ...r, headers: { ...r.headers, 'signature-input': r.headers['signature-input']!.replace('"@method" ', '') } })],
  [
    'the keyid',
    (r) => ({ ...r, headers: { ...r.headers, 'signature-input': r.headers['signature-input']!.replace(/keyid="(.)/, (_m, c: string) => `keyid="${c === 'A' ? 'B' : 'A'}`) } }),
  ],
];

describe('property', () => {
  it('any single mutation of a covered component, of the parameters or of the signature bytes is refused', async () => {
    await fc.assert(
      fc.asyncProperty(requestArb, fc.nat(mutations.length), fc.nat(), async (g, which, bit) => {
        const a = agents[g.agent]!;
        const url = `https://${g.host}/${g.path.join('/')}?${g.query.map(([k, v]) => `${k}=${v}`).join('&')}`;
        const r = (await signRequest(
          { method: g.method, url, headers: { 'x-order': g.header } as Record<string, string> },
          { signer: a.signer, publicJwk: a.jwk, signatureAgent: 'https://agent.example', now: NOW, components: ['@method', '@authority', '@path', '@query', 'x-order'] },
        )) as Req;
        expect((await verifyRequestSignature(r, { keys, now: NOW })).ok).toBe(true);

        let mutated: Req;
        if (which === mutations.length) {
          // Flip one bit of the signature bytes.
          const m = /^sig1=:([^:]*):$/.exec(r.headers.signature!)!;
          const bytes = Buffer.from(m[1]!, 'base64');
          bytes[bit % bytes.length]! ^= 1 << (bit % 8);
          mutated = { ...r, headers: { ...r.headers, signature: `sig1=:${bytes.toString('base64')}:` } };
        } else mutated = mutations[which]![1](r);
        const d = await verifyRequestSignature(mutated, { keys, now: NOW });
        expect(d.ok).toBe(false);
        expect(d.reasons.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });
});
