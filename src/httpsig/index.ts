// RFC 9421 HTTP Message Signatures and Web Bot Auth: sign and verify requests,
// publish and resolve Signature-Agent key directories.
export { verifyRequestSignature, checkVerifyOptions, signatureNonce } from './verify.js';
export type { NonceStore, RequestSignatureDecision, VerifyRequestSignatureOptions } from './verify.js';
export { signRequest, signatureHeaders, WEB_BOT_AUTH_TAG } from './sign.js';
export type { RequestLike, SignRequestOptions, SignatureHeaders } from './sign.js';
export { signDirectory, directoryFor } from './directory.js';
export type { DirectoryKeyInput, DirectoryResponse, SignDirectoryOptions } from './directory.js';
export { verifyDirectoryResponse, DIRECTORY_MEDIA_TYPE, DIRECTORY_PATH, DIRECTORY_TAG } from './directory-verify.js';
export type { DirectoryKey, DirectoryResponseInput, VerifiedDirectory, VerifyDirectoryOptions } from './directory-verify.js';
export { createDirectoryResolver } from './directory-fetch.js';
export type { DirectoryResolver, DirectoryResolverOptions } from './directory-fetch.js';
export { checkRequestSignature, signatureGuardOptions, signatureGuardDecision, acceptSignature } from './guard.js';
export type { SignedRequestInput, SignatureGuardOptions, SignatureGuardDecision, SignatureOutcome } from './guard.js';
export { contentDigest, contentDigestMismatch } from './digest.js';
export { jwkThumbprint } from './thumbprint.js';
export type { HeaderSource } from './fields.js';
export type { JwkSet, KeysOption } from './key-sources.js';
export type { HttpSigAlgorithm, HttpSigKey, RsaPublicJwk } from './keys.js';
