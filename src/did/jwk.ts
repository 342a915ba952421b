import { CharterError } from '../errors.js';
import { validatePublicJwk } from '../keys/index.js';
import type { PublicJwk } from '../keys/types.js';
import type { DIDDocument } from './types.js';

const DID_JWK = /^did:jwk:([A-Za-z0-9_-]{20,2000})$/;

/** did:jwk spec §2.1: base64url of the UTF-8 JSON of the public JWK. */
export function didJwkFromJwk(publicJwk: PublicJwk): string {
  const j = validatePublicJwk(publicJwk);
  return `did:jwk:${Buffer.from(JSON.stringify(j)).toString('base64url')}`;
}

/** did:jwk spec §2.3 "Read": one JsonWebKey2020 method `#0`. */
export function resolveDidJwk(did: string): DIDDocument {
  const m = DID_JWK.exec(did);
  if (!m) throw new CharterError('INVALID_DID', `malformed did:jwk: ${did.slice(0, 80)}`);
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8'));
  } catch {
    throw new CharterError('INVALID_DID', 'did:jwk does not encode JSON');
  }
  if (typeof raw === 'object' && raw !== null && 'd' in raw) throw new CharterError('INVALID_DID', 'did:jwk must not contain a private key');
  let jwk: PublicJwk;
  try {
    jwk = validatePublicJwk(raw);
  } catch (e) {
    throw new CharterError('INVALID_DID', 'did:jwk does not encode a supported public JWK', { cause: e });
  }
  const use = (raw as { use?: unknown }).use;
  const vmId = `${did}#0`;
  const doc: DIDDocument = {
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/suites/jws-2020/v1'],
    id: did,
    verificationMethod: [{ id: vmId, type: 'JsonWebKey2020', controller: did, publicKeyJwk: raw as Record<string, string> as never }],
  };
  if (use !== 'enc') {
    doc.assertionMethod = [vmId];
    doc.authentication = [vmId];
    doc.capabilityInvocation = [vmId];
    doc.capabilityDelegation = [vmId];
  }
  if (use !== 'sig') doc.keyAgreement = [vmId];
  void jwk;
  return doc;
}
