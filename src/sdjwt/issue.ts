import { loadSdJwtVc } from './library.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { CharterError, shown } from '../errors.js';
import { numericDate, signedDate } from '../encoding/time.js';
import { assertVerifyUse, validatePublicJwk } from '../keys/index.js';
import type { PublicJwk, Signer } from '../keys/types.js';
import { createResolver } from '../did/index.js';
import { sdJwtHasher } from './hash.js';
import { disclosureFrame, pathName, plainClaimTree } from './paths.js';
import { SD_JWT_VC_TYP, type IssueSdJwtVcInput, type IssuedSdJwtVc } from './types.js';

const DID = /^did:[a-z0-9]+:[A-Za-z0-9._%:-]+$/;
/** Claims Charter sets itself (RFC 7519 §4.1, SD-JWT VC "Registered JWT Claims", RFC 9901 §4.2.1): never given in `claims`. */
const RESERVED = new Set(['iss', 'sub', 'iat', 'nbf', 'exp', 'jti', 'cnf', 'vct', 'vct#integrity', 'status', '_sd', '_sd_alg', '...']);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Nested names SD-JWT processing reads as structure, and `__proto__`, which @sd-jwt/core's packing would drop. */
function checkNames(v: unknown, path: string): void {
  if (Array.isArray(v)) v.forEach((e, i) => checkNames(e, `${path}.${i}`));
  else if (isObj(v)) {
    for (const [k, e] of Object.entries(v)) {
      if (k === '_sd' || k === '...' || k === '__proto__') throw new CharterError('INVALID_ARGUMENT', `claims must not use the name "${k}" (at ${path.slice(0, 80)})`);
      checkNames(e, `${path}.${k}`);
    }
  }
}

/** @sd-jwt/core signs the JWS signing input as a string and wants base64url back. */
export function libSigner(signer: Signer): (data: string) => Promise<string> {
  return async (data) => Buffer.from(await signer.sign(new TextEncoder().encode(data))).toString('base64url');
}

/** RFC 9901 §4.2.1: a salt of 128 bits from a CSPRNG. */
const saltGenerator = (length: number) => randomBytes(Math.max(16, length)).toString('base64url');

export const seconds = numericDate;

/**
 * Issues an SD-JWT VC (draft-ietf-oauth-sd-jwt-vc, RFC 9901) with
 * @sd-jwt/sd-jwt-vc doing the selective-disclosure packing: header
 * `typ: dc+sd-jwt` and `kid` the issuer's DID URL; payload `iss`, `sub`,
 * `vct`, `jti`, `iat`, `nbf`/`exp` from validFrom/validUntil, `cnf.jwk` the
 * holder's key, an optional `status`, `_sd_alg: sha-256`; the claims in
 * clear except the `disclosable` paths.
 */
export async function issueSdJwtVc(input: IssueSdJwtVcInput): Promise<IssuedSdJwtVc> {
  const { issuer } = input;
  if (!issuer || typeof issuer.signer?.sign !== 'function') throw new TypeError('issueSdJwtVc needs an issuer with a signer');
  if (!DID.test(issuer.did) || !issuer.kid.startsWith(`${issuer.did}#`)) throw new CharterError('INVALID_ARGUMENT', 'the issuer must be a DID whose kid is one of its DID URLs');
  if (typeof input.subject !== 'string' || !DID.test(input.subject)) throw new CharterError('INVALID_ARGUMENT', `subject must be a DID, got "${shown(input.subject, 60)}"`);
  if (typeof input.vct !== 'string' || input.vct.length === 0 || input.vct.length > 512)
    throw new CharterError('INVALID_ARGUMENT', 'vct must be a non-empty string such as https://example.com/vct/EmailCredential');
  if (!isObj(input.claims)) throw new CharterError('INVALID_ARGUMENT', 'claims must be a JSON object');
  const taken = Object.keys(input.claims).filter((k) => RESERVED.has(k));
  if (taken.length > 0) throw new CharterError('INVALID_ARGUMENT', `claims must not set ${taken.join(', ')}: Charter sets them`);
  checkNames(input.claims, 'claims');
  const from = signedDate(input.validFrom, 'validFrom');
  const until = signedDate(input.validUntil, 'validUntil');
  const validFrom = from ?? new Date();
  // Compared as signed (NumericDate seconds): .100 and .900 of one second would sign nbf = exp.
  if (until !== undefined && !(seconds(until) > seconds(validFrom))) throw new CharterError('INVALID_ARGUMENT', 'validUntil must be after validFrom');
  if (input.status !== undefined && (!Number.isSafeInteger(input.status.idx) || input.status.idx < 0 || typeof input.status.uri !== 'string' || !URL.canParse(input.status.uri))) {
    throw new CharterError('INVALID_ARGUMENT', 'status needs a non-negative integer idx and a uri');
  }
  // Resolved by segments over the claims (paths.ts): `a.b` naming both a claim "a.b" and b under a is refused.
  const { frame, chosen } = disclosureFrame(input.claims, input.disclosable ?? []);

  let cnf: { jwk: PublicJwk } | undefined;
  if (input.keyBinding !== false) {
    const jwk = input.holderKey !== undefined ? input.holderKey : (await (input.resolver ?? createResolver()).resolveKey(input.subject, undefined, 'authentication')).publicJwk;
    // RFC 7517 §4.2-4.3: the holder proves possession by signing; a key given for encryption never could
    // (verifySdJwtVc refuses it, keybinding.ts), and validatePublicJwk would drop the mark that says so.
    assertVerifyUse(jwk, 'the holder key');
    cnf = { jwk: validatePublicJwk(jwk) };
  }
  const id = input.id ?? `urn:uuid:${randomUUID()}`;
  const payload = {
    iss: issuer.did,
    sub: input.subject,
    vct: input.vct,
    jti: id,
    iat: seconds(new Date()),
    ...(from !== undefined ? { nbf: seconds(from) } : {}),
    ...(until !== undefined ? { exp: seconds(until) } : {}),
    ...(cnf ? { cnf } : {}),
    ...(input.status !== undefined ? { status: { status_list: { idx: input.status.idx, uri: input.status.uri } } } : {}),
    ...input.claims,
  };
  const { SDJwtVcInstance } = await loadSdJwtVc();
  const sdjwt = new SDJwtVcInstance({ signer: libSigner(issuer.signer), signAlg: issuer.signer.alg, hasher: sdJwtHasher, hashAlg: 'sha-256', saltGenerator });
  let token: string;
  try {
    token = await sdjwt.issue(payload, frame as never, { header: { typ: SD_JWT_VC_TYP, kid: issuer.kid } });
  } catch (e) {
    if (e instanceof CharterError) throw e;
    throw new CharterError('INTERNAL', `SD-JWT issuance failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  // Named as the holder will name them to present: over the whole payload, so a dotted name that would
  // also read as a path into a claim Charter sets (cnf, status…) is given as a JSON Pointer instead.
  const named = plainClaimTree(payload);
  return { id, token, disclosable: chosen.map((segs) => pathName(named, segs)) };
}
