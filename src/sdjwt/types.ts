import type { Reason } from '../errors.js';
import type { PublicJwk } from '../keys/types.js';
import type { CharterResolver } from '../did/types.js';
import type { Issuer } from '../credentials/types.js';
import type { TokenStatusContext } from '../status/token-checker.js';
import type { TokenStatusReference } from '../status/token-issuer.js';

/** draft-ietf-oauth-sd-jwt-vc "JOSE Header": the `typ` Charter writes, and the older one it still reads. */
export const SD_JWT_VC_TYP = 'dc+sd-jwt';
export const SD_JWT_VC_TYP_LEGACY = 'vc+sd-jwt';
/** RFC 9901 §4.3: the `typ` of a Key Binding JWT. */
export const KB_JWT_TYP = 'kb+jwt';

/** Hash names of the IANA "Named Information Hash Algorithm" registry that Charter computes. */
export type SdHashAlg = 'sha-256' | 'sha-384' | 'sha-512';

export interface IssueSdJwtVcInput {
  issuer: Issuer;
  /** The subject's DID (`sub`). Its authentication key becomes `cnf.jwk` unless `holderKey` is given. */
  subject: string;
  /** The credential type (`vct`): a collision-resistant name, e.g. an https URL. */
  vct: string;
  /** The claims about the subject; names reserved by JWT and SD-JWT VC are refused. */
  claims: Record<string, unknown>;
  /**
   * Claim paths the holder may disclose or withhold, dot-separated from the
   * top of `claims`: `email`, `address.street`, `nationalities.0` (an array
   * element), or JSON Pointers (`/org.iso.18013.5.1`, `/address/street`) for
   * names with dots; a dotted path naming two claims is refused. A path
   * under another listed path is nested (RFC 9901 §4.2.6).
   */
  disclosable?: readonly string[];
  /** `jti`; default a fresh `urn:uuid:`. */
  id?: string;
  validFrom?: Date;
  validUntil?: Date;
  /** A `status.status_list` reference (see allocateTokenStatus). */
  status?: TokenStatusReference;
  /** The holder's public key for `cnf`; default the subject DID's single authentication key. */
  holderKey?: PublicJwk;
  /** `false` issues a bearer credential without `cnf` (no key binding possible). */
  keyBinding?: boolean;
  /** Resolves the subject's key when `holderKey` is not given. Default: a did:key/did:jwk/did:web resolver. */
  resolver?: CharterResolver;
}

export interface IssuedSdJwtVc {
  id: string;
  /** The SD-JWT: issuer-signed JWT and every disclosure, ending with `~` (RFC 9901 §4). */
  token: string;
  /** The disclosable claim paths, as the holder names them to present. */
  disclosable: string[];
}

export interface PresentSdJwtVcInput {
  /** The holder: its key must be the credential's `cnf.jwk`. */
  holder: Issuer;
  /** Claim paths to reveal (dotted, or JSON Pointers for names with dots); each reveals everything under it and the parents it needs. Default none. */
  disclose?: readonly string[];
  /** The verifier this presentation is for (KB-JWT `aud`). */
  aud: string;
  /** The verifier's challenge (KB-JWT `nonce`). */
  nonce: string;
  /** KB-JWT `iat`; default now. */
  now?: Date;
  /**
   * Further KB-JWT claims binding the presentation to one request, as DPoP
   * binds a proof (RFC 9449 §4.2): `{ htm, htu }` for an HTTP request, `{ mcp }`
   * for a tool call. RFC 9901 §4.3 lets a KB-JWT carry more claims; `aud`,
   * `nonce`, `iat` and `sd_hash` are set here and cannot be overridden.
   */
  claims?: Record<string, unknown>;
}

/** A non-DID issuer trusted by its keys (an https issuer of another ecosystem, for interop). */
export interface TrustedJwkIssuer {
  /** Its `iss` value, compared as a plain string. */
  iss: string;
  keys: readonly (PublicJwk & { kid?: string })[];
}

/** Checks the `status` claim; src/status/token-checker.ts makes one. */
export type SdJwtStatusChecker = (status: unknown, ctx: TokenStatusContext) => Promise<Reason[]>;

export interface VerifySdJwtVcOptions {
  /** Resolves DID issuers (the `kid` in the header, an assertionMethod of `iss`). */
  resolver: CharterResolver;
  /** Issuers whose `iss` is not a DID, trusted with the keys given here. */
  trustedIssuers?: readonly TrustedJwkIssuer[];
  /** Checks `status`. A token with a status claim and no checker fails closed (STATUS_UNAVAILABLE). */
  status?: SdJwtStatusChecker;
  /**
   * Who this verifier is: the KB-JWT `aud` it expects, and the audience a
   * credential naming one (`aud`, RFC 7519 §4.1.3) must include.
   */
  aud?: string;
  /** The KB-JWT `nonce` this verifier sent. */
  nonce?: string;
  /**
   * Accept a token without a key binding: one that has `cnf` but no KB-JWT,
   * or a bearer credential with no plain `cnf` at all. For a holder checking
   * what it was issued, or a verifier that accepts bearer credentials; never
   * for a presentation that must prove who presents it. Default false. With
   * `nonce` a token without a KB-JWT is still refused (KEY_BINDING_INVALID):
   * only a key binding JWT answers a nonce.
   */
  allowMissingKeyBinding?: boolean;
  /** Most seconds since the KB-JWT's `iat`. Default 300; NaN, Infinity or a negative number is a TypeError. */
  maxKeyBindingAgeSeconds?: number;
  /** `_sd_alg` values accepted. Default `['sha-256']`. */
  sdAlgs?: readonly SdHashAlg[];
  /**
   * Refuse a token without `status` (STATUS_INVALID). A verifier cannot tell a
   * withheld disclosure from a decoy, so it cannot see that an issuer made
   * `status` disclosable and the holder withheld it; a policy that needs
   * revocation must require the claim. Default false.
   */
  requireStatus?: boolean;
  /** Require this `vct`. */
  vct?: string;
  now?: Date;
  /** Clock skew in seconds. Default 60, at most 300. */
  skewSeconds?: number;
  /** Largest token accepted, in characters. Default 256 KiB. */
  maxBytes?: number;
}

export interface SdJwtVcVerification {
  ok: boolean;
  reasons: Reason[];
  /** Present once the issuer-signed JWT parsed, even when refused, so a caller can explain. */
  issuer?: string;
  subject?: string;
  vct?: string;
  /** `jti`. */
  id?: string;
  /** The processed payload (RFC 9901 §7.1): the always-visible claims and the disclosed ones, without `_sd`/`_sd_alg`. */
  claims?: Record<string, unknown>;
  /** Paths of the claims that were disclosed, e.g. `address.street`. */
  disclosed?: string[];
  /**
   * Paths of the objects and arrays that carry digests, disclosed or not
   * ('' for the top level): where the holder may have withheld a claim (a
   * withheld one cannot be told from a decoy).
   */
  selective?: string[];
  /** The paths of `selective` where a digest had no disclosure: a claim was withheld there, or a decoy sits there. */
  withheld?: string[];
  /** `cnf.jwk`: the key the credential is bound to; `keyBinding` is set when the holder proved possession of it. */
  holderKey?: PublicJwk;
  /** The verified KB-JWT's claims; absent when the token carried none. */
  keyBinding?: { aud: string; nonce: string; iat: number };
  status?: TokenStatusReference;
  /** `nbf` and `exp` as RFC 3339 dates. */
  validFrom?: string;
  validUntil?: string;
  token: string;
}
