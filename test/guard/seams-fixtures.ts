import { randomUUID } from 'node:crypto';
import { issueGrant, type GrantTerms } from '../../src/grants/index.js';
import { createTokenStatusChecker, GRANT_VCT, issueSdJwtGrant, issueStoredSdJwtVc, presentSdJwtVc } from '../../src/sdjwt/index.js';
import type { SdJwtStatusChecker } from '../../src/sdjwt/types.js';
import { signatureHeaders } from '../../src/httpsig/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import type { PublicJwk, Signer } from '../../src/keys/types.js';
import { API, type World } from '../http/world.js';

/**
 * Inputs for the seam tests (test/guard/seams, test/audit/seams,
 * test/http/seams): each feature's proof built the way its own tests build
 * it, so a seam test differs from them only in what it combines.
 */

export const codes = (d: { reasons?: readonly { code: string }[] }) => (d.reasons ?? []).map((r) => r.code);

/** A Token Status List checker that never caches (a revocation is seen at once). */
export function tokenStatusOf(w: World): SdJwtStatusChecker {
  return (s, ctx) => createTokenStatusChecker({ resolver: w.resolver, allowLoopback: true, allowHttp: true })(s, ctx);
}

/** An SD-JWT DataAccessGrant from alice to the app (or `to`), issued by Charter's own issuer. */
export function sdGrant(w: World, o: { terms?: GrantTerms; to?: string; owner?: Issuer } = {}) {
  return issueSdJwtGrant(w.home.store, o.owner ?? w.alice, {
    grantee: o.to ?? w.app.did,
    resources: ['profile/email', 'photos/*'],
    actions: ['read'],
    purpose: 'seam tests',
    ...(o.terms ? { terms: o.terms } : {}),
    validUntil: new Date(Date.now() + 86_400_000),
    baseUrl: w.server.url,
    resolver: w.resolver,
  });
}

/**
 * An SD-JWT grant as an owner using another issuer might sign it: with
 * `disclosable` paths Charter's issueSdJwtGrant never makes disclosable
 * (`grant.terms`, `grant.terms.processing`, ...). Charter's generic
 * SD-JWT VC issuer will sign one, so a verifier must not rely on grants
 * being issued by issueSdJwtGrant.
 */
export async function oddSdGrant(w: World, grant: Record<string, unknown>, disclosable: string[]) {
  return issueStoredSdJwtVc(w.home.store, w.alice, {
    subject: w.app.did,
    vct: GRANT_VCT,
    claims: { grant },
    disclosable,
    validUntil: new Date(Date.now() + 86_400_000),
    baseUrl: w.server.url,
    resolver: w.resolver,
  });
}

/** An SD-JWT grant presentation bound to one HTTP request (as charterFetch builds it). */
export function sdPresent(token: string, o: { url: string; method?: string; nonce?: string; holder: Issuer; disclose?: string[]; aud?: string }): Promise<string> {
  const u = new URL(o.url);
  return presentSdJwtVc(token, {
    holder: o.holder,
    disclose: o.disclose ?? ['grant'],
    aud: o.aud ?? API,
    nonce: o.nonce ?? randomUUID(),
    claims: { htm: o.method ?? 'GET', htu: u.origin + u.pathname },
  });
}

/** A vc+jwt DataAccessGrant from alice to the app, with terms. */
export function vcGrant(w: World, terms?: GrantTerms) {
  return issueGrant(w.home.store, w.alice, {
    grantee: w.app.did,
    resources: ['profile/email'],
    actions: ['read'],
    purpose: 'seam tests',
    ...(terms ? { terms } : {}),
    validUntil: new Date(Date.now() + 86_400_000),
    baseUrl: w.server.url,
  });
}

/** The RFC 9421 (Web Bot Auth) headers of one request, signed by `by` with a fresh nonce (or `nonce`). */
export async function signed(by: { signer: Signer; publicJwk: PublicJwk }, url: string, method = 'GET', o: { nonce?: string } = {}): Promise<Record<string, string>> {
  const h = await signatureHeaders({ method, url, headers: {} }, { signer: by.signer, publicJwk: by.publicJwk, ...(o.nonce !== undefined ? { nonce: o.nonce } : {}) });
  return Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
