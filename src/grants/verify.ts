import { decodeJwt, soleSubject, statusEntriesOf, unreadMembers, unreadTermsOfUse, verifyCredential, type DecodedJwt } from '../credentials/index.js';
import { verifyDecodedPresentation } from '../credentials/present.js';
import { statusAnswer } from '../credentials/verify.js';
import type { Credential, CredentialVerification, StatusChecker } from '../credentials/types.js';
import { DEFAULT_MAX_AGE_SECONDS } from '../credentials/time.js';
import type { CharterResolver } from '../did/types.js';
import { readOptions, type OptionSpec } from '../encoding/options.js';
import { toReason, type Reason, shown } from '../errors.js';
import { GRANT_TYPE } from './issue.js';
import { readGrantClaims, type GrantClaims } from './claims.js';
import { actionCovered, normalizeResource, resourceCovered } from './scope.js';
import { checkDeclaredUse, termsReasons, type DeclaredProcessing } from './terms.js';
import { checkCollectiveGrant, type PoolGrantInfo } from './collective.js';

export interface VerifyGrantOptions {
  resolver: CharterResolver;
  status: StatusChecker;
  /** The resource asked for (normalised here; RESOURCE_INVALID when it cannot be). */
  resource: string;
  action: string;
  /**
   * Who owns the requested resource: a grant allows access only to its
   * issuer's own data, so a grant issued by anyone else is refused
   * (GRANT_NOT_OWNER). Give `owner` or, explicitly, `anyOwner: true`.
   * For a pool's grant, the owner must be a current member of that pool:
   * in the membership snapshot the grant was voted in, not withdrawn now.
   */
  owner?: string;
  /** Accept a grant from any issuer (the resource belongs to no one person). Never the default. */
  anyOwner?: boolean;
  /** The party asking; must be the grant's subject. For a presentation, the holder must be too. */
  grantee?: string;
  /** Verification time. Default now. */
  now?: Date;
  /** Clock skew, seconds. Default 60, at most 300. */
  skewSeconds?: number;
  /** For a presentation: this verifier and the nonce it sent. */
  aud?: string;
  nonce?: string;
  allowMissingNonce?: boolean;
  /** For a presentation: most seconds since its iat. Default 300. */
  maxAgeSeconds?: number;
  /** The purpose this use is for (e.g. `model-training`): a grant whose terms limit purposes must name it (PURPOSE_NOT_ALLOWED). */
  purpose?: string;
  /** Where this verifier processes the data: a grant limited to on-device or trusted-execution must match (PROCESSING_NOT_ALLOWED). */
  processing?: DeclaredProcessing;
}

export interface GrantDecision {
  ok: boolean;
  reasons: Reason[];
  id?: string;
  grantor?: string;
  grantee?: string;
  /** The presentation's holder, when a presentation was verified. */
  holder?: string;
  /** The requested resource, normalised. */
  resource?: string;
  grant?: GrantClaims & { validUntil?: string };
  credential?: Credential;
  /** The presentation's claims (jti, iat, htm, htu, nonce), when a presentation was verified. */
  payload?: Record<string, unknown>;
  /** For a pool's grant: the pool, the snapshot it was voted in and whose approvals counted. */
  pool?: PoolGrantInfo;
}

const isVpTyp = (typ: string) => /^(application\/)?vp\+jwt$/i.test(typ);
/** No typ, or the generic JWT one (RFC 7519 §5.1): the payload decides, as credentials/present.ts `unwrap` reads it (a VCDM 1.1 vp claim). */
const isGenericTyp = (typ: unknown) => typ === undefined || (typeof typ === 'string' && /^(application\/)?jwt$/i.test(typ));
const hasVp = (payload: Record<string, unknown>) => typeof payload.vp === 'object' && payload.vp !== null && !Array.isArray(payload.vp);

/** Is `jwt` a presentation (vp+jwt, or a generic-typ JWT with a vp claim) rather than a bare grant? Internal: the CLI asks it too. */
export function isPresentation(jwt: string, decoded?: DecodedJwt): boolean {
  if (decoded) return isGenericTyp(decoded.header.typ) ? hasVp(decoded.payload) : typeof decoded.header.typ === 'string' && isVpTyp(decoded.header.typ);
  // The header says so when it has a typ: no need to decode a large payload (a pool grant carries its votes) twice.
  const dot = typeof jwt === 'string' ? jwt.indexOf('.') : -1;
  if (dot > 0 && dot < 4096) {
    try {
      const typ = (JSON.parse(Buffer.from(jwt.slice(0, dot), 'base64url').toString('utf8')) as { typ?: unknown }).typ;
      if (typeof typ === 'string' && !isGenericTyp(typ)) return isVpTyp(typ);
    } catch {
      // decoded in full below, which reports what is wrong
    }
  }
  try {
    const d = decodeJwt(jwt, { maxBytes: 512 * 1024 });
    return isGenericTyp(d.header.typ) ? hasVp(d.payload) : typeof d.header.typ === 'string' && isVpTyp(d.header.typ);
  } catch {
    return false;
  }
}

const OPTIONS: OptionSpec<VerifyGrantOptions> = {
  resolver: true,
  status: true,
  resource: true,
  action: true,
  owner: true,
  anyOwner: 'boolean',
  grantee: true,
  now: true,
  skewSeconds: true,
  aud: true,
  nonce: true,
  allowMissingNonce: 'boolean',
  maxAgeSeconds: true,
  purpose: true,
  processing: true,
};

function checkOptions(o: VerifyGrantOptions): void {
  if (!o || typeof o.resolver?.resolveKey !== 'function') throw new TypeError('verifyGrant needs options.resolver');
  if (typeof o.status !== 'function') throw new TypeError('verifyGrant needs options.status (grants are revocable)');
  if (typeof o.action !== 'string') throw new TypeError('verifyGrant needs options.action');
  if ((o.owner !== undefined) === (o.anyOwner === true)) {
    throw new TypeError('verifyGrant needs exactly one of options.owner (the DID whose data is asked for) or anyOwner: true');
  }
  checkDeclaredUse('verifyGrant', o);
}

/**
 * The status checks verifyCredential asks for, held back until the grant's
 * own rules pass (as verifySdJwtGrant does): a grant refused anyway (a
 * stranger's, out of scope) makes no fetch, so no one can make a verifier
 * fetch up to 16 list URLs of their choosing, or push honest lists out of its
 * cache, by presenting a grant of their own.
 */
function holdStatus(status: StatusChecker): { status: StatusChecker; run(c: Credential | undefined): Promise<Reason[]> } {
  const held = new Map<Credential, Parameters<StatusChecker>>();
  return {
    status: (credential, ctx) => {
      held.set(credential, [credential, ctx]);
      return Promise.resolve([]);
    },
    async run(c) {
      const args = c === undefined ? undefined : held.get(c);
      if (args === undefined) return [];
      try {
        return statusAnswer(await status(...args));
      } catch (e) {
        return [toReason(e, 'STATUS_UNAVAILABLE')];
      }
    },
  };
}

const GRANT_SUBJECT = new Set(['id', 'grant', 'pool']);
/**
 * What a grant may carry beside its subject: the VCDM 2.0 (and 1.1) credential properties, whose meaning
 * Charter knows and which restrict nothing it does not check, and the JWT claims standing for them
 * (VC-JOSE-COSE §3.1.2). Anything else at the top level (`terms`, `restrictions`...) would be a rule
 * read by some verifiers and not by Charter: refused (UNKNOWN_CONSTRAINT), as in the subject and as the
 * SD-JWT twin does.
 */
const GRANT_TOP = new Set([
  '@context',
  'id',
  'type',
  'issuer',
  'credentialSubject',
  'validFrom',
  'validUntil',
  'issuanceDate',
  'expirationDate',
  'credentialStatus',
  'credentialSchema',
  'termsOfUse',
  'evidence',
  'name',
  'description',
  'proof',
  'relatedResource',
  'renderMethod',
  'refreshService',
  'iss',
  'sub',
  'jti',
  'nbf',
  'exp',
  'iat',
  'aud',
]);

async function decide(v: CredentialVerification, o: VerifyGrantOptions, resource: string, extra: Reason[], held: ReturnType<typeof holdStatus>): Promise<GrantDecision> {
  const reasons = [...extra, ...v.reasons];
  const c = v.credential;
  let grant: GrantClaims | undefined;
  let pool: PoolGrantInfo | undefined;
  if (c) {
    if (!c.type.includes(GRANT_TYPE)) reasons.push({ code: 'INVALID_CREDENTIAL', message: 'not a DataAccessGrant' });
    if (c.validUntil === undefined) reasons.push({ code: 'INVALID_CREDENTIAL', message: 'a grant must expire (validUntil)' });
    if (!statusEntriesOf(c).some((e) => e.statusPurpose === 'revocation'))
      reasons.push({ code: 'STATUS_INVALID', message: 'a grant without a revocation status entry cannot be revoked, so it is refused' });
    const read = readGrantClaims(soleSubject(c)?.grant);
    reasons.push(...read.reasons);
    // The grantee, the grant and (for a pool's grant) the pool: `terms` or `constraints` beside `grant` would be unread.
    for (const r of [
      unreadMembers('grant', c as unknown as Record<string, unknown>, GRANT_TOP),
      unreadMembers('grant subject', soleSubject(c), GRANT_SUBJECT),
      unreadTermsOfUse('grant', c),
    ])
      if (r) reasons.push(r);
    grant = read.grant;
    const collective = soleSubject(c)?.pool !== undefined;
    if (o.owner !== undefined && (typeof o.owner !== 'string' || !o.owner.startsWith('did:'))) {
      reasons.push({ code: 'GRANT_NOT_OWNER', message: `no owner is known for ${resource.slice(0, 200)}, so no grant covers it` });
    } else if (o.owner !== undefined && v.issuer !== o.owner && !collective) {
      reasons.push({ code: 'GRANT_NOT_OWNER', message: `the grant was issued by ${shown(v.issuer, 100)}, not by the owner of ${resource.slice(0, 200)}` });
    }
    // A pool's grant: its quorum, checked here whoever the owner is, and the owner's membership now.
    // Only for an otherwise authentic grant: no vote is fetched or verified for a forgery.
    if (collective && grant && v.issuer && reasons.length === 0) {
      const checked = await checkCollectiveGrant(c, v.issuer, v.subject, grant, {
        resolver: o.resolver,
        status: o.status,
        ...(typeof o.owner === 'string' && o.owner.startsWith('did:') ? { owner: o.owner } : {}),
        ...(o.now ? { now: o.now } : {}),
        ...(o.skewSeconds !== undefined ? { skewSeconds: o.skewSeconds } : {}),
        jwt: v.jwt,
      });
      reasons.push(...checked.reasons);
      pool = checked.info;
    }
    reasons.push(
      ...termsReasons(grant?.terms, { ...(o.purpose !== undefined ? { purpose: o.purpose } : {}), ...(o.processing !== undefined ? { processing: o.processing } : {}) }),
    );
    if (o.grantee !== undefined && v.subject !== o.grantee) reasons.push({ code: 'GRANTEE_MISMATCH', message: 'the grant was given to someone else' });
    if (grant && (!resourceCovered(grant.resources, resource) || !actionCovered(grant.actions, o.action))) {
      reasons.push({ code: 'GRANT_SCOPE', message: `the grant does not cover ${o.action.slice(0, 64)} on ${resource.slice(0, 200)}` });
    }
    // Status last: the one check that may cost a fetch, made only for a grant that passes everything else.
    if (reasons.length === 0) reasons.push(...(await held.run(c)));
  }
  return {
    ok: reasons.length === 0,
    reasons,
    resource,
    ...(v.id ? { id: v.id } : {}),
    ...(v.issuer ? { grantor: v.issuer } : {}),
    ...(v.subject ? { grantee: v.subject } : {}),
    ...(c && grant ? { grant: { ...grant, ...(c.validUntil ? { validUntil: c.validUntil } : {}) } } : {}),
    ...(c ? { credential: c } : {}),
    ...(pool ? { pool } : {}),
  };
}

/**
 * Does this grant (a DataAccessGrant JWT, or a presentation of one by its
 * grantee) allow `action` on `resource`, owned by `owner`, now? A decision
 * with every reason. The resource is normalised first: a path that cannot
 * be (a ".." segment, double encoding) throws RESOURCE_INVALID, as a
 * malformed request.
 */
export function verifyGrant(jwt: string, options: VerifyGrantOptions): Promise<GrantDecision> {
  return verifyDecodedGrant(jwt, undefined, options);
}

/**
 * verifyGrant for a caller that already decoded the presentation `jwt`
 * (the guard, which checks its binding first): `decoded` must be
 * decodeJwt(jwt, { maxBytes: 512 KiB })'s result for these very bytes, so
 * it is not parsed again. Internal: not exported from the package.
 */
export async function verifyDecodedGrant(jwt: string, decoded: DecodedJwt | undefined, given: VerifyGrantOptions): Promise<GrantDecision> {
  if (given && typeof given === 'object' && (given as unknown as Record<string, unknown>).at !== undefined) throw new TypeError('verifyGrant takes "now", not "at"');
  // One plain copy, read once (encoding/options.ts): decide() reads owner, grantee, action and purpose after
  // awaiting the signature checks, and must read what this call was asked, not what the object holds by then.
  const options = readOptions('verifyGrant', given, OPTIONS);
  checkOptions(options);
  const resource = normalizeResource(options.resource);
  const held = holdStatus(options.status);
  const common = {
    resolver: options.resolver,
    status: held.status,
    ...(options.now ? { now: options.now } : {}),
    ...(options.skewSeconds !== undefined ? { skewSeconds: options.skewSeconds } : {}),
  };
  if (!isPresentation(jwt, decoded)) {
    // A caller naming an audience or a nonce is checking who presents the grant: the grant alone, which anyone
    // who saw it can send, proves nothing of that (Veramo's charterVerifyGrant passes its aud).
    if (options.aud !== undefined || options.nonce !== undefined) {
      return {
        ok: false,
        reasons: [{ code: 'INVALID_PRESENTATION', message: 'a grant on its own proves nothing about who presents it: send a presentation of it (vp+jwt) for this aud and nonce' }],
        resource,
      };
    }
    return decide(await verifyCredential(jwt, common), options, resource, [], held);
  }
  if (options.aud === undefined) throw new TypeError('verifying a presented grant needs options.aud (and nonce)');
  const p = await verifyDecodedPresentation(jwt, decoded, {
    ...common,
    aud: options.aud,
    ...(options.nonce !== undefined ? { nonce: options.nonce } : {}),
    allowMissingNonce: options.allowMissingNonce === true,
    maxAgeSeconds: options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS,
  });
  const presentationReasons = p.reasons.filter((r) => r.ref === undefined);
  if (options.grantee !== undefined && p.holder !== undefined && p.holder !== options.grantee) {
    presentationReasons.push({ code: 'GRANTEE_MISMATCH', message: 'the presentation is signed by someone other than the grantee' });
  }
  const base = { ...(p.holder !== undefined ? { holder: p.holder } : {}), ...(p.payload ? { payload: p.payload } : {}) };
  const grants = p.credentials.flatMap((c, i) => (c.credential?.type.includes(GRANT_TYPE) ? [i] : []));
  if (grants.length === 0) {
    // A credential that does not even decode may have been meant as the grant: say so (MALFORMED_JWT, 401,
    // as a forged one is INVALID_SIGNATURE), rather than only that no grant was found.
    const undecodable = p.credentials.flatMap((c, i) => (c.credential === undefined ? c.reasons.map((r) => ({ ...r, ref: c.id ?? `credential ${i}` })) : []));
    return { ok: false, reasons: [...presentationReasons, ...undecodable, { code: 'GRANT_MISSING', message: 'the presentation holds no DataAccessGrant' }], resource, ...base };
  }
  // Each grant is judged with the presentation's own reasons and its own holder binding, checked here on
  // the credential itself: whatever its id (or none), a grant is usable only by its subject.
  const decisions = await Promise.all(
    grants.map(async (i) => {
      const c = p.credentials[i]!;
      const binding: Reason[] =
        c.credential !== undefined && (c.subject === undefined || c.subject !== p.holder)
          ? [{ code: 'HOLDER_MISMATCH', message: 'the grant is about someone other than the holder' }]
          : [];
      return { ...(await decide(c, options, resource, [...presentationReasons, ...binding], held)), ...base };
    }),
  );
  return decisions.find((d) => d.ok) ?? decisions[0]!;
}
