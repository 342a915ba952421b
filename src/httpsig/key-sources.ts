import { CharterError } from '../errors.js';
import { importHttpSigKey, type HttpSigKey } from './keys.js';

/** A JWK Set (RFC 7517 §5). */
export interface JwkSet {
  keys: readonly unknown[];
}

/** Keys a caller holds: a JWKS, or a record from key id to JWK. */
export type KeysOption = JwkSet | Readonly<Record<string, unknown>>;

/** Caller keys, imported once per options object (they are reused for every request) and again when it changes. */
export interface KeyIndex {
  find(keyId: string): HttpSigKey | undefined;
}

/**
 * What an index was built from: each entry's name and JWK (by identity), and the JWK's own members as they
 * were. A caller may change its options in place (splice a compromised key out of its JWKS, assign a
 * record name another key, edit a JWK's `x`): the index is rebuilt then, so a key the caller no longer
 * holds verifies nothing. Comparing costs a pass over the keys, far less than importing them again.
 */
type Snapshot = Array<{ name: string | undefined; jwk: unknown; members: Array<[string, unknown]> | undefined }>;

const imported = new WeakMap<object, { index: KeyIndex; snapshot: Snapshot }>();

const membersOf = (jwk: unknown): Array<[string, unknown]> | undefined => (typeof jwk === 'object' && jwk !== null ? Object.entries(jwk) : undefined);

function entriesOf(keys: KeysOption): Array<[string | undefined, unknown]> {
  return isJwkSet(keys) ? keys.keys.map((k) => [undefined, k]) : Object.entries(keys);
}

/** Are `entries` still what `snapshot` was taken from: the same names, the same JWK objects, the same members? */
function unchanged(snapshot: Snapshot, entries: Array<[string | undefined, unknown]>): boolean {
  if (snapshot.length !== entries.length) return false;
  for (let i = 0; i < entries.length; i++) {
    const was = snapshot[i]!;
    const [name, jwk] = entries[i]!;
    if (was.name !== name || was.jwk !== jwk) return false;
    const now = membersOf(jwk);
    if (was.members === undefined || now === undefined || was.members.length !== now.length) return false;
    for (let j = 0; j < now.length; j++) if (was.members[j]![0] !== now[j]![0] || was.members[j]![1] !== now[j]![1]) return false;
  }
  return true;
}

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
  const entries = entriesOf(keys);
  const hit = imported.get(keys);
  if (hit && unchanged(hit.snapshot, entries)) return hit.index;
  const snapshot: Snapshot = entries.map(([name, jwk]) => ({ name, jwk, members: membersOf(jwk) }));
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
  imported.set(keys, { index, snapshot });
  return index;
}

export function checkKeysOption(keys: unknown, what: string): KeysOption {
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) throw new TypeError(`${what} must be a JWK Set or a record of JWKs`);
  keyIndex(keys as KeysOption, what);
  return keys as KeysOption;
}
