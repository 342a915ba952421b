/** `charter/home`: a person's home (encrypted keystore, identities, configuration) over the SQLite or PostgreSQL store. */
export { Home, openHome, initHome, type HomeOptions, type CreateIdentityInput } from './home.js';
export { openStore, type OpenStoreOptions } from './open-store.js';
