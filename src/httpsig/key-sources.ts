import { CharterError } from '../errors.js';
import { importHttpSigKey, type HttpSigKey } from './keys.js';

/** A JWK Set (RFC 7517 §5). */
export interface JwkSet {
  keys: readonly unknown[];
}

/** Keys a caller holds: a JWKS, or a record from key id to JWK. */
export type KeysOption = JwkSet | Readonly<Record<string, unknown>>;

/** Caller keys, imported once per options object (they are reused for every request). */
export interface KeyIndex {
  find(keyId: string): HttpSigKey | undefined;
}

const imported = new WeakMap<object, KeyIndex>();

function isJwkSet(v: unknown): v is JwkSet {
  return typeof v === 'object' && v !== null && Array.isArray((v as JwkSet).keys);
}

/**
 * Indexes caller keys by every name `keyid` may use for them: the record key,
 * the JWK's `kid` (RFC 9421's own vectors use `test-key-ed25519`) and the
 * RFC 7638 thumbprint (Web Bot Auth). A key Charter cannot use is a caller
 * mistake: TypeError.
 */
export function keyIndex(keys: KeysOption, what = 'keys'): KeyIndex {
  const hit = imported.get(keys);
  if (hit) return hit;
  const entries: Array<[string | undefined, unknown]> = isJwkSet(keys) ? keys.keys.map((k) => [undefined, k]) : Object.entries(keys);
  const byId = new Map<string, HttpSigKey>();
  const named: Array<[string | undefined, HttpSigKey]> = [];
  for (const [name, jwk] of entries) {
    try {
      named.push([name, importHttpSigKey(jwk)]);
    } catch (e) {
      throw new TypeError(`${what}: ${name ? `key ${name}` : 'a key'} cannot verify HTTP message signatures (${e instanceof CharterError ? e.code : 'invalid'})`, { cause: e });
    }
  }
  // A thumbprint always names its own key (Web Bot Auth selects keys by it): indexed first, and a record
  // name or kid equal to another key's thumbprint, which would take that key's name over, is refused.
  for (const [, k] of named) if (!byId.has(k.thumbprint)) byId.set(k.thumbprint, k);
  for (const [name, k] of named) {
    for (const id of [name, k.kid]) {
      if (id === undefined) continue;
      const other = byId.get(id);
      if (other !== undefined && other.thumbprint === id && other.thumbprint !== k.thumbprint) {
        throw new TypeError(`${what}: ${name ? `key ${name.slice(0, 60)}` : 'a key'} is named ${id.slice(0, 60)}, the RFC 7638 thumbprint of another key`);
      }
      if (other === undefined) byId.set(id, k);
    }
  }
  const index: KeyIndex = { find: (id) => byId.get(id) };
  imported.set(keys, index);
  return index;
}

export function checkKeysOption(keys: unknown, what: string): KeysOption {
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) throw new TypeError(`${what} must be a JWK Set or a record of JWKs`);
  keyIndex(keys as KeysOption, what);
  return keys as KeysOption;
}
