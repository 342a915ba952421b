export type * from './types.js';
export { openStore, type OpenStoreOptions } from './open.js';
export { openSqliteStore } from './sqlite.js';
export { ensureHome, resolveHome } from './home.js';
export { createPassphraseCheck, getPassphrase, sealPrivateKey, unsealPrivateKey, verifyPassphrase, type PassphraseSource } from './keystore.js';
export { writeFileAtomic } from './atomic.js';
export { computeReservation } from './ledger.js';
