import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/*
 * The W3C CCG did:key test vectors (w3c-ccg/did-method-key `test-vectors/`),
 * read from ../shared/vectors/interop/did-key/ (never copied here), in the
 * shape the key and resolver tests use: per key type, each DID with what the
 * file publishes for it.
 */
const DIR = resolve(__dirname, '../../../shared/vectors/interop/did-key');

interface Published {
  seed?: string;
  verificationKeyPair?: VectorKey;
  verificationMethod?: VectorKey;
}
interface VectorKey {
  publicKeyBase58?: string;
  privateKeyBase58?: string;
  publicKeyJwk?: { kty: string; crv: string; x: string; y?: string };
}

/** Each DID of a file with its key, keeping the entries in the shape a test reads (the files mix base58 and JWK entries). */
const load = (file: string) =>
  Object.entries(JSON.parse(readFileSync(resolve(DIR, file), 'utf8')) as Record<string, Published>).map(([did, v]) => ({ did, seed: v.seed, key: (v.verificationKeyPair ?? v.verificationMethod)! }));

export const didKey = {
  Ed25519: load('ed25519-x25519.json').flatMap(({ did, seed, key }) => (seed && key.publicKeyBase58 ? [{ did, seedHex: seed, publicKeyBase58: key.publicKeyBase58 }] : [])),
  'P-256': load('nist-curves.json').flatMap(({ did, key }) => (did.startsWith('did:key:zDn') && key.publicKeyJwk ? [{ did, publicKeyJwk: key.publicKeyJwk }] : [])),
  secp256k1: load('secp256k1.json').flatMap(({ did, key }) =>
    key.publicKeyBase58 && key.privateKeyBase58 ? [{ did, publicKeyBase58: key.publicKeyBase58, privateKeyBase58: key.privateKeyBase58 }] : [],
  ),
};
