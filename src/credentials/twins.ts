/**
 * The spellings of one signed token. An ECDSA signature (r, s) verifies as
 * (r, n - s) too: RFC 7518 §3.4 does not pick one, and honest P-256 signers
 * (WebCrypto among them) emit either, so ES256 verification accepts both and
 * anyone holding an ES256 token can make its twin without the key. Whatever
 * counts uses of a token (a ledger link, a checkout paid once, a grant's
 * access reports) must name it by a spelling both share. ES256K needs none
 * (verification refuses high s, BIP 62); EdDSA has one spelling (RFC 8032 §5.1.7).
 */

/** The order n of P-256 (SEC 2 §2.4.2, FIPS 186-4 D.1.2.3). */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF_N = P256_N >> 1n;

/** The alg of a compact JWS's protected header, or undefined when it does not decode. */
function algOf(jws: string): unknown {
  try {
    const h = JSON.parse(Buffer.from(jws.slice(0, jws.indexOf('.')), 'base64url').toString('utf8')) as unknown;
    return typeof h === 'object' && h !== null ? (h as { alg?: unknown }).alg : undefined;
  } catch {
    return undefined;
  }
}

/** The ES256 signature's s and the rest, when `jws` (header.payload.signature) is one; undefined otherwise. */
function es256(jws: string): { input: string; r: Buffer; s: bigint } | undefined {
  const dot = jws.lastIndexOf('.');
  if (dot <= 0 || jws.indexOf('.') === dot || algOf(jws) !== 'ES256') return undefined;
  const sig = Buffer.from(jws.slice(dot + 1), 'base64url');
  if (sig.length !== 64) return undefined;
  const s = BigInt(`0x${sig.subarray(32).toString('hex')}`);
  if (s <= 0n || s >= P256_N) return undefined;
  return { input: jws.slice(0, dot), r: sig.subarray(0, 32), s };
}

const spell = (input: string, r: Buffer, s: bigint) => `${input}.${Buffer.concat([r, Buffer.from(s.toString(16).padStart(64, '0'), 'hex')]).toString('base64url')}`;

/** Every spelling of `jws` that verifies when it does: itself and, for ES256, its twin (r, n - s). */
export function jwsSpellings(jws: string): string[] {
  const e = es256(jws);
  return e ? [jws, spell(e.input, e.r, P256_N - e.s)] : [jws];
}

/**
 * One spelling for all of them: for ES256 the one with the low s (s ≤ n/2),
 * any other token as it is. What a count keyed by a token's bytes must hash.
 */
export function canonicalJws(jws: string): string {
  const e = es256(jws);
  return e && e.s > HALF_N ? spell(e.input, e.r, P256_N - e.s) : jws;
}
