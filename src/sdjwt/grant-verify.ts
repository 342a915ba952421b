import { readOptions, type OptionSpec } from '../encoding/options.js';
import { toReason, type Reason, shown } from '../errors.js';
import type { CharterResolver } from '../did/types.js';
import type { PublicJwk } from '../keys/types.js';
import { listsKey } from '../did/methods.js';
import { SD_JWT_GRANT_VCT, readTerms, termsReasons, type DeclaredProcessing, type GrantDecision } from '../grants/index.js';
import { actionCovered, normalizeGrantResource, normalizeResource, resourceCovered } from '../grants/scope.js';
import { unenforcedConstraints } from '../grants/claims.js';
import { verifySdJwtVc } from './verify.js';
import { unreadMembers } from '../credentials/subjects.js';
import { statusAnswer } from '../credentials/verify.js';
import type { SdJwtStatusChecker, SdJwtVcVerification, TrustedJwkIssuer } from './types.js';

/** The `vct` of a DataAccessGrant issued as an SD-JWT VC. */
export const GRANT_VCT = SD_JWT_GRANT_VCT;

/*
 * The verifier's side of SD-JWT grants, apart from the issuing side
 * (grant.ts): the guard imports only this, so a verifier does not load
 * @sd-jwt/sd-jwt-vc, which only issuing and presenting use.
 */

export interface VerifySdJwtGrantOptions {
  resolver: CharterResolver;
  /** A Token Status List checker (createTokenStatusChecker): a grant always carries a status. */
  status: SdJwtStatusChecker;
  /** The resource asked for (normalised here; RESOURCE_INVALID when it cannot be), as for verifyGrant. */
  resource: string;
  action: string;
  /**
   * Who owns the requested resource: a grant allows access only to its
   * issuer's own data (GRANT_NOT_OWNER otherwise). Give `owner` or,
   * explicitly, `anyOwner: true`, as for verifyGrant.
   */
  owner?: string;
  anyOwner?: boolean;
  /** The party asking; must be the grant's subject. */
  grantee?: string;
  /** Verification time. Default now. */
  now?: Date;
  skewSeconds?: number;
  /** Most seconds since the key binding JWT's `iat`. Default 300. */
  maxKeyBindingAgeSeconds?: number;
  /** This verifier and the nonce it sent, checked against the KB-JWT. */
  aud?: string;
  nonce?: string;
  /**
   * Accept the grant without a key binding (the grantee checking what it received). Default false: a grant
   * needs a plain `cnf` and a KB-JWT signed with it, and only then does the decision name a `holder`.
   */
  allowMissingKeyBinding?: boolean;
  trustedIssuers?: readonly TrustedJwkIssuer[];
  /** The declared use, checked against the grant's terms as verifyGrant does (PURPOSE_NOT_ALLOWED, PROCESSING_NOT_ALLOWED). */
  purpose?: string;
  processing?: DeclaredProcessing;
}

/** GrantDecision (src/grants/verify.ts), from an SD-JWT grant: `grant` lists only what was disclosed. */
export interface SdJwtGrantDecision extends GrantDecision {
  format: 'dc+sd-jwt';
  disclosed?: string[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);
const GRANT_FIELDS = new Set(['resources', 'actions', 'purpose', 'constraints', 'terms']);

/**
 * The disclosed grant against the DataAccessGrant shape. Not the JSON Schema
 * itself: a holder may withhold every element of `resources` (minItems 1
 * there), which is a GRANT_SCOPE refusal, not a malformed grant.
 */
function shapeReasons(grant: unknown): Reason[] {
  if (!isObj(grant)) return [{ code: 'SCHEMA_INVALID', message: 'the credential carries no grant' }];
  const out: Reason[] = [];
  const unknown = Object.keys(grant).filter((k) => !GRANT_FIELDS.has(k));
  // A grant field Charter does not know could be a restriction it would ignore: refuse (DESIGN.md, terms).
  if (unknown.length > 0) out.push({ code: 'SCHEMA_INVALID', message: `the grant has fields Charter does not understand: ${unknown.join(', ').slice(0, 120)}` });
  for (const k of ['resources', 'actions'] as const) {
    if (!Array.isArray(grant[k]) || (grant[k] as unknown[]).some((s) => typeof s !== 'string'))
      out.push({ code: 'SCHEMA_INVALID', message: `grant.${k} must be an array of strings` });
  }
  if (typeof grant.purpose !== 'string' || grant.purpose.length === 0) out.push({ code: 'SCHEMA_INVALID', message: 'grant.purpose must be a non-empty string' });
  if (grant.constraints !== undefined && !isObj(grant.constraints)) out.push({ code: 'SCHEMA_INVALID', message: 'grant.constraints must be an object' });
  else if (isObj(grant.constraints) && Object.keys(grant.constraints).length > 0) out.push(unenforcedConstraints(grant.constraints));
  if (grant.terms !== undefined) out.push(...readTerms(grant.terms).reasons);
  return out;
}

/** A grant's restrictions: what a holder must never be able to withhold. */
const RESTRICTION = /^grant\.(?:purpose|constraints|terms)(?:\.|$)/;

/**
 * A holder may hide a permission, never a restriction (DESIGN.md):
 * issueSdJwtGrant keeps `purpose`, `constraints` and `terms` in clear, but
 * another issuer (or the generic issueStoredSdJwtVc) can sign them as
 * disclosable, and a withheld disclosure cannot be told from a decoy. So a
 * digest in the grant object itself, or anywhere under a restriction, and a
 * restriction that came from a disclosure, are refused: otherwise a holder
 * withholding `grant.terms` would be checked against no terms at all.
 * Digests in `grant.resources` and `grant.actions` (a permission each) are fine.
 */
function hidableReasons(v: Pick<SdJwtVcVerification, 'selective' | 'disclosed' | 'withheld'>): Reason[] {
  const { selective, disclosed, withheld } = v;
  const out: Reason[] = [];
  // An undisclosed digest at the top level could stand for a withheld `nbf`, `cnf` or `status` (SD-JWT VC
  // "Registered JWT Claims" forbids making them disclosable, but a verifier cannot tell a withheld one from
  // a decoy): a grant used before its nbf, or without the key binding its issuer asked for. So every
  // top-level digest must be disclosed. issueSdJwtGrant puts none there.
  if (withheld?.includes('')) out.push({ code: 'DISCLOSURE_INVALID', message: "a grant's top-level claims must all be shown: a withheld one could be its nbf, cnf or status" });
  const hidable = [...(selective ?? []).filter((p) => p === 'grant' || RESTRICTION.test(p)), ...(disclosed ?? []).filter((p) => RESTRICTION.test(p))];
  if (hidable.length > 0)
    out.push({ code: 'DISCLOSURE_INVALID', message: `a grant's restrictions must be in clear, but ${[...new Set(hidable)].join(', ').slice(0, 120)} could be withheld` });
  return out;
}

/**
 * Does this SD-JWT grant (a presentation by its grantee) allow `action` on
 * `resource` now? The same decision shape, and the same refusals, as
 * verifyGrant for vc+jwt grants, so a guard can take either format.
 */
/** RFC 7519 §4.1 and SD-JWT VC "Registered JWT Claims", and the grant. */
const SD_JWT_GRANT_CLAIMS = new Set(['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'jti', 'cnf', 'status', 'vct', 'vct#integrity', 'grant']);

const OPTIONS: OptionSpec<VerifySdJwtGrantOptions> = {
  resolver: true,
  status: true,
  resource: true,
  action: true,
  owner: true,
  anyOwner: 'boolean',
  grantee: true,
  now: true,
  skewSeconds: true,
  maxKeyBindingAgeSeconds: true,
  aud: true,
  nonce: true,
  allowMissingKeyBinding: 'boolean',
  trustedIssuers: true,
  purpose: true,
  processing: true,
};

export async function verifySdJwtGrant(token: string, given: VerifySdJwtGrantOptions): Promise<SdJwtGrantDecision> {
  if (given && typeof given === 'object' && (given as unknown as Record<string, unknown>).at !== undefined) throw new TypeError('verifySdJwtGrant takes "now", not "at"');
  // Read once (encoding/options.ts): the owner and grantee rules run after the token's checks are awaited.
  const options = readOptions('verifySdJwtGrant', given, OPTIONS);
  if (!options || typeof options.status !== 'function') throw new TypeError('verifySdJwtGrant needs options.status (a Token Status List checker)');
  if (typeof options.action !== 'string') throw new TypeError('verifySdJwtGrant needs options.action');
  if ((options.owner !== undefined) === (options.anyOwner === true)) {
    throw new TypeError('verifySdJwtGrant needs exactly one of options.owner (the DID whose data is asked for) or anyOwner: true');
  }
  const resource = normalizeResource(options.resource);
  // The status check is held back until the grant's own rules pass: no network for a grant refused anyway.
  let held: Parameters<SdJwtStatusChecker> | undefined;
  const v = await verifySdJwtVc(token, {
    resolver: options.resolver,
    status: async (...args) => {
      held = args;
      return [];
    },
    ...(options.now ? { now: options.now } : {}),
    ...(options.skewSeconds !== undefined ? { skewSeconds: options.skewSeconds } : {}),
    ...(options.maxKeyBindingAgeSeconds !== undefined ? { maxKeyBindingAgeSeconds: options.maxKeyBindingAgeSeconds } : {}),
    ...(options.aud !== undefined ? { aud: options.aud } : {}),
    ...(options.nonce !== undefined ? { nonce: options.nonce } : {}),
    ...(options.allowMissingKeyBinding === true ? { allowMissingKeyBinding: true } : {}),
    ...(options.trustedIssuers ? { trustedIssuers: options.trustedIssuers } : {}),
  });
  // Another kind of SD-JWT VC (a generic credential, a payment mandate, a card) holds no grant: said as
  // verifyGrant says it of a presentation without one, and no grant rule is applied to what is not one.
  if (v.claims && v.claims.vct !== GRANT_VCT) {
    const notGrant = { code: 'GRANT_MISSING', message: `the SD-JWT VC is a ${JSON.stringify(shown(v.claims.vct, 100))}, not a DataAccessGrant (vct ${GRANT_VCT})` } as const;
    return { ok: false, reasons: [...v.reasons, notGrant], format: 'dc+sd-jwt', resource };
  }
  const reasons = [...v.reasons];
  const c = v.claims;
  const g = isObj(c?.grant) ? c.grant : {};
  // Normalised as verifyGrant's readGrantClaims does: a grant naming "a/../b" is refused, never half-matched.
  let resources: string[] = [];
  try {
    resources = strings(g.resources).map(normalizeGrantResource);
  } catch (e) {
    reasons.push({ code: 'INVALID_CREDENTIAL', message: `grant.resources: ${(e as Error).message}` });
  }
  const actions = strings(g.actions);
  const purpose = typeof g.purpose === 'string' ? g.purpose : '';
  // Terms bind the verifier whatever the format, and the decision hands them on (retention, onward sharing:
  // the platform's duties), as verifyGrant's does.
  const terms = c && g.terms !== undefined ? readTerms(g.terms).terms : undefined;
  if (c) {
    if (v.validUntil === undefined) reasons.push({ code: 'INVALID_CREDENTIAL', message: 'a grant must expire (exp)' });
    if (c.status === undefined) reasons.push({ code: 'STATUS_INVALID', message: 'a grant without a revocation status cannot be revoked, so it is refused' });
    reasons.push(...shapeReasons(c.grant), ...hidableReasons(v));
    // The registered claims and the grant: a `terms` or `constraints` claim beside `grant` would be unread.
    const extra = unreadMembers('grant', c, SD_JWT_GRANT_CLAIMS);
    if (extra) reasons.push(extra);
    // A declared use outside the terms is refused.
    reasons.push(
      ...termsReasons(terms, {
        ...(options.purpose !== undefined ? { purpose: options.purpose } : {}),
        ...(options.processing !== undefined ? { processing: options.processing } : {}),
      }),
    );
    // The owner rule of verifyGrant (src/grants/verify.ts), with its codes.
    if (options.owner !== undefined && (typeof options.owner !== 'string' || !options.owner.startsWith('did:'))) {
      reasons.push({ code: 'GRANT_NOT_OWNER', message: `no owner is known for ${resource.slice(0, 200)}, so no grant covers it` });
    } else if (options.owner !== undefined && v.issuer !== options.owner) {
      reasons.push({ code: 'GRANT_NOT_OWNER', message: `the grant was issued by ${shown(v.issuer, 100)}, not by the owner of ${resource.slice(0, 200)}` });
    }
    // DataAccessGrant: the subject is the grantee, the party the key binding must prove is presenting.
    if (v.subject === undefined) reasons.push({ code: 'INVALID_CREDENTIAL', message: 'a grant names its grantee in "sub"' });
    else if (options.grantee !== undefined && v.subject !== options.grantee) reasons.push({ code: 'GRANTEE_MISMATCH', message: 'the grant was given to someone else' });
    if (!resourceCovered(resources, resource) || !actionCovered(actions, options.action)) {
      reasons.push({ code: 'GRANT_SCOPE', message: `the grant (as disclosed) does not cover ${options.action.slice(0, 64)} on ${resource.slice(0, 200)}` });
    }
  }
  // The holder the decision names must be the one the key binding proves: the grant's subject only when
  // `cnf` is one of the subject's authentication keys (an issuer may bind another key; its signer is then
  // nobody this grant names).
  let holder: string | undefined;
  if (v.keyBinding && v.subject && v.holderKey) {
    const refusal = await holderKeyReason(options.resolver, v.subject, v.holderKey);
    if (refusal === undefined) holder = v.subject;
    else reasons.push(refusal);
  }
  if (held && reasons.length === 0) {
    try {
      reasons.push(...statusAnswer(await options.status(...held)));
    } catch (e) {
      reasons.push(toReason(e, 'STATUS_UNAVAILABLE'));
    }
  }
  return {
    ok: reasons.length === 0,
    reasons,
    format: 'dc+sd-jwt',
    resource,
    ...(holder !== undefined ? { holder } : {}),
    ...(v.id ? { id: v.id } : {}),
    ...(v.issuer ? { grantor: v.issuer } : {}),
    ...(v.subject ? { grantee: v.subject } : {}),
    ...(c ? { grant: { resources, actions, purpose, ...(terms ? { terms } : {}), ...(v.validUntil ? { validUntil: v.validUntil } : {}) }, disclosed: v.disclosed ?? [] } : {}),
  };
}

/**
 * Why the key binding does not prove the grant's subject, or undefined when `jwk` is one of the
 * authentication keys of `did`'s document (compared as key bytes, base64url spellings aside). As a
 * vp+jwt signed with a key its holder lists for another purpose (DID Core §5.3): a key the subject
 * lists only to assert, invoke or delegate is VERIFICATION_METHOD_NOT_AUTHORIZED; a key it does not
 * list at all is not the subject's (HOLDER_MISMATCH). A document that could not be had is that
 * failure (DID_RESOLUTION_FAILED, DID_NOT_FOUND...), never "not the subject's key".
 */
async function holderKeyReason(resolver: CharterResolver, did: string, jwk: PublicJwk): Promise<Reason | undefined> {
  const bytes = (k: PublicJwk) =>
    [k.kty, k.crv, Buffer.from(String(k.x ?? ''), 'base64url').toString('hex'), Buffer.from(String((k as { y?: unknown }).y ?? ''), 'base64url').toString('hex')].join(' ');
  const want = bytes(jwk);
  const same = (k: PublicJwk) => bytes(k) === want;
  try {
    // The document's own failure first (unreachable, not found, not a DID), as the vp+jwt path names it.
    await resolver.resolve(did);
    if (await listsKey(resolver, did, ['authentication'], same)) return undefined;
    if (await listsKey(resolver, did, ['assertionMethod', 'capabilityInvocation', 'capabilityDelegation'], same)) {
      return { code: 'VERIFICATION_METHOD_NOT_AUTHORIZED', message: "the key binding is signed with a key the grant's subject lists for another purpose than authentication" };
    }
  } catch (e) {
    return toReason(e, 'DID_RESOLUTION_FAILED');
  }
  return { code: 'HOLDER_MISMATCH', message: "the key binding is signed with a key that is not an authentication key of the grant's subject" };
}
