import { CharterError, shown } from '../errors.js';
import { importVerificationKey, multibaseToPublicJwk, validatePublicJwk } from '../keys/index.js';
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
 *    the key passes its curve's acceptance rule (keys/curves.ts).
 */

export const RELATIONSHIPS: readonly VerificationRelationship[] = ['authentication', 'assertionMethod', 'capabilityInvocation', 'capabilityDelegation', 'keyAgreement'];
/** DID Core §3.1: did = "did:" method-name ":" method-specific-id. */
const DID_SYNTAX = /^did:[a-z0-9]+:(?:(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})*:)*(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+$/;
const MAX_DID = 4096;
/** RFC 3986 §3.5 fragment characters without pct-encoded: one spelling per fragment. */
const FRAGMENT = /^[A-Za-z0-9._~!$&'()*+,;=:@/?-]{1,1024}$/;
/** Every property DID Core and its registries define for key material (DID Core §5.2.1, DID Spec Registries §4). */
const KEY_MATERIAL = ['publicKeyJwk', 'publicKeyMultibase', 'publicKeyBase58', 'publicKeyBase64', 'publicKeyHex', 'publicKeyPem', 'blockchainAccountId', 'ethereumAddress'];

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
  if (absolute === undefined) throw new CharterError('KID_MISMATCH', `kid ${short(String(kid))} does not name a key of ${did.slice(0, 80)}`);
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

/** Every method the document defines, by absolute id, and the entries of each relationship. */
function readMethods(doc: Record<string, unknown>, did: string): { methods: Map<string, Method>; entries: Map<VerificationRelationship, { id: string; embedded: boolean }[]> } {
  const methods = new Map<string, Method>();
  const define = (id: string, m: Method) => {
    if (methods.has(id)) throw ambiguous(`${short(id)} is defined more than once`);
    methods.set(id, m);
  };
  for (const m of list(doc, 'verificationMethod', did)) define(definedId(did, m), { node: m as Record<string, unknown> });
  const entries = new Map<VerificationRelationship, { id: string; embedded: boolean }[]>();
  for (const rel of RELATIONSHIPS) {
    const out: { id: string; embedded: boolean }[] = [];
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
    const jwk = vm.publicKeyJwk as { use?: unknown; key_ops?: unknown } | null;
    if (jwk && typeof jwk === 'object') {
      if (jwk.use !== undefined && jwk.use !== 'sig') throw new CharterError('INVALID_KEY', `${short(id)} is a key for ${shown(jwk.use, 20)} (use), not for signatures`);
      if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) {
        throw new CharterError('INVALID_KEY', `${short(id)} does not allow verify (key_ops)`);
      }
    }
    return validatePublicJwk(vm.publicKeyJwk);
  }
  if (form === 'publicKeyMultibase') {
    if (typeof vm.publicKeyMultibase !== 'string') throw new CharterError('INVALID_KEY', `${short(id)} has a publicKeyMultibase that is not a string`);
    return multibaseToPublicJwk(vm.publicKeyMultibase);
  }
  throw new CharterError('UNSUPPORTED_KEY_TYPE', `${short(id)} carries no publicKeyJwk or publicKeyMultibase`);
}

/**
 * The verification method of `did` that `kid` names (absolute, from
 * absoluteKid) or, without a kid, the single entry of `relationship`; it must
 * be authorized for `relationship` and controlled by `did`, with an
 * acceptable key. Throws VERIFICATION_METHOD_NOT_FOUND, _NOT_AUTHORIZED,
 * INVALID_KEY, UNSUPPORTED_KEY_TYPE or DID_RESOLUTION_FAILED.
 */
export function selectKey(doc: unknown, did: string, kid: string | undefined, relationship: VerificationRelationship): ResolvedKey {
  assertDocumentFor(doc, did);
  const { methods, entries } = readMethods(doc as unknown as Record<string, unknown>, did);
  const rel = entries.get(relationship)!;
  let id = kid;
  if (id === undefined) {
    if (rel.length !== 1) {
      throw new CharterError('VERIFICATION_METHOD_NOT_FOUND', `${did.slice(0, 80)} has ${rel.length} ${relationship} methods; the JWT must name one with "kid"`);
    }
    id = rel[0]!.id;
    if (ownId(did, id) !== id) throw new CharterError('VERIFICATION_METHOD_NOT_AUTHORIZED', `the ${relationship} method ${short(id)} is not a method of ${did.slice(0, 80)}`);
  }
  const vm = methods.get(id);
  if (!vm) throw new CharterError('VERIFICATION_METHOD_NOT_FOUND', `${short(id)} is not in the DID document`);
  // Listed under the relationship: as this very embedded method, or by reference to an entry of verificationMethod.
  const listed = rel.some((e) => e.id === id && (e.embedded ? vm.embeddedIn === relationship : vm.embeddedIn === undefined));
  if (!listed) throw new CharterError('VERIFICATION_METHOD_NOT_AUTHORIZED', `${short(id)} is not authorized for ${relationship}`);
  if (vm.node.controller !== did) {
    throw new CharterError('VERIFICATION_METHOD_NOT_AUTHORIZED', `${short(id)} is not controlled by ${did.slice(0, 80)} (its "controller" must name it)`);
  }
  const jwk = keyOf(vm.node, id);
  return Object.freeze({ ...importVerificationKey(jwk), id, controller: did, did });
}
