import type { DIDDocument, VerificationMethod } from 'did-resolver';
import type { KeyType, PublicJwk, VerificationKey } from '../keys/types.js';

export type { DIDDocument, VerificationMethod };

export type VerificationRelationship = 'assertionMethod' | 'authentication' | 'capabilityInvocation' | 'capabilityDelegation' | 'keyAgreement';

/** A verification method resolved for one relationship, with its key parsed. */
export interface ResolvedKey extends VerificationKey {
  /** Absolute DID URL of the method, e.g. `did:key:z6Mk...#z6Mk...`. */
  readonly id: string;
  readonly controller: string;
  readonly did: string;
}

export interface ResolveOptions {
  /** Allow did:web hosts on loopback (127.0.0.0/8, ::1). Default false. */
  allowLoopback?: boolean;
  /** Allow private and link-local addresses. Default false. */
  allowPrivate?: boolean;
  /** Read a loopback did:web host (localhost, *.localhost, 127.0.0.0/8) over `http:` (with allowLoopback, for tests); every other host stays https. */
  allowHttp?: boolean;
  /** Wall-clock deadline in ms for a whole did:web fetch (connect, headers, body). Default 5000. */
  timeoutMs?: number;
  /** Largest did.json accepted, in bytes. Default 100 KiB. */
  maxBytes?: number;
  /** Cache lifetime in ms. Default 300_000. 0 disables caching. */
  cacheTtlMs?: number;
  /** Most entries kept in the cache. Default 10_000. */
  cacheMaxEntries?: number;
  /** How long a DID that failed to resolve is answered with that failure before it is loaded again, ms. Default 30_000 (at most cacheTtlMs). */
  failureTtlMs?: number;
}

export interface CharterResolver {
  /** Resolve a DID to its document. Throws CharterError (INVALID_DID, UNSUPPORTED_DID_METHOD, DID_NOT_FOUND, ...). */
  resolve(did: string): Promise<DIDDocument>;
  /**
   * Find the verification method `kid` (absolute DID URL or `#fragment` relative to `did`)
   * in `did`'s document, authorized for `relationship`. Throws KID_MISMATCH when the kid
   * belongs to another DID, VERIFICATION_METHOD_NOT_FOUND / _NOT_AUTHORIZED otherwise.
   * Without a kid, the single method for the relationship (error if none or ambiguous).
   * Cached: the hot path is a map lookup.
   */
  resolveKey(did: string, kid: string | undefined, relationship: VerificationRelationship): Promise<ResolvedKey>;
  /** Drop cached entries (all, or for one DID). */
  clear(did?: string): void;
  /**
   * The time (ms) a verification method's `expires` is judged at; the wall
   * clock when absent. An offline re-check of a past decision sets it to the
   * decision's time (audit bundleResolver).
   */
  now?: () => number;
}

/** A DID this process controls: what issuing and presenting need. */
export interface DidKeyRef {
  did: string;
  /** Absolute DID URL of the verification method used to sign. */
  kid: string;
  keyType: KeyType;
  publicJwk: PublicJwk;
}
