import { loadSdJwtVc } from './library.js';
import { CharterError } from '../errors.js';
import { canonicalJson } from '../encoding/json.js';
import { validatePublicJwk } from '../keys/index.js';
import { signedDate } from '../encoding/time.js';
import { libSigner, seconds } from './issue.js';
import { isSdHashAlg, sdDigest, sdJwtHasher } from './hash.js';
import { parseDisclosure } from './disclosures.js';
import { chooseDisclosures, disclosedClaimTree } from './paths.js';
import { splitSdJwt } from './verify.js';
import { KB_JWT_TYP, type PresentSdJwtVcInput, type SdHashAlg } from './types.js';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');

/**
 * The holder's side (RFC 9901 §4.3, §5): keeps the disclosures for the
 * requested paths (each with everything under it, and the parents needed to
 * reach it) and, when the credential is key-bound, appends a KB-JWT
 * (`typ: kb+jwt`, `aud`, `nonce`, `iat`, `sd_hash`) signed with the holder's
 * key. The disclosures are chosen by claim segments over the credential's own
 * structure (paths.ts), never by joined names, so a claim named `a.b` and `b`
 * under `a` are told apart; a dotted path that could name either is refused.
 * Charter checks the holder key is the credential's `cnf.jwk` before signing
 * anything.
 */
export async function presentSdJwtVc(token: string, input: PresentSdJwtVcInput): Promise<string> {
  const { holder } = input;
  if (!holder || typeof holder.signer?.sign !== 'function') throw new TypeError('presentSdJwtVc needs a holder with a signer');
  // The KB-JWT's iat: a bad `now` is refused before anything is signed (an Invalid Date would sign `iat: null`).
  const now = signedDate(input.now, 'now') ?? new Date();
  const split = splitSdJwt(token);
  if (split.kbJwt !== undefined) throw new CharterError('INVALID_ARGUMENT', 'this is already a presentation (it ends with a key binding JWT); present the issued SD-JWT');
  const { SDJwtVcInstance } = await loadSdJwtVc();
  const sdjwt = new SDJwtVcInstance({ hasher: sdJwtHasher });
  let payload: Record<string, unknown>;
  let chosen: Set<string>;
  let alg: SdHashAlg;
  try {
    const decoded = await sdjwt.decode(token);
    payload = (decoded.jwt?.payload ?? {}) as Record<string, unknown>;
    const sdAlg = Object.hasOwn(payload, '_sd_alg') ? payload._sd_alg : 'sha-256';
    if (!isSdHashAlg(sdAlg)) throw new CharterError('UNSUPPORTED_ALG', 'the SD-JWT names an _sd_alg Charter does not compute');
    const tree = disclosedClaimTree(
      payload,
      split.disclosures.map((d) => parseDisclosure(d, sdAlg)),
    );
    chosen = chooseDisclosures(tree, input.disclose ?? []);
    alg = sdAlg;
  } catch (e) {
    if (e instanceof CharterError) throw e;
    throw new CharterError('MALFORMED_JWT', 'the SD-JWT cannot be decoded', { cause: e });
  }
  // RFC 9901 §4: <issuer-jwt>~<disclosure>~…~, the disclosures in the order issued, each once.
  const presented = [split.jwt, ...new Set(split.disclosures.filter((d) => chosen.has(d))), ''].join('~');
  const cnf = payload.cnf;
  if (cnf === undefined) return presented;
  if (!isObj(cnf) || !isObj(cnf.jwk)) throw new CharterError('KEY_BINDING_INVALID', 'the credential binds a key Charter cannot use (cnf without jwk)');
  if (canonicalJson(validatePublicJwk(cnf.jwk)) !== canonicalJson(validatePublicJwk(holder.publicJwk))) {
    throw new CharterError('INVALID_ARGUMENT', "this credential is bound to another key than the holder's");
  }
  if (typeof input.aud !== 'string' || input.aud.length === 0) throw new CharterError('INVALID_ARGUMENT', 'a key-bound presentation needs an audience (aud)');
  if (typeof input.nonce !== 'string' || input.nonce.length === 0) throw new CharterError('INVALID_ARGUMENT', "a key-bound presentation needs the verifier's nonce");
  const extra = input.claims ?? {};
  const reserved = ['aud', 'nonce', 'iat', 'sd_hash'].filter((k) => Object.hasOwn(extra, k));
  if (reserved.length > 0) throw new CharterError('INVALID_ARGUMENT', `claims may not set ${reserved.join(', ')}: the key binding JWT's own claims`);
  // RFC 9901 §4.3: the KB-JWT over exactly the bytes presented (sd_hash), as @sd-jwt/core writes one.
  const header = { typ: KB_JWT_TYP, alg: holder.signer.alg };
  const kbPayload = { ...extra, aud: input.aud, nonce: input.nonce, iat: seconds(now), sd_hash: sdDigest(alg, presented) };
  const signingInput = `${b64(header)}.${b64(kbPayload)}`;
  return `${presented}${signingInput}.${await libSigner(holder.signer)(signingInput)}`;
}
