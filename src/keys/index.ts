export type { JwsAlg, KeyPair, KeyType, PrivateJwk, PublicJwk, Signer, LocalSigner, VerificationKey } from './types.js';
export { algForKeyType, assertSignUse, assertVerifyUse, keyTypeForAlg, keyTypeOfJwk, publicJwkOf, validatePrivateJwk, validatePublicJwk } from './jwk.js';
export { generateKeyPair } from './generate.js';
export { createSigner } from './sign.js';
export { importVerificationKey, verifySignature, verifySignatureAsync } from './verify.js';
export { multibaseToPrivateJwk, multibaseToPublicJwk, privateJwkToMultibase, publicJwkFromBytes, publicJwkToMultibase, publicKeyBytes } from './multibase.js';
