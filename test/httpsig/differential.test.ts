import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { httpbis, createVerifier as dhVerifier } from 'http-message-signatures';
import { parseDictionary } from 'structured-headers';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import type { KeyType } from '../../src/keys/types.js';
import { jwkThumbprint, verifyRequestSignature } from '../../src/httpsig/index.js';
import { parseSignatureInput, signatureBase } from '../../src/httpsig/base.js';
import { requestContext } from '../../src/httpsig/sign.js';

/*
 * Differential: Charter's RFC 9421 verifier against http-message-signatures
 * (dhensby) on the same request bytes. Each request carries a Signature-Input
 * built from pieces an attacker controls (component order, duplicates, case of
 * derived components and field names, created / expires as strings, decimals,
 * negatives or with leading zeros, keyid as token, bytes or another spelling,
 * repeated and unknown parameters, extra whitespace), signed over the base
 * Charter builds for it, so only the rules differ. The property: Charter never
 * accepts what the peer refuses.
 */

const URL_ = 'https://shop.example/checkout?cart=42&step=pay';
/** The peer checks expires against the wall clock, so the signature times are real ones. */
const NOW = Math.floor(Date.now() / 1000) - 5;
const dhAlg = (t: KeyType) => (t === 'Ed25519' ? 'ed25519' : 'ecdsa-p256-sha256');

/** Components an honest signer would not write, added to an otherwise valid list. */
const component = fc.constantFrom(
  '"@authority"',
  '"@method"',
  '"@Method"',
  '"@AUTHORITY"',
  '"Content-Type"',
  '"@method";req',
  '"content-type";tr',
  '"content-type";sf',
  '@method',
  '"@signature-params"',
);

type ParamName = 'created' | 'expires' | 'keyid' | 'alg' | 'nonce' | 'tag';

/**
 * The parameters of a signature: every one, valid, in any order, then at
 * most one fault (a hostile spelling of one value, one left out, one
 * repeated, an unknown one), so that every fault is tried several times and
 * half the inputs have none and verify in Charter, where the comparison bites.
 */
function params(keyId: string, alg: string) {
  const good: Record<ParamName, string> = { created: `${NOW}`, expires: `${NOW + 60}`, keyid: `"${keyId}"`, alg: `"${alg}"`, nonce: '"n-1"', tag: '"web-bot-auth"' };
  const int = (v: number) => [`"${v}"`, `${v}.0`, `-${v}`, `0${v}`, `${v}.5`, '?1', ':AAAA:'];
  const bad: Record<ParamName, string[]> = {
    created: int(NOW),
    expires: int(NOW + 60),
    keyid: [keyId.replace(/^[^a-zA-Z*]/, 'a'), `:${Buffer.from(keyId).toString('base64')}:`, `"${keyId.toUpperCase()}"`, `"${keyId} "`],
    alg: [`"${alg.toUpperCase()}"`, '"hmac-sha256"', '"rsa-pss-sha512"', alg],
    nonce: ['n-1', '""', '1'],
    tag: ['web-bot-auth', '"Web-Bot-Auth"'],
  };
  const faults: Array<(v: Partial<Record<ParamName, string>>) => string | undefined> = [() => undefined];
  for (const k of Object.keys(bad) as ParamName[]) for (const b of bad[k]) faults.push((v) => ((v[k] = b), undefined));
  for (const k of Object.keys(good) as ParamName[]) faults.push((v) => `;${k}=${v[k]}`);
  for (const k of Object.keys(good) as ParamName[]) faults.push((v) => (delete v[k], undefined));
  faults.push(
    () => ';context=1',
    () => ';created',
    () => ';keyid',
  );
  return fc.tuple(fc.shuffledSubarray(Object.keys(good) as ParamName[], { minLength: 3 }), fc.oneof(fc.constant(0), fc.nat({ max: faults.length - 1 }))).map(([keys, f]) => {
    const v = { ...good };
    const extra = faults[f]!(v) ?? '';
    return keys.map((k) => `;${k}=${v[k]}`).join('') + extra;
  });
}

/** Usually nothing, sometimes `arb`. */
const sometimes = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

describe.each<KeyType>(['Ed25519', 'P-256'])('%s: Charter never accepts a request signature http-message-signatures refuses', (type) => {
  const kp = generateKeyPair(type);
  const signer = createSigner(kp.privateJwk);
  const keyId = jwkThumbprint(kp.publicJwk);
  const alg = dhAlg(type);
  const verifyKey = dhVerifier(createPublicKey({ key: { ...kp.publicJwk }, format: 'jwk' }), alg);
  const headers = { 'content-type': 'application/json', 'x-a': 'one' };

  /** Signs whatever `input` says, over the base Charter builds for it (random bytes when it cannot build one). */
  async function signed(input: string): Promise<{ method: string; url: string; headers: Record<string, string> }> {
    let sig: Uint8Array = new Uint8Array(64).fill(7);
    try {
      const member = parseDictionary(input).get('sig1')!;
      const base = signatureBase(parseSignatureInput(member), requestContext({ method: 'POST', url: URL_, headers }));
      sig = await signer.sign(Buffer.from(base, 'ascii'));
    } catch {
      // Charter cannot build a base: it will refuse; the peer gets a signature nothing verifies.
    }
    return { method: 'POST', url: URL_, headers: { ...headers, 'signature-input': input, signature: `sig1=:${Buffer.from(sig).toString('base64')}:` } };
  }

  const charterOk = async (req: { method: string; url: string; headers: Record<string, string> }) =>
    (await verifyRequestSignature(req, { keys: { keys: [kp.publicJwk] }, maxAgeSeconds: 300 })).ok;
  async function peerOk(req: { method: string; url: string; headers: Record<string, string> }): Promise<boolean> {
    try {
      return (
        (await httpbis.verifyMessage({ keyLookup: async (p) => (p.keyid === keyId ? { id: keyId, algs: [alg], verify: verifyKey } : null), maxAge: 300, tolerance: 60 }, req)) ===
        true
      );
    } catch {
      return false;
    }
  }

  it('a plain, valid signature passes both (conformance)', async () => {
    const req = await signed(`sig1=("@method" "@authority" "@path" "@query");created=${NOW};keyid="${keyId}";alg="${alg}";expires=${NOW + 60}`);
    expect(await charterOk(req)).toBe(true);
    expect(await peerOk(req)).toBe(true);
  });

  it('Signature-Input built from hostile pieces, signed over Charter base (property)', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(
        // Web Bot Auth requires @authority (or @target-uri): always there, at any place among the others.
        fc
          .tuple(
            fc.shuffledSubarray([
              '"@method"',
              '"@path"',
              '"@query"',
              '"@query-param";name="cart"',
              '"content-type"',
              '"x-a";bs',
              '"@target-uri"',
              '"@scheme"',
              '"@request-target"',
            ]),
            fc.nat(),
          )
          .map(([others, at]) => [...others.slice(0, at % (others.length + 1)), '"@authority"', ...others.slice(at % (others.length + 1))]),
        sometimes(fc.array(component, { minLength: 1, maxLength: 2 })),
        params(keyId, alg),
        fc.constantFrom(' ', ' ', '  '),
        fc.constantFrom('(', '( '),
        async (valid, hostile, p, sep, open) => {
          const input = `sig1=${open}${[...valid, ...(hostile ?? [])].join(sep)})${p}`;
          const req = await signed(input);
          if (!(await charterOk(req))) return;
          accepted++;
          expect({ input, peer: await peerOk(req) }).toEqual({ input, peer: true });
        },
      ),
      { seed: 9421, numRuns: 400 },
    );
    // Not vacuous: a good share of the inputs verify in Charter, so the comparison ran on them.
    expect(accepted).toBeGreaterThan(40);
  });

  it('the refusals behind the property are Charter rules, not an unsigned base: a few pinned', async () => {
    const good = `;created=${NOW};keyid="${keyId}";alg="${alg}";expires=${NOW + 60}`;
    for (const input of [
      // RFC 9421 §2.2: derived component names are lower case; §2.1: so are field names.
      `sig1=("@Method" "@authority")${good}`,
      `sig1=("@authority" "Content-Type")${good}`,
      // §2.3: created and expires are Integers (RFC 9651 §3.3.1), never a Decimal or a String.
      `sig1=("@authority");created=${NOW}.0;keyid="${keyId}";alg="${alg}"`,
      `sig1=("@authority");created="${NOW}";keyid="${keyId}";alg="${alg}"`,
      // One value per parameter: RFC 9651 lets the last win, which a reader of the first would not see.
      `sig1=("@authority");created=0;created=${NOW};keyid="${keyId}";alg="${alg}"`,
      // §2.5 step 2.0: each component once.
      `sig1=("@authority" "@authority")${good}`,
      // keyid is an sf-string (§2.3).
      `sig1=("@authority");created=${NOW};keyid=:${Buffer.from(keyId).toString('base64')}:;alg="${alg}"`,
    ]) {
      expect({ input, ok: await charterOk(await signed(input)) }).toEqual({ input, ok: false });
    }
  });
});
