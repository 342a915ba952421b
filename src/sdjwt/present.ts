import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { CharterError } from '../errors.js';
import { canonicalJson } from '../encoding/json.js';
import { validatePublicJwk } from '../keys/index.js';
import { sdJwtHasher } from './hash.js';
import { signedDate } from '../encoding/time.js';
import { libSigner, seconds } from './issue.js';
import { claimPaths, presentationFrame } from './paths.js';
import { splitSdJwt } from './verify.js';
import type { PresentSdJwtVcInput } from './types.js';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The holder's side (RFC 9901 §4.3, §5): keeps the disclosures for the
 * requested paths (each with everything under it) and, when the credential
 * is key-bound, appends a KB-JWT (`typ: kb+jwt`, `aud`, `nonce`, `iat`,
 * `sd_hash`) signed with the holder's key. @sd-jwt/sd-jwt-vc selects the
 * disclosures and builds the KB-JWT; Charter checks the holder key is the
 * credential's `cnf.jwk` before signing anything.
 */
export async function presentSdJwtVc(token: string, input: PresentSdJwtVcInput): Promise<string> {
  const { holder } = input;
  if (!holder || typeof holder.signer?.sign !== 'function') throw new TypeError('presentSdJwtVc needs a holder with a signer');
  // The KB-JWT's iat: a bad `now` is refused before anything is signed (an Invalid Date would sign `iat: null`).
  const now = signedDate(input.now, 'now') ?? new Date();
  const split = splitSdJwt(token);
  if (split.kbJwt !== undefined) throw new CharterError('INVALID_ARGUMENT', 'this is already a presentation (it ends with a key binding JWT); present the issued SD-JWT');
  const sdjwt = new SDJwtVcInstance({ hasher: sdJwtHasher, kbSigner: libSigner(holder.signer), kbSignAlg: holder.signer.alg });
  let payload: Record<string, unknown>;
  let presentable: string[];
  let all: string[];
  try {
    const decoded = await sdjwt.decode(token);
    payload = (decoded.jwt?.payload ?? {}) as Record<string, unknown>;
    presentable = await sdjwt.presentableKeys(token);
    all = claimPaths(await sdjwt.getClaims(token));
  } catch (e) {
    if (e instanceof CharterError) throw e;
    throw new CharterError('MALFORMED_JWT', 'the SD-JWT cannot be decoded', { cause: e });
  }
  const frame = presentationFrame(input.disclose ?? [], presentable, all);
  const cnf = payload.cnf;
  if (cnf === undefined) return sdjwt.present(token, frame as never);
  if (!isObj(cnf) || !isObj(cnf.jwk)) throw new CharterError('KEY_BINDING_INVALID', 'the credential binds a key Charter cannot use (cnf without jwk)');
  if (canonicalJson(validatePublicJwk(cnf.jwk)) !== canonicalJson(validatePublicJwk(holder.publicJwk))) {
    throw new CharterError('INVALID_ARGUMENT', "this credential is bound to another key than the holder's");
  }
  if (typeof input.aud !== 'string' || input.aud.length === 0) throw new CharterError('INVALID_ARGUMENT', 'a key-bound presentation needs an audience (aud)');
  if (typeof input.nonce !== 'string' || input.nonce.length === 0) throw new CharterError('INVALID_ARGUMENT', "a key-bound presentation needs the verifier's nonce");
  const extra = input.claims ?? {};
  const reserved = ['aud', 'nonce', 'iat', 'sd_hash'].filter((k) => Object.hasOwn(extra, k));
  if (reserved.length > 0) throw new CharterError('INVALID_ARGUMENT', `claims may not set ${reserved.join(', ')}: the key binding JWT's own claims`);
  return sdjwt.present(token, frame as never, { kb: { payload: { ...extra, aud: input.aud, nonce: input.nonce, iat: seconds(now) } } });
}
