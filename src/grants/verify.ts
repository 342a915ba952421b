import { decodeJwt, soleSubject, verifyCredential, verifyPresentation } from '../credentials/index.js';
import type { Credential, CredentialVerification, StatusChecker } from '../credentials/types.js';
import type { CharterResolver } from '../did/types.js';
import type { Reason } from '../errors.js';
import { GRANT_TYPE } from './issue.js';
import { actionCovered, resourceCovered } from './scope.js';

export interface VerifyGrantOptions {
  resolver: CharterResolver;
  status: StatusChecker;
  resource: string;
  action: string;
  /** The party asking; must be the grant's subject. */
  grantee?: string;
  at?: Date;
  skewSeconds?: number;
  /** For a presentation: this verifier and the nonce it sent. */
  aud?: string;
  nonce?: string;
  allowMissingNonce?: boolean;
}

export interface GrantDecision {
  ok: boolean;
  reasons: Reason[];
  id?: string;
  grantor?: string;
  grantee?: string;
  grant?: { resources: string[]; actions: string[]; purpose: string; validUntil?: string };
  credential?: Credential;
}

function isPresentation(jwt: string): boolean {
  try {
    const d = decodeJwt(jwt, { maxBytes: 512 * 1024 });
    return d.header.typ === 'vp+jwt' || typeof d.payload.vp === 'object';
  } catch {
    return false;
  }
}

function decide(v: CredentialVerification, options: VerifyGrantOptions, extra: Reason[]): GrantDecision {
  const reasons = [...extra, ...v.reasons];
  const c = v.credential;
  const g = ((c && soleSubject(c))?.grant ?? {}) as { resources?: string[]; actions?: string[]; purpose?: string };
  if (c) {
    if (!c.type.includes(GRANT_TYPE)) reasons.push({ code: 'INVALID_CREDENTIAL', message: 'not a DataAccessGrant' });
    if (c.validUntil === undefined) reasons.push({ code: 'INVALID_CREDENTIAL', message: 'a grant must expire (validUntil)' });
    const entries = c.credentialStatus === undefined ? [] : Array.isArray(c.credentialStatus) ? c.credentialStatus : [c.credentialStatus];
    if (!entries.some((e) => e.statusPurpose === 'revocation')) reasons.push({ code: 'STATUS_INVALID', message: 'a grant without a revocation status entry cannot be revoked, so it is refused' });
    if (options.grantee !== undefined && v.subject !== options.grantee) reasons.push({ code: 'GRANTEE_MISMATCH', message: 'the grant was given to someone else' });
    if (!resourceCovered(g.resources ?? [], options.resource) || !actionCovered(g.actions ?? [], options.action)) {
      reasons.push({ code: 'GRANT_SCOPE', message: `the grant does not cover ${options.action.slice(0, 64)} on ${options.resource.slice(0, 200)}` });
    }
  }
  return {
    ok: reasons.length === 0,
    reasons,
    ...(v.id ? { id: v.id } : {}),
    ...(v.issuer ? { grantor: v.issuer } : {}),
    ...(v.subject ? { grantee: v.subject } : {}),
    ...(c ? { grant: { resources: g.resources ?? [], actions: g.actions ?? [], purpose: g.purpose ?? '', ...(c.validUntil ? { validUntil: c.validUntil } : {}) }, credential: c } : {}),
  };
}

/**
 * Does this grant (a DataAccessGrant JWT, or a presentation of one by its
 * grantee) allow `action` on `resource` now? A decision with every reason.
 */
export async function verifyGrant(jwt: string, options: VerifyGrantOptions): Promise<GrantDecision> {
  const common = { resolver: options.resolver, status: options.status, ...(options.at ? { now: options.at } : {}), ...(options.skewSeconds !== undefined ? { skewSeconds: options.skewSeconds } : {}) };
  if (!isPresentation(jwt)) return decide(await verifyCredential(jwt, common), options, []);
  if (options.aud === undefined) throw new TypeError('verifying a presented grant needs options.aud (and nonce)');
  const p = await verifyPresentation(jwt, { ...common, aud: options.aud, ...(options.nonce !== undefined ? { nonce: options.nonce } : {}), allowMissingNonce: options.allowMissingNonce === true });
  const presentationReasons = p.reasons.filter((r) => r.ref === undefined);
  if (options.grantee !== undefined && p.holder !== undefined && p.holder !== options.grantee) {
    presentationReasons.push({ code: 'GRANTEE_MISMATCH', message: 'the presentation is signed by someone other than the grantee' });
  }
  const grants = p.credentials.filter((c) => c.credential?.type.includes(GRANT_TYPE));
  if (grants.length === 0) return { ok: false, reasons: [...presentationReasons, { code: 'GRANT_SCOPE', message: 'the presentation holds no DataAccessGrant' }] };
  const holderReasons = (c: CredentialVerification) => p.reasons.filter((r) => r.code === 'HOLDER_MISMATCH' && r.ref === (c.id ?? ''));
  const decisions = grants.map((c) => decide(c, options, [...presentationReasons, ...holderReasons(c)]));
  return decisions.find((d) => d.ok) ?? decisions[0]!;
}
