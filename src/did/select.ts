import { parseDateTime } from '../encoding/time.js';
import { CharterError, shown } from '../errors.js';
import { assertVerifyUse, importVerificationKey, multibaseToPublicJwk, validatePublicJwk } from '../keys/index.js';
import type { PublicJwk } from '../keys/types.js';
import type { DIDDocument, ResolvedKey, VerificationRelationship } from './types.js';

/*
 * Which verification method of a DID document may verify a signature by the
 * DID. The document may come from anywhere (a web server, a foreign Veramo
 * resolver), so every shape is checked, and anything that two readers could
 * read two ways is refused rather than guessed:
 *  - the document is an object whose `id` is the DID resolved (DID Core §5.1.1;
 *    did:web §3.2): DID_RESOLUTION_FAILED otherwise;
 *  - a method is used only if its id is `<did>#<fragment>` (or `#<fragment>`
 *    relative to the document) and its `controller` is exactly the DID
 *    (DID Core §5.2: controller is required): a method of another DID is never
 *    used, whether or not the JWT names it;
 *  - method ids are unique across `verificationMethod` and the methods embedded
 *    in relationships, after relative ids are made absolute (two definitions
 *    of one id are ambiguous, DID Core §5.2);
 *  - a string in a relationship refers to an entry of `verificationMethod`; an
 *    embedded method serves only the relationship that embeds it (DID Core
 *    §5.3 lets a method be embedded for one relationship; Charter does not let
 *    other relationships borrow it by reference);
 *  - ids and kids are compared as exact strings, and their fragments may not
 *    use percent-encoding, so no two spellings name one method;
 *  - a method carries exactly one form of key material (DID Core §5.2.1), and
 *    the key passes its curve's acceptance rule (keys/curves.ts);
 *  - a method marked `revoked` is never used, and one whose `expires` has
 *    passed is not (Controlled Identifiers 1.0 §2.2: see assertInForce);
 *  - `verificationMethod` and each relationship list at most MAX_METHODS
 *    entries, and a document is read once (see methodsOf).
 */

export const RELATIONSHIPS: readonly VerificationRelationship[] = ['authentication', 'assertionMethod', 'capabilityInvocation', 'capabilityDelegation', 'keyAgreement'];
/** DID Core §3.1: did = "did:" method-name ":" method-specific-id. */
const DID_SYNTAX = /^did:[a-z0-9]+:(?:(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})*:)*(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+$/;
const MAX_DID = 4096;
/** RFC 3986 §3.5 fragment characters without pct-encoded: one spelling per fragment. */
const FRAGMENT = /^[A-Za-z0-9._~!$&'()*+,;=:@/?-]{1,1024}$/;
/** Every property DID Core and its registries define for key material (DID Core §5.2.1, DID Spec Registries §4). */
const KEY_MATERIAL = ['publicKeyJwk', 'publicKeyMultibase', 'publicKeyBase58', 'publicKeyBase64', 'publicKeyHex', 'publicKeyPem', 'blockchainAccountId', 'ethereumAddress'];

/**
 * The most entries `verificationMethod`, or any one relationship, may list;
 * a document listing more is refused whole (DID_DOCUMENT_TOO_LARGE). A
 * document is anyone's to write (a did:web is one HTTP response), and each
 * method listed costs a key import (up to 250 us for P-256) wherever every
 * listed key is looked at (methods.ts, parties.ts): 13,000 dangling "#n"
 * references fit in 90 KB. An honest document lists a handful (Charter writes
 * one; did:key and did:jwk have one; rotation keeps a few old keys), so 64
 * leaves an order of magnitude of room while bounding the work of any one
 * document to 6 x 64 entries read, once per document object (methodsOf),
 * and 64 key imports per relationship looked at (usableKeys).
 */
export const MAX_METHODS = 64;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const short = (s: string) => s.slice(0, 100);

/** INVALID_DID unless `did` is a DID in DID Core §3.1 syntax, at most 4096 characters. */
export function assertDidSyntax(did: unknown): asserts did is string {
  if (typeof did !== 'string' || did.length > MAX_DID) throw new CharterError('INVALID_DID', 'a DID must be a string of at most 4096 characters');
  if (!DID_SYNTAX.test(did)) throw new CharterError('INVALID_DID', `malformed DID: ${did.slice(0, 80)}`);
}

/** The absolute form of a method id or kid that names a method of `did`, or undefined when it names anything else. */
function ownId(did: string, id: string): string | undefined {
  const absolute = id.startsWith('#') ? did + id : id;
  const hash = absolute.indexOf('#');
  if (hash < 0 || absolute.slice(0, hash) !== did) return undefined;
  return FRAGMENT.test(absolute.slice(hash + 1)) ? absolute : undefined;
}

/**
 * A JWT `kid` as the absolute id of a method of `did`. KID_MISMATCH when it
 * names anything else: another DID's key, a DID URL with a path or query, an
 * empty or percent-encoded fragment, or not a string at all.
 */
export function absoluteKid(did: string, kid: unknown): string {
  const absolute = typeof kid === 'string' ? ownId(did, kid) : undefined;
  if (absolute === undefined) throw new CharterError('KID_MISMATCH', `kid ${short(shown(kid, 200))} does not name a key of ${did.slice(0, 80)}`);
  return absolute;
}

/** DID_RESOLUTION_FAILED unless `doc` is a DID document object for `did`. */
export function assertDocumentFor(doc: unknown, did: string): asserts doc is DIDDocument {
  if (!isObj(doc)) throw new CharterError('DID_RESOLUTION_FAILED', `the DID document of ${did.slice(0, 80)} is not a JSON object`);
  if (doc.id !== did) throw new CharterError('DID_RESOLUTION_FAILED', `the document resolved for ${did.slice(0, 80)} names another DID`);
}

interface Method {
  node: Record<string, unknown>;
  /** The relationship that embeds it, or undefined for an entry of `verificationMethod`. */
  embeddedIn?: VerificationRelationship;
}

const ambiguous = (why: string) => new CharterError('VERIFICATION_METHOD_NOT_FOUND', `the DID document's methods cannot be read unambiguously: ${why}`);

function list(doc: Record<string, unknown>, prop: string, did: string): unknown[] {
  const v = doc[prop];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new CharterError('DID_RESOLUTION_FAILED', `"${prop}" of the document of ${did.slice(0, 80)} is not an array`);
  return v;
}

/** Absolute id of a method definition; a definition without a usable id makes the whole document ambiguous. */
function definedId(did: string, m: unknown): string {
  if (!isObj(m) || typeof m.id !== 'string') throw ambiguous('a method is not an object with a string id');
  if (!m.id.startsWith('#') && !m.id.startsWith('did:')) throw ambiguous(`method id ${short(m.id)} is neither "#fragment" nor a DID URL`);
  const absolute = m.id.startsWith('#') ? did + m.id : m.id;
  if (absolute.startsWith(`${did}#`) && ownId(did, absolute) === undefined) throw ambiguous(`method id ${short(m.id)} has a malformed fragment`);
  return absolute;
}

const LISTS = ['verificationMethod', ...RELATIONSHIPS] as const;

type Entry = { id: string; embedded: boolean };
interface Read {
  methods: Map<string, Method>;
  entries: Map<VerificationRelationship, Entry[]>;
}

/** DID_DOCUMENT_TOO_LARGE when a list is over MAX_METHODS: checked before any entry is read, so refusing costs nothing. */
function assertWithinCap(doc: Record<string, unknown>, did: string): void {
  for (const prop of LISTS) {
    const v = doc[prop];
    if (Array.isArray(v) && v.length > MAX_METHODS) {
      throw new CharterError('DID_DOCUMENT_TOO_LARGE', `"${prop}" of the document of ${did.slice(0, 80)} lists ${v.length} methods; at most ${MAX_METHODS} are read`);
    }
  }
}

/** Every method the document defines, by absolute id, and the entries of each relationship. */
function readMethods(doc: Record<string, unknown>, did: string): Read {
  const methods = new Map<string, Method>();
  const define = (id: string, m: Method) => {
    if (methods.has(id)) throw ambiguous(`${short(id)} is defined more than once`);
    methods.set(id, m);
  };
  for (const m of list(doc, 'verificationMethod', did)) define(definedId(did, m), { node: m as Record<string, unknown> });
  const entries = new Map<VerificationRelationship, Entry[]>();
  for (const rel of RELATIONSHIPS) {
    const out: Entry[] = [];
    for (const e of list(doc, rel, did)) {
      if (typeof e === 'string') {
        out.push({ id: e.startsWith('#') ? did + e : e, embedded: false });
      } else {
        const id = definedId(did, e);
        define(id, { node: e as Record<string, unknown>, embeddedIn: rel });
        out.push({ id, embedded: true });
      }
    }
    entries.set(rel, out);
  }
  return { methods, entries };
}

/** What a document's lists were when it was read: the arrays themselves and their entries, compared by identity. */
const snapshot = (doc: Record<string, unknown>) => LISTS.map((p) => (Array.isArray(doc[p]) ? [doc[p], ...(doc[p] as unknown[])] : [doc[p]]));
const unchanged = (a: unknown[][], b: unknown[][]) => a.every((x, i) => x.length === b[i]!.length && x.every((y, j) => y === b[i]![j]));

/**
 * readMethods' answer (or its refusal) per document object. A resolver hands
 * out one cached document object for every lookup of a DID, so a document is
 * read once however many keys are looked up in it, not once per lookup (which
 * made looking at every listed key quadratic). A document changed in place
 * (a list replaced, an entry added, removed or swapped) is read again; a
 * method object edited in place is not noticed, but its key and controller
 * are read from it at each selection anyway.
 */
const readCache = new WeakMap<object, Parsed>();

interface Parsed {
  did: string;
  lists: unknown[][];
  read?: Read;
  error?: unknown;
  /** usableKeys' selection per relationship, with the time each key expires (lifetime checked at each call). */
  usable: Map<VerificationRelationship, { key: ResolvedKey; expires?: number }[]>;
}

/** readMethods, once per document object (cached, refusals too). */
function methodsOf(doc: Record<string, unknown>, did: string): Parsed & { read: Read } {
  // The caps first: over them, even the snapshot is not taken.
  assertWithinCap(doc, did);
  const lists = snapshot(doc);
  let hit = readCache.get(doc);
  if (!hit || hit.did !== did || !unchanged(hit.lists, lists)) {
    try {
      hit = { did, lists, read: readMethods(doc, did), usable: new Map() };
    } catch (e) {
      hit = { did, lists, error: e, usable: new Map() };
    }
    readCache.set(doc, hit);
  }
  if (hit.read === undefined) throw hit.error;
  return hit as Parsed & { read: Read };
}

/**
 * VERIFICATION_METHOD_NOT_AUTHORIZED unless the method is in force at `now`
 * (ms). Controlled Identifiers 1.0 §2.2 (Verification Methods) gives a method
 * two optional dateTimeStamps: `revoked`, from which it must not be used to
 * verify proofs, and `expires`, after which it should cease to be used.
 * Charter refuses:
 *  - any method carrying `revoked`, whatever its value (past, future or
 *    malformed): a key its controller declares revoked verifies nothing, not
 *    even a signature dated before the revocation, since that date (iat,
 *    validFrom) is written by whoever holds the key, and a revoked key is
 *    above all one someone else may hold; a future date is read the same way
 *    (the controller has already said the key goes), which spares parsing;
 *  - a method whose `expires` is at or before `now`, or is not an RFC 3339
 *    date-time with a zone (one reading for every verifier: encoding/time.ts).
 */
function assertInForce(vm: Record<string, unknown>, id: string, now: number): void {
  if (vm.revoked !== undefined) throw new CharterError('VERIFICATION_METHOD_NOT_AUTHORIZED', `${short(id)} is revoked (${shown(vm.revoked, 40)})`);
  if (vm.expires === undefined) return;
  const at = parseDateTime(vm.expires);
  if (at === undefined) throw new CharterError('VERIFICATION_METHOD_NOT_AUTHORIZED', `${short(id)} has an "expires" that is not an RFC 3339 date-time with a zone`);
  if (at <= now) throw new CharterError('VERIFICATION_METHOD_NOT_AUTHORIZED', `${short(id)} expired at ${shown(vm.expires, 40)}`);
}

type KeyForm = 'publicKeyJwk' | 'publicKeyMultibase';

/**
 * The verification method types Charter reads, with the key property each
 * type's specification puts the key in and the curves it names (DID Core §5.2:
 * `type` says how to read the method; a method whose key does not fit its type
 * is read two ways by two verifiers). Other properties (publicKeyBase58, ...)
 * are UNSUPPORTED_KEY_TYPE, as for any method.
 *  - JsonWebKey2020 (VC JOSE 2020 suite; did:jwk, did:web documents Charter writes),
 *    JsonWebKey (Controlled Identifiers 1.0 §2.2.3; VC-JOSE-COSE): publicKeyJwk, any curve;
 *  - Multikey (Controlled Identifiers 1.0 §2.2.2; did:key): publicKeyMultibase, any curve;
 *  - Ed25519VerificationKey2020 (Ed25519 Signature 2020 §2.3): publicKeyMultibase, Ed25519;
 *  - Ed25519VerificationKey2018 (Ed25519 Signature 2018), EcdsaSecp256k1VerificationKey2019
 *    (secp256k1 2019 suite), EcdsaSecp256r1VerificationKey2019, P256Key2021 (did:key test
 *    vectors): publicKeyJwk on their one curve (their base58 and hex forms are not read).
 * An unknown type is refused (UNSUPPORTED_KEY_TYPE): how to read its key is exactly what is not known.
 */
const METHOD_TYPES: Readonly<Record<string, { forms: readonly KeyForm[]; curves?: readonly PublicJwk['crv'][] }>> = {
  JsonWebKey2020: { forms: ['publicKeyJwk'] },
  JsonWebKey: { forms: ['publicKeyJwk'] },
  Multikey: { forms: ['publicKeyMultibase'] },
  Ed25519VerificationKey2020: { forms: ['publicKeyMultibase'], curves: ['Ed25519'] },
  Ed25519VerificationKey2018: { forms: ['publicKeyJwk'], curves: ['Ed25519'] },
  EcdsaSecp256k1VerificationKey2019: { forms: ['publicKeyJwk'], curves: ['secp256k1'] },
  EcdsaSecp256r1VerificationKey2019: { forms: ['publicKeyJwk'], curves: ['P-256'] },
  P256Key2021: { forms: ['publicKeyJwk'], curves: ['P-256'] },
};

/** The one public key a method carries (DID Core §5.2.1: never two forms of it), fitting the method's type. */
function keyOf(vm: Record<string, unknown>, id: string): PublicJwk {
  const forms = KEY_MATERIAL.filter((p) => vm[p] !== undefined);
  if (forms.length > 1) throw new CharterError('INVALID_KEY', `${short(id)} carries its key in more than one form (${forms.join(', ')})`);
  // DID Core §5.2: "type" is required, a string.
  if (typeof vm.type !== 'string') throw new CharterError('INVALID_KEY', `${short(id)} has no "type" (a string naming the verification method type)`);
  // A method typed for key agreement (DID Core §5.3.3) carries no signing key, whatever its material says.
  if (/KeyAgreement/i.test(vm.type)) throw new CharterError('INVALID_KEY', `${short(id)} is a key agreement method (${vm.type.slice(0, 60)}), not a signing key`);
  const spec = Object.hasOwn(METHOD_TYPES, vm.type) ? METHOD_TYPES[vm.type] : undefined;
  if (spec === undefined) {
    throw new CharterError('UNSUPPORTED_KEY_TYPE', `${short(id)} has type ${short(vm.type)}; Charter reads ${Object.keys(METHOD_TYPES).join(', ')}`);
  }
  const form = forms[0];
  if ((form === 'publicKeyJwk' || form === 'publicKeyMultibase') && !spec.forms.includes(form)) {
    throw new CharterError('INVALID_KEY', `${short(id)} is of type ${vm.type}, which carries its key in ${spec.forms.join(' or ')}, not in ${form}`);
  }
  const jwk = keyMaterial(vm, id, form);
  if (spec.curves !== undefined && !spec.curves.includes(jwk.crv)) {
    throw new CharterError('INVALID_KEY', `${short(id)} is of type ${vm.type}, for ${spec.curves.join(' or ')} keys, but carries a ${jwk.crv} key`);
  }
  return jwk;
}

/** The key in a method's one key property, parsed and checked by the key rules (keys/). */
function keyMaterial(vm: Record<string, unknown>, id: string, form: string | undefined): PublicJwk {
  if (form === 'publicKeyJwk') {
    // RFC 7517 §4.2, §4.3: a JWK meant for encryption, or whose operations exclude verifying, verifies nothing.
    assertVerifyUse(vm.publicKeyJwk, short(id));
    return validatePublicJwk(vm.publicKeyJwk);
  }
  if (form === 'publicKeyMultibase') {
    if (typeof vm.publicKeyMultibase !== 'string') throw new CharterError('INVALID_KEY', `${short(id)} has a publicKeyMultibase that is not a string`);
    return multibaseToPublicJwk(vm.publicKeyMultibase);
  }
  throw new CharterError('UNSUPPORTED_KEY_TYPE', `${short(id)} carries no publicKeyJwk or publicKeyMultibase`);
}

/** The method `id` (absolute) of `did`, if it may verify for `relationship` at `now`, with its key. */
function pick(read: Read, did: string, id: string, relationship: VerificationRelationship, now: number): ResolvedKey {
  const vm = read.methods.get(id);
  if (!vm) throw new CharterError('VERIFICATION_METHOD_NOT_FOUND', `${short(id)} is not in the DID document`);
  // Listed under the relationship: as this very embedded method, or by reference to an entry of verificationMethod.
  const listed = read.entries.get(relationship)!.some((e) => e.id === id && (e.embedded ? vm.embeddedIn === relationship : vm.embeddedIn === undefined));
  if (!listed) throw new CharterError('VERIFICATION_METHOD_NOT_AUTHORIZED', `${short(id)} is not authorized for ${relationship}`);
  if (vm.node.controller !== did) {
    throw new CharterError('VERIFICATION_METHOD_NOT_AUTHORIZED', `${short(id)} is not controlled by ${did.slice(0, 80)} (its "controller" must name it)`);
  }
  assertInForce(vm.node, id, now);
  const jwk = keyOf(vm.node, id);
  return Object.freeze({ ...importVerificationKey(jwk), id, controller: did, did });
}

/** `now` as ms: the wall clock by default; anything but a finite number (or a valid Date) is refused (TypeError). */
function nowMs(now: number | Date | undefined): number {
  const t = now === undefined ? Date.now() : now instanceof Date ? now.getTime() : now;
  if (typeof t !== 'number' || !Number.isFinite(t)) throw new TypeError('now must be a finite time in ms or a valid Date');
  return t;
}

/**
 * The verification method of `did` that `kid` names (absolute, from
 * absoluteKid) or, without a kid, the single entry of `relationship`; it must
 * be authorized for `relationship`, controlled by `did` and in force at `now`
 * (not revoked, not expired: assertInForce), with an acceptable key. `now`
 * defaults to the wall clock: the CharterResolver API carries no time, so a
 * resolver's resolveKey judges `expires` at the time of the lookup, not at a
 * verifier's `now`; a key it caches stays in use until its document's cache
 * entry ends (cacheTtlMs), as a key removed from the document does, or its
 * method's `expires`, whichever comes first (document-resolver.ts).
 * Throws VERIFICATION_METHOD_NOT_FOUND, _NOT_AUTHORIZED, INVALID_KEY,
 * UNSUPPORTED_KEY_TYPE, DID_DOCUMENT_TOO_LARGE or DID_RESOLUTION_FAILED.
 */
export function selectKey(doc: unknown, did: string, kid: string | undefined, relationship: VerificationRelationship, now?: number | Date): ResolvedKey {
  assertDocumentFor(doc, did);
  const at = nowMs(now);
  const { read } = methodsOf(doc as unknown as Record<string, unknown>, did);
  const rel = read.entries.get(relationship)!;
  let id = kid;
  if (id === undefined) {
    if (rel.length !== 1) {
      throw new CharterError('VERIFICATION_METHOD_NOT_FOUND', `${did.slice(0, 80)} has ${rel.length} ${relationship} methods; the JWT must name one with "kid"`);
    }
    id = rel[0]!.id;
    if (ownId(did, id) !== id) throw new CharterError('VERIFICATION_METHOD_NOT_AUTHORIZED', `the ${relationship} method ${short(id)} is not a method of ${did.slice(0, 80)}`);
  }
  return pick(read, did, id, relationship, at);
}

/**
 * The public key of every method `did`'s document defines (in
 * `verificationMethod` or embedded in a relationship), whatever its
 * relationships, `controller`, `revoked` or `expires`: every key the document
 * says something about, usable or not. A method whose key Charter cannot read
 * is left out; a document that cannot be read as a whole throws as selectKey
 * does.
 */
export function definedKeys(doc: unknown, did: string): PublicJwk[] {
  assertDocumentFor(doc, did);
  const out: PublicJwk[] = [];
  for (const [id, m] of methodsOf(doc as unknown as Record<string, unknown>, did).read.methods) {
    try {
      out.push(keyOf(m.node, id));
    } catch {
      // no key Charter reads
    }
  }
  return out;
}

/**
 * Every method of `did` that `relationship` lists and selectKey would hand
 * out for its id at `now`, in the order listed, each once: one pass over a
 * document read once, for the callers that look at every listed key
 * (methods.ts listsKey, parties.ts signingKeysOf) instead of one selectKey per
 * listed id. The selection is kept with the document object (as a resolver
 * keeps selectKey's keys), so a key is imported once per document; only each
 * key's `expires` is compared with `now` at every call. A method Charter
 * cannot use (another DID's, revoked, expired, an unknown type, a key
 * agreement key) is left out; a document that cannot be read as a whole
 * throws as selectKey does (DID_RESOLUTION_FAILED, DID_DOCUMENT_TOO_LARGE,
 * VERIFICATION_METHOD_NOT_FOUND when ambiguous).
 */
export function usableKeys(doc: unknown, did: string, relationship: VerificationRelationship, now?: number | Date): ResolvedKey[] {
  assertDocumentFor(doc, did);
  if (!RELATIONSHIPS.includes(relationship)) throw new CharterError('INVALID_ARGUMENT', `unknown verification relationship ${shown(relationship, 40)}`);
  const at = nowMs(now);
  const parsed = methodsOf(doc as unknown as Record<string, unknown>, did);
  let selected = parsed.usable.get(relationship);
  if (selected === undefined) {
    selected = [];
    const seen = new Set<string>();
    for (const { id } of parsed.read.entries.get(relationship)!) {
      // As a kid, an id naming another DID's method (or malformed) is KID_MISMATCH before any selection.
      if (seen.has(id) || ownId(did, id) !== id) continue;
      seen.add(id);
      try {
        // Every rule but the clock (at the start of time nothing has expired); `expires` is kept to be compared below.
        const key = pick(parsed.read, did, id, relationship, Number.NEGATIVE_INFINITY);
        const expires = parseDateTime(parsed.read.methods.get(id)!.node.expires);
        selected.push(expires === undefined ? { key } : { key, expires });
      } catch {
        // a method Charter cannot use verifies nothing
      }
    }
    parsed.usable.set(relationship, selected);
  }
  return selected.filter((k) => k.expires === undefined || k.expires > at).map((k) => k.key);
}
