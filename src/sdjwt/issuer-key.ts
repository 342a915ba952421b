import { toReason, type Reason, shown } from '../errors.js';
import { assertVerifyUse, importVerificationKey, verifySignature } from '../keys/index.js';
import type { PublicJwk, VerificationKey } from '../keys/types.js';
import { checkJwtSignature, type DecodedJwt } from '../credentials/index.js';
import type { VerifySdJwtVcOptions } from './types.js';

export interface IssuerCheck {
  reasons: Reason[];
  /** The trusted keys of a JWK issuer, for the status check (its list must be signed by one of them). */
  issuerKeys?: PublicJwk[];
}

/**
 * draft-ietf-oauth-sd-jwt-vc "Issuer Signature Mechanisms": the issuer-signed JWT must be verified with
 * a key that belongs to `iss` by a mechanism the verifier's policy permits.
 * Charter permits two: a DID `iss`, whose `kid` must be one of its
 * assertionMethod keys (CharterResolver.resolveKey), and an issuer the caller
 * names in `trustedIssuers` with its keys. Everything else is UNTRUSTED_ISSUER.
 * Either way the alg must be the one the key type signs with.
 */
export async function checkIssuerSignature(d: DecodedJwt, iss: string, options: VerifySdJwtVcOptions): Promise<IssuerCheck> {
  if (iss.startsWith('did:')) return { reasons: await checkJwtSignature(d, iss, options.resolver, 'assertionMethod') };
  const trusted = options.trustedIssuers?.find((t) => t.iss === iss);
  if (!trusted) return { reasons: [{ code: 'UNTRUSTED_ISSUER', message: `the issuer ${iss.slice(0, 80)} is neither a DID nor among the trusted issuers` }] };
  let keys: { key: VerificationKey; kid?: string }[];
  // RFC 7517 §4.2, §4.3: a key the issuer's set marks for encryption (`use: "enc"`, key_ops without
  // "verify": an issuer's metadata JWKS may well hold one) verifies no signature, as a DID method's key
  // for keyAgreement verifies none (did/select.ts). It is no candidate, nor one of the issuer's keys
  // a status list may be signed with (issuerKeys); a kid naming only such a key is INVALID_KEY.
  const notForSigning: { kid?: string; reason: Reason }[] = [];
  try {
    keys = [];
    for (const k of trusted.keys) {
      const kid = typeof k?.kid === 'string' ? { kid: k.kid } : {};
      try {
        assertVerifyUse(k, `the trusted key${kid.kid !== undefined ? ` ${shown(kid.kid, 60)}` : ''} of ${iss.slice(0, 80)}`);
      } catch (e) {
        notForSigning.push({ ...kid, reason: toReason(e, 'INVALID_KEY') });
        continue;
      }
      keys.push({ key: importVerificationKey(k), ...kid });
    }
  } catch (e) {
    return { reasons: [toReason(e, 'INVALID_KEY')] };
  }
  const issuerKeys = keys.map((k) => k.key.publicJwk);
  const kid = d.header.kid;
  const named = kid === undefined ? keys : keys.filter((k) => k.kid === kid);
  if (named.length === 0) {
    const refused = notForSigning.find((k) => kid === undefined || k.kid === kid);
    if (refused !== undefined) return { reasons: [refused.reason], issuerKeys };
    return { reasons: [{ code: 'VERIFICATION_METHOD_NOT_FOUND', message: `no trusted key of ${iss.slice(0, 80)} has kid ${shown(kid, 60)}` }], issuerKeys };
  }
  const fitting = named.filter((k) => k.key.alg === d.header.alg);
  if (fitting.length === 0) return { reasons: [{ code: 'ALG_KEY_MISMATCH', message: `alg ${d.header.alg} does not fit the trusted keys of ${iss.slice(0, 80)}` }], issuerKeys };
  if (!fitting.some((k) => verifySignature(k.key, d.header.alg, d.signingInput, d.signature))) {
    return { reasons: [{ code: 'INVALID_SIGNATURE', message: `the signature does not verify with the trusted keys of ${iss.slice(0, 80)}` }], issuerKeys };
  }
  return { reasons: [], issuerKeys };
}
