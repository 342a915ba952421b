/** `charter/home`: a person's home (encrypted keystore, identities, configuration) over the SQLite or PostgreSQL store. */
export { Home, openHome, initHome, type HomeOptions, type CreateIdentityInput } from './home.js';
export { verifyTools, localOrigin, isLoopbackHostname, type VerifyTools, type VerifyToolsOptions } from './net.js';
export { openStore, SQLITE_FILE, type OpenStoreOptions } from './open-store.js';
export { resolveHome } from './dir.js';
