import { CharterError, type Reason } from '../errors.js';
import { defaultSchemaChecker, schemaIdFor, VC_CONTEXT_V2 } from '../credentials/index.js';
import type { Credential, Issuer } from '../credentials/types.js';
import type { CharterResolver } from '../did/types.js';
import type { PublicJwk } from '../keys/types.js';
import { GRANT_TYPE, checkTermsInput, unenforcedConstraints, type GrantTerms } from '../grants/index.js';
import { isObj } from '../encoding/json.js';
import type { Store } from '../store/types.js';
import { issueStoredSdJwtVc } from './manage.js';
import { GRANT_VCT } from './grant-verify.js';

export { GRANT_VCT, verifySdJwtGrant, type VerifySdJwtGrantOptions, type SdJwtGrantDecision } from './grant-verify.js';

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
  /** Terms of use (retention, onward sharing, processing, compensation), in clear like `purpose`: never disclosable. */
  terms?: GrantTerms;
  /**
   * Which lists the holder may disclose item by item: `resources`, `actions`
   * (default both). A list left out is always shown whole. `purpose` and
   * `constraints` and `terms` are never disclosable: a holder may hide a permission, never a restriction.
   */
  disclosable?: readonly ('resources' | 'actions')[];
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
  const shaped = {
    '@context': [VC_CONTEXT_V2],
    type: ['VerifiableCredential', GRANT_TYPE],
    issuer: 'did:example:x',
    credentialSubject: { id: grantee, grant },
    credentialSchema: { id: schemaIdFor(GRANT_TYPE)!, type: 'JsonSchema' },
  } as Credential;
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
  const terms = input.terms === undefined ? undefined : checkTermsInput(input.terms);
  const grant = {
    resources: input.resources,
    actions: input.actions,
    purpose: input.purpose,
    ...(input.constraints ? { constraints: input.constraints } : {}),
    ...(terms ? { terms } : {}),
  };
  // What every verifier refuses (grants/claims.ts unenforcedConstraints) is not issued.
  if (isObj(input.constraints) && Object.keys(input.constraints).length > 0) throw new CharterError('INVALID_ARGUMENT', unenforcedConstraints(input.constraints).message);
  const invalid = schemaReasons(input.grantee, grant);
  if (invalid.length > 0) throw new CharterError('SCHEMA_INVALID', invalid[0]!.message);
  const lists = input.disclosable ?? ['resources', 'actions'];
  const unknown = lists.filter((l) => l !== 'resources' && l !== 'actions');
  if (unknown.length > 0) throw new CharterError('INVALID_ARGUMENT', `only resources and actions may be disclosable, not ${unknown.join(', ').slice(0, 80)}`);
  const disclosable = [
    ...(lists.includes('resources') ? input.resources.map((_, i) => `grant.resources.${i}`) : []),
    ...(lists.includes('actions') ? input.actions.map((_, i) => `grant.actions.${i}`) : []),
  ];
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
