import { CharterError, shown } from '../errors.js';
import { multibaseToPublicJwk, publicJwkToMultibase } from '../keys/index.js';
import { PUB_CODEC } from '../keys/multibase.js';
import { decodeMulticodec, encodeMulticodec, multibaseDecode, multibaseEncode } from '../encoding/multibase.js';
import type { PublicJwk } from '../keys/types.js';
import type { DIDDocument } from './types.js';

const DID_KEY = /^did:key:(z[1-9A-HJ-NP-Za-km-z]{40,80})$/;
const RELATIONSHIPS = ['authentication', 'assertionMethod', 'capabilityInvocation', 'capabilityDelegation'] as const;

export function didKeyFromJwk(publicJwk: PublicJwk): string {
  return `did:key:${publicJwkToMultibase(publicJwk)}`;
}

/**
 * W3C did:key v0.9 §3.1.2 "Document creation": one Multikey verification method
 * whose fragment is the multibase value, referenced by every signing relationship.
 * The DID's syntax and framing (base58btc, a minimal multicodec varint, the
 * canonical spelling) fail with INVALID_DID; the key it carries fails as a key
 * would anywhere else (did:key's invalidPublicKeyLength and invalidPublicKey
 * errors): INVALID_KEY. A codec other than Ed25519, P-256 and secp256k1 is INVALID_DID.
 */
export function resolveDidKey(did: string): DIDDocument {
  const m = typeof did === 'string' ? DID_KEY.exec(did) : null;
  if (!m) throw new CharterError('INVALID_DID', `malformed did:key: ${shown(did, 80)}`);
  const mb = m[1]!;
  let framed: { code: number; bytes: Uint8Array };
  try {
    framed = decodeMulticodec(multibaseDecode(mb));
  } catch (e) {
    throw new CharterError('INVALID_DID', 'did:key is not a multicodec-prefixed base58btc value', { cause: e });
  }
  // did:key §3.1.5: one key, one DID (no alternative encodings of the same bytes).
  if (multibaseEncode(encodeMulticodec(framed.code, framed.bytes)) !== mb) throw new CharterError('INVALID_DID', 'did:key is not in its canonical encoding');
  if (!(Object.values(PUB_CODEC) as number[]).includes(framed.code))
    throw new CharterError('INVALID_DID', `did:key of an unsupported key type (multicodec 0x${framed.code.toString(16)})`);
  const jwk = multibaseToPublicJwk(mb);
  if (publicJwkToMultibase(jwk) !== mb) throw new CharterError('INVALID_DID', 'did:key is not in its canonical encoding');
  const vmId = `${did}#${mb}`;
  const doc: DIDDocument = {
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
    id: did,
    verificationMethod: [{ id: vmId, type: 'Multikey', controller: did, publicKeyMultibase: mb }],
  };
  for (const r of RELATIONSHIPS) doc[r] = [vmId];
  return doc;
}

/** Extracts the public key a did:key verification method carries. */
export function didKeyKid(did: string): string {
  return `${did}#${did.slice('did:key:'.length)}`;
}
