import type { KeyObject } from 'node:crypto';

export type KeyType = 'Ed25519' | 'P-256' | 'secp256k1';
export type JwsAlg = 'EdDSA' | 'ES256' | 'ES256K';

/** RFC 7517 public JWK for the three supported key types (OKP/Ed25519 or EC). */
export interface PublicJwk {
  kty: 'OKP' | 'EC';
  crv: 'Ed25519' | 'P-256' | 'secp256k1';
  x: string;
  y?: string;
}

export interface PrivateJwk extends PublicJwk {
  d: string;
}

export interface KeyPair {
  type: KeyType;
  publicJwk: PublicJwk;
  privateJwk: PrivateJwk;
}

/** Signs a JWS signing input, locally (LocalSigner) or through a key manager. */
export interface Signer {
  readonly alg: JwsAlg;
  readonly keyType: KeyType;
  /**
   * Signs the JWS signing input. Local keys answer synchronously; a remote
   * key manager (Veramo's, a KMS, an HSM) may answer with a promise.
   */
  sign(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/** A signer holding its private key in this process: it answers at once. */
export interface LocalSigner extends Signer {
  sign(data: Uint8Array): Uint8Array;
  /**
   * The same signature computed in the libuv thread pool (Node's crypto.sign
   * with a callback), for a server signing on its hot path (decision
   * receipts): the event loop keeps the time for requests. Absent where Node
   * has no native key (secp256k1).
   */
  signOffThread?(data: Uint8Array): Promise<Uint8Array>;
}

/** A public key ready for the hot verification path (parsed once, cached). */
export interface VerificationKey {
  readonly alg: JwsAlg;
  readonly keyType: KeyType;
  readonly publicJwk: PublicJwk;
  readonly keyObject: KeyObject;
}
