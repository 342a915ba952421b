/** The store port: narrow interfaces the layers above depend on; the adapters live in sqlite/ and postgres/. */
export type * from './types.js';
