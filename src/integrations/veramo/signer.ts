import { CharterError } from '../../errors.js';
import type { Issuer } from '../../credentials/types.js';
import type { CharterResolver, ResolvedKey, VerificationRelationship } from '../../did/types.js';
import { methodIds } from '../../did/methods.js';
import { algForKeyType, publicJwkFromBytes, publicKeyBytes, verifySignature } from '../../keys/index.js';
import type { KeyType, Signer } from '../../keys/types.js';

/** The parts of a Veramo `IIdentifier` used here. */
export interface ManagedIdentifier {
  did: string;
  controllerKeyId?: string;
  keys: { kid: string; type: string; publicKeyHex: string }[];
}

/** What issuing through Veramo needs: `IDIDManager.didManagerGet` and `IKeyManager.keyManagerSign`. */
export interface KeyManagingAgent {
  didManagerGet(args: { did: string }): Promise<ManagedIdentifier>;
  keyManagerSign(args: { keyRef: string; data: string; algorithm?: string; encoding?: 'utf-8' }): Promise<string>;
}

/** Veramo key types (`TKeyType`) Charter signs with. */
const KEY_TYPES: Record<string, KeyType> = { Ed25519: 'Ed25519', Secp256r1: 'P-256', Secp256k1: 'secp256k1' };
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The first managed key (controller key first) that is a `relationship` method of the DID document. */
async function findKey(resolver: CharterResolver, id: ManagedIdentifier, keyRef: string | undefined, relationship: VerificationRelationship) {
  const doc = await resolver.resolve(id.did);
  const methods: ResolvedKey[] = [];
  for (const m of methodIds(doc[relationship])) {
    try {
      methods.push(await resolver.resolveKey(id.did, m, relationship));
    } catch {
      // A method Charter cannot use (X25519, a blockchain account) is simply not a candidate.
    }
  }
  const keys = [...id.keys].sort((a, b) => Number(b.kid === id.controllerKeyId) - Number(a.kid === id.controllerKeyId));
  for (const key of keys) {
    const type = Object.hasOwn(KEY_TYPES, key.type) ? KEY_TYPES[key.type] : undefined;
    if (!type || (keyRef !== undefined && key.kid !== keyRef)) continue;
    let raw: string;
    try {
      raw = hex(publicKeyBytes(publicJwkFromBytes(type, Buffer.from(key.publicKeyHex.replace(/^0x/, ''), 'hex'))));
    } catch {
      continue;
    }
    const method = methods.find((m) => m.keyType === type && hex(publicKeyBytes(m.publicJwk)) === raw);
    if (method) return { keyRef: key.kid, method };
  }
  throw new CharterError(
    'VERIFICATION_METHOD_NOT_FOUND',
    `no ${keyRef === undefined ? '' : 'such '}key of ${id.did.slice(0, 80)} in the Veramo key manager is an Ed25519, P-256 or secp256k1 ${relationship} method of its DID document`,
  );
}

/**
 * A Charter issuer for a DID the Veramo agent manages: `kid` is the DID
 * document's method for the managed key, and signatures come from
 * `keyManagerSign` (the private key never leaves Veramo's KMS). Each
 * signature is checked against the document's key before it is used.
 */
export async function veramoIssuer(
  agent: KeyManagingAgent,
  resolver: CharterResolver,
  identifier: ManagedIdentifier,
  options: { keyRef?: string; relationship: VerificationRelationship },
): Promise<Issuer> {
  const { keyRef, method } = await findKey(resolver, identifier, options.keyRef, options.relationship);
  const alg = algForKeyType(method.keyType);
  const signer: Signer = Object.freeze({
    alg,
    keyType: method.keyType,
    async sign(data: Uint8Array): Promise<Uint8Array> {
      const s = await agent.keyManagerSign({ keyRef, data: Buffer.from(data).toString('utf8'), algorithm: alg, encoding: 'utf-8' });
      const sig = typeof s === 'string' ? new Uint8Array(Buffer.from(s, 'base64url')) : new Uint8Array(0);
      if (!verifySignature(method, alg, data, sig)) {
        throw new CharterError('INVALID_SIGNATURE', `the Veramo key manager returned a signature that does not verify with ${method.id.slice(0, 100)}`);
      }
      return sig;
    },
  });
  return { did: identifier.did, kid: method.id, keyType: method.keyType, publicJwk: method.publicJwk, signer };
}
