import { CharterError } from '../errors.js';
import { multibaseToPublicJwk, publicJwkToMultibase } from '../keys/index.js';
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
 */
export function resolveDidKey(did: string): DIDDocument {
  const m = DID_KEY.exec(did);
  if (!m) throw new CharterError('INVALID_DID', `malformed did:key: ${did.slice(0, 80)}`);
  const mb = m[1]!;
  let jwk: PublicJwk;
  try {
    jwk = multibaseToPublicJwk(mb);
  } catch (e) {
    throw new CharterError('INVALID_DID', `did:key does not encode a supported public key`, { cause: e });
  }
  // did:key §3.1.5: the encoded key must round-trip exactly (no alternative encodings).
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
