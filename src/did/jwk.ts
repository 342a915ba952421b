import { CharterError, shown } from '../errors.js';
import { jsonTextProblem } from '../encoding/json.js';
import { validatePublicJwk } from '../keys/index.js';
import { publicPartOf } from '../keys/jwk.js';
import type { PublicJwk } from '../keys/types.js';
import type { DIDDocument } from './types.js';

const DID_JWK = /^did:jwk:([A-Za-z0-9_-]{20,2000})$/;
/** RFC 7518 §6.2.2, §6.3.2, §6.4, RFC 8037 §2: members of the "Private" information class. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** did:jwk spec §2.1: base64url of the UTF-8 JSON of the public JWK (never its private members). */
export function didJwkFromJwk(publicJwk: PublicJwk): string {
  const j = publicPartOf(publicJwk);
  return `did:jwk:${Buffer.from(JSON.stringify(j)).toString('base64url')}`;
}

/**
 * did:jwk spec §2.3 "Read": one JsonWebKey2020 method `#0`. The DID's syntax
 * (base64url in its canonical spelling, a JSON object, no private members)
 * fails with INVALID_DID; the key itself fails as a key would anywhere else
 * (INVALID_KEY, UNSUPPORTED_KEY_TYPE).
 */
export function resolveDidJwk(did: string): DIDDocument {
  const m = typeof did === 'string' ? DID_JWK.exec(did) : null;
  if (!m) throw new CharterError('INVALID_DID', `malformed did:jwk: ${shown(did, 80)}`);
  const bytes = Buffer.from(m[1]!, 'base64url');
  // Stray low bits in the last character would let two DIDs carry one JWK.
  if (bytes.toString('base64url') !== m[1]) throw new CharterError('INVALID_DID', 'did:jwk is not in its canonical base64url encoding');
  let raw: unknown;
  let text: string;
  try {
    // RFC 8259 §8.1: UTF-8; a byte sequence that is not is refused, not replaced (two DIDs, one key).
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    raw = JSON.parse(text);
  } catch {
    throw new CharterError('INVALID_DID', 'did:jwk does not encode JSON');
  }
  // RFC 7517 §4: member names in a JWK MUST be unique. JSON.parse keeps the last "x" of two, other readers the
  // first: one DID, two keys. A JWK is flat, so anything nested past the depth limit is no JWK either.
  const problem = jsonTextProblem(text);
  if (problem !== undefined) throw new CharterError('INVALID_DID', `the JWK in a did:jwk ${problem}`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new CharterError('INVALID_DID', 'did:jwk does not encode a JSON object');
  // did:jwk §2.1: the JWK MUST NOT contain private key material.
  if (PRIVATE_MEMBERS.some((k) => Object.prototype.hasOwnProperty.call(raw, k))) throw new CharterError('INVALID_DID', 'did:jwk must not contain a private key');
  validatePublicJwk(raw);
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
  return doc;
}
