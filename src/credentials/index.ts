export * from './types.js';
export { signJwt, decodeJwt, type DecodedJwt, type JwtHeader } from './jws.js';
export { issueCredential } from './issue.js';
export { verifyCredential, assertCredential, decodeCredential, checkJwtSignature } from './verify.js';
export { createPresentation, verifyPresentation } from './present.js';
export { createSchemaChecker, defaultSchemaChecker, schemaIdFor, SCHEMA_BASE } from './schemas.js';
export { soleSubject, statusEntriesOf, subjectsOf, subjectIds } from './subjects.js';
export { recordCredential, credentialRecord, type RecordableCredential, type RecordCredentialOptions } from './record.js';
export { DEFAULT_SKEW_SECONDS, MAX_SKEW_SECONDS } from './time.js';
