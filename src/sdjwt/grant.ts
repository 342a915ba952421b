import { CharterError, toReason, type Reason } from '../errors.js';
import { defaultSchemaChecker, schemaIdFor, VC_CONTEXT_V2 } from '../credentials/index.js';
import type { Credential, Issuer } from '../credentials/types.js';
import type { CharterResolver } from '../did/types.js';
import type { PublicJwk } from '../keys/types.js';
import { GRANT_TYPE, type GrantDecision } from '../grants/index.js';
import { actionCovered, normalizeGrantResource, normalizeResource, resourceCovered } from '../grants/scope.js';
import type { Store } from '../store/types.js';
import { issueStoredSdJwtVc } from './manage.js';
import { verifySdJwtVc } from './verify.js';
import type { SdJwtStatusChecker, TrustedJwkIssuer } from './types.js';

/** The `vct` of a DataAccessGrant issued as an SD-JWT VC. */
export const GRANT_VCT = 'https://charter.dev/vct/DataAccessGrant';

export interface IssueSdJwtGrantInput {
  grantee: string;
  resources: string[];
  actions: string[];
  purpose: string;
  validUntil: Date;
  validFrom?: Date;
  /** Base URL under which this home's status lists are published. */
  baseUrl: string;
  constraints?: Record<string, unknown>;
  /** The grantee's key for `cnf`; default its DID's authentication key. */
  holderKey?: PublicJwk;
  resolver?: CharterResolver;
}

export interface IssuedSdJwtGrant {
  id: string;
  token: string;
  /** Index in the revocation list. */
  statusIndex: number;
  /** What the holder may withhold: each resource and each action (`grant.resources.0`, ...). */
  disclosable: string[];
}

/** The DataAccessGrant schema (schemas/DataAccessGrant.json) applied to an SD-JWT grant's subject and grant. */
function schemaReasons(grantee: unknown, grant: unknown): Reason[] {
  const shaped = { '@context': [VC_CONTEXT_V2], type: ['VerifiableCredential', GRANT_TYPE], issuer: 'did:example:x', credentialSubject: { id: grantee, grant }, credentialSchema: { id: schemaIdFor(GRANT_TYPE)!, type: 'JsonSchema' } } as Credential;
  return defaultSchemaChecker()(shaped);
}

/**
 * Issues a DataAccessGrant as an SD-JWT VC (DESIGN.md): issuer = data owner,
 * `sub` = grantee and `cnf` its key, a required expiry, a revocation status
 * (Token Status List). Every resource and every action is a disclosure of
 * its own, so the holder reveals only the permission a request needs;
 * `purpose` and `constraints` stay in clear: a holder may hide a permission,
 * never a restriction.
 */
export async function issueSdJwtGrant(store: Store, owner: Issuer, input: IssueSdJwtGrantInput): Promise<IssuedSdJwtGrant> {
  if (!(input.validUntil instanceof Date) || Number.isNaN(input.validUntil.getTime())) throw new CharterError('INVALID_ARGUMENT', 'a grant needs an expiry (validUntil)');
  if (input.validUntil.getTime() <= Date.now()) throw new CharterError('INVALID_ARGUMENT', 'a grant must expire in the future');
  const grant = { resources: input.resources, actions: input.actions, purpose: input.purpose, ...(input.constraints ? { constraints: input.constraints } : {}) };
  const invalid = schemaReasons(input.grantee, grant);
  if (invalid.length > 0) throw new CharterError('SCHEMA_INVALID', invalid[0]!.message);
  const disclosable = [...input.resources.map((_, i) => `grant.resources.${i}`), ...input.actions.map((_, i) => `grant.actions.${i}`)];
  const issued = await issueStoredSdJwtVc(store, owner, {
    subject: input.grantee,
    vct: GRANT_VCT,
    claims: { grant },
    disclosable,
    validUntil: input.validUntil,
    ...(input.validFrom ? { validFrom: input.validFrom } : {}),
    baseUrl: input.baseUrl,
    ...(input.holderKey ? { holderKey: input.holderKey } : {}),
    ...(input.resolver ? { resolver: input.resolver } : {}),
  });
  return { id: issued.id, token: issued.token, statusIndex: issued.statusIndex!, disclosable: issued.disclosable };
}

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
  /** Accept the grant without a key binding (the grantee checking what it received). Default false. */
  allowMissingKeyBinding?: boolean;
  trustedIssuers?: readonly TrustedJwkIssuer[];
}

/** GrantDecision (src/grants/verify.ts), from an SD-JWT grant: `grant` lists only what was disclosed. */
export interface SdJwtGrantDecision extends GrantDecision {
  format: 'dc+sd-jwt';
  disclosed?: string[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);
const GRANT_FIELDS = new Set(['resources', 'actions', 'purpose', 'constraints']);

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
    if (!Array.isArray(grant[k]) || (grant[k] as unknown[]).some((s) => typeof s !== 'string')) out.push({ code: 'SCHEMA_INVALID', message: `grant.${k} must be an array of strings` });
  }
  if (typeof grant.purpose !== 'string' || grant.purpose.length === 0) out.push({ code: 'SCHEMA_INVALID', message: 'grant.purpose must be a non-empty string' });
  if (grant.constraints !== undefined && !isObj(grant.constraints)) out.push({ code: 'SCHEMA_INVALID', message: 'grant.constraints must be an object' });
  return out;
}

/**
 * Does this SD-JWT grant (a presentation by its grantee) allow `action` on
 * `resource` now? The same decision shape, and the same refusals, as
 * verifyGrant for vc+jwt grants, so a guard can take either format.
 */
export async function verifySdJwtGrant(token: string, options: VerifySdJwtGrantOptions): Promise<SdJwtGrantDecision> {
  if (!options || typeof options.status !== 'function') throw new TypeError('verifySdJwtGrant needs options.status (a Token Status List checker)');
  if (typeof options.action !== 'string') throw new TypeError('verifySdJwtGrant needs options.action');
  if ((options.owner !== undefined) === (options.anyOwner === true)) {
    throw new TypeError('verifySdJwtGrant needs exactly one of options.owner (the DID whose data is asked for) or anyOwner: true');
  }
  if ((options as unknown as Record<string, unknown>).at !== undefined) throw new TypeError('verifySdJwtGrant takes "now", not "at"');
  const resource = normalizeResource(options.resource);
  // The status check is held back until the grant's own rules pass: no network for a grant refused anyway.
  let held: Parameters<SdJwtStatusChecker> | undefined;
  const v = await verifySdJwtVc(token, {
    resolver: options.resolver,
    status: async (...args) => {
      held = args;
      return [];
    },
    vct: GRANT_VCT,
    ...(options.now ? { now: options.now } : {}),
    ...(options.skewSeconds !== undefined ? { skewSeconds: options.skewSeconds } : {}),
    ...(options.maxKeyBindingAgeSeconds !== undefined ? { maxKeyBindingAgeSeconds: options.maxKeyBindingAgeSeconds } : {}),
    ...(options.aud !== undefined ? { aud: options.aud } : {}),
    ...(options.nonce !== undefined ? { nonce: options.nonce } : {}),
    ...(options.allowMissingKeyBinding ? { allowMissingKeyBinding: true } : {}),
    ...(options.trustedIssuers ? { trustedIssuers: options.trustedIssuers } : {}),
  });
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
  if (c) {
    if (v.validUntil === undefined) reasons.push({ code: 'INVALID_CREDENTIAL', message: 'a grant must expire (exp)' });
    if (c.status === undefined) reasons.push({ code: 'STATUS_INVALID', message: 'a grant without a revocation status cannot be revoked, so it is refused' });
    reasons.push(...shapeReasons(c.grant));
    // The owner rule of verifyGrant (src/grants/verify.ts), with its codes.
    if (options.owner !== undefined && (typeof options.owner !== 'string' || !options.owner.startsWith('did:'))) {
      reasons.push({ code: 'GRANT_NOT_OWNER', message: `no owner is known for ${resource.slice(0, 200)}, so no grant covers it` });
    } else if (options.owner !== undefined && v.issuer !== options.owner) {
      reasons.push({ code: 'GRANT_NOT_OWNER', message: `the grant was issued by ${String(v.issuer).slice(0, 100)}, not by the owner of ${resource.slice(0, 200)}` });
    }
    if (options.grantee !== undefined && v.subject !== options.grantee) reasons.push({ code: 'GRANTEE_MISMATCH', message: 'the grant was given to someone else' });
    if (!resourceCovered(resources, resource) || !actionCovered(actions, options.action)) {
      reasons.push({ code: 'GRANT_SCOPE', message: `the grant (as disclosed) does not cover ${options.action.slice(0, 64)} on ${resource.slice(0, 200)}` });
    }
  }
  if (held && reasons.length === 0) {
    try {
      reasons.push(...(await options.status(...held)));
    } catch (e) {
      reasons.push(toReason(e, 'STATUS_UNAVAILABLE'));
    }
  }
  return {
    ok: reasons.length === 0,
    reasons,
    format: 'dc+sd-jwt',
    resource,
    ...(v.keyBinding && v.subject ? { holder: v.subject } : {}),
    ...(v.id ? { id: v.id } : {}),
    ...(v.issuer ? { grantor: v.issuer } : {}),
    ...(v.subject ? { grantee: v.subject } : {}),
    ...(c ? { grant: { resources, actions, purpose, ...(v.validUntil ? { validUntil: v.validUntil } : {}) }, disclosed: v.disclosed ?? [] } : {}),
  };
}
