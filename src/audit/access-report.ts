import { randomUUID } from 'node:crypto';
import { METHODS } from 'node:http';
import { CharterError, ERROR_CODES, remoteReason, type Reason } from '../errors.js';
import { decodeCredential, decodeJwt, soleSubject, statusEntriesOf, type Issuer } from '../credentials/index.js';
import { safeFetch, type AddressPolicy } from '../did/index.js';
import type { CharterResolver } from '../did/types.js';
import {
  actionCovered,
  GRANT_ACTION,
  GRANT_TYPE,
  normalizeGrantResource,
  normalizeResource,
  PURPOSES,
  readGrantClaims,
  resourceCovered,
  SD_JWT_GRANT_VCT,
} from '../grants/index.js';
import type { AccessReceiptRecord, AccessReportStore, AuditStore, CredentialStore } from '../store/types.js';
import { ACCESS_REPORT_TYP, checkAuditJws, signCanonical } from './jws.js';
import { sha256Digest } from '../encoding/json.js';
import { isDecimal } from '../encoding/decimal.js';
import { isCurrency } from '../encoding/currency.js';
import { htuOf } from '../credentials/binding.js';
import { jwsSpellings } from '../credentials/twins.js';
import { parseDisclosure, processDisclosures } from '../sdjwt/disclosures.js';
import { isSdHashAlg } from '../sdjwt/hash.js';
import { checkReceipt, decodeReceipt, ownerFormsClash, receiptShapeReasons, type DecisionReceipt } from './receipt.js';

/**
 * Access reports: a platform may send the person who granted it access the
 * receipts of the decisions taken under that grant, so the person sees which
 * platform used which grant, when, and for what. Voluntary for platforms. A
 * report is signed by the platform (`typ: charter-access-report+jwt`) and
 * names only the grant id and the receipts (which hold hashes and ids): no
 * personal data beyond what the grant already names.
 */
export const MAX_REPORT_RECEIPTS = 100;
/** A report holds up to 100 receipts of up to 64 KiB each in principle; 512 KiB is what `charter serve` reads. */
export const MAX_REPORT_BYTES = 512 * 1024;
/** A report older than this is refused (its receipts are accepted from a fresh one). */
const MAX_REPORT_AGE_SECONDS = 24 * 3600;

export interface AccessReportInput {
  /** The grant's id. */
  grant: string;
  /** Decision receipts of uses of the grant (signed by the verifier that decided). */
  receipts: readonly string[];
  /**
   * The home the report is for (RFC 7519 §4.1.3): its report URL, as `accessReportUrl(grant)` gives it
   * (sendAccessReport passes that itself). A home refuses a report naming another (AUDIENCE_MISMATCH).
   */
  aud: string;
}

/** The path of a home's report endpoint, beside its status lists: every grant's issuer is sent its reports there. */
const REPORT_PATH = '/access-reports';

/**
 * The report URL of a home whose public URL is `publicUrl` (what its `charter serve` takes as a report's
 * `aud`): `<publicUrl>/access-reports`, path included, the same URL accessReportUrl finds from a grant
 * issued there (whose status lists are at `<publicUrl>/status/<id>`), as the WHATWG URL parser writes it.
 * A home behind a path prefix (`https://host/alice`, a proxy taking `/alice` off) is its own: two homes
 * sharing a host are two audiences.
 */
export function homeReportUrl(publicUrl: string): string {
  // Parsed first: a query or fragment (which `charter config set public-url` refuses, a library caller may
  // pass) is no part of the base, and must not swallow the path appended after it.
  const u = new URL(publicUrl);
  u.search = '';
  u.hash = '';
  u.pathname = `${u.pathname.replace(/\/+$/, '')}${REPORT_PATH}`;
  return u.href;
}

/** A Charter status list's path (status/list.ts, status/token-issuer.ts): `<base path>/status/<id>` or `<base path>/statuslists/<id>`. */
const STATUS_LIST_PATH = /^(.*)\/(?:status|statuslists)\/[^/]+$/;

/** Signs an access report as `reporter` (the verifier, or the grantee), for the home at `input.aud`. */
export async function createAccessReport(reporter: Issuer, input: AccessReportInput): Promise<string> {
  if (typeof input?.grant !== 'string' || !Array.isArray(input.receipts) || input.receipts.length === 0 || input.receipts.length > MAX_REPORT_RECEIPTS) {
    throw new CharterError('INVALID_ARGUMENT', `an access report names a grant and 1 to ${MAX_REPORT_RECEIPTS} receipts`);
  }
  // The home compares its own URL, as written, with `aud`: another spelling of it is never this home's.
  if (!isUrl(input.aud) || new URL(input.aud).href !== input.aud) {
    throw new CharterError('INVALID_ARGUMENT', "an access report names the home it is for (aud): the grantor's report URL as accessReportUrl(grant) gives it");
  }
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: reporter.did, aud: input.aud, jti: `urn:uuid:${randomUUID()}`, iat: now, grant: input.grant, receipts: [...input.receipts] };
  return (await signCanonical(ACCESS_REPORT_TYP, claims, reporter)).jws;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A grant as issued, vc+jwt or SD-JWT VC, read without verifying it: its id, issuer and (first) status list's URL. */
function grantPointers(token: string): { id: unknown; issuer: unknown; statusUrl: unknown; collective?: true } {
  if (typeof token !== 'string') throw new CharterError('INVALID_ARGUMENT', 'the grant is a vc+jwt or an SD-JWT VC, as a string');
  if (token.includes('~')) {
    // An SD-JWT VC (`<jwt>~<disclosure>~…~`): `jti` and the Token Status List's `status.status_list.uri`.
    const p = decodeJwt(token.slice(0, token.indexOf('~'))).payload;
    return { id: p.jti, issuer: p.iss, statusUrl: isObj(p.status) && isObj(p.status.status_list) ? p.status.status_list.uri : undefined };
  }
  const c = decodeCredential(token);
  return {
    id: c.id,
    issuer: typeof c.issuer === 'string' ? c.issuer : c.issuer?.id,
    statusUrl: statusEntriesOf(c)[0]?.statusListCredential,
    // A pool's grant (grants/verify.ts): issued by the pool, for its members' data.
    ...(soleSubject(c)?.pool !== undefined ? { collective: true as const } : {}),
  };
}

/** The id of a grant in either format (a vc+jwt's `id`, an SD-JWT VC's `jti`): INVALID_ARGUMENT when it has none. */
export function grantIdOf(grant: string): string {
  const { id } = grantPointers(grant);
  if (typeof id !== 'string' || id.length === 0) throw new CharterError('INVALID_ARGUMENT', 'the grant has no id');
  return id;
}

/**
 * Where the grantor's `charter serve` takes access reports: beside the
 * grant's status list (its own server), at `/access-reports`. The grant is
 * not verified here: its status list must be an http(s) URL without
 * credentials (INVALID_ARGUMENT otherwise); sendAccessReport then applies
 * its address policy to where that URL leads.
 */
export function accessReportUrl(grantJwt: string): string {
  const status = grantPointers(grantJwt).statusUrl;
  if (typeof status !== 'string') throw new CharterError('INVALID_ARGUMENT', 'the grant names no status list, so no server of its grantor to report to');
  let u: URL;
  try {
    u = new URL(status);
    // Beside the status list, under the same base path: the home that serves `<base>/status/<id>` takes
    // reports at `<base>/access-reports` (homeReportUrl of its public URL `<base>`), not at the host's root,
    // which may be another home's (or nobody's) when homes share a host under path prefixes.
    u.pathname = `${STATUS_LIST_PATH.exec(u.pathname)?.[1] ?? ''}${REPORT_PATH}`;
    u.search = '';
    u.hash = '';
  } catch {
    throw new CharterError('INVALID_ARGUMENT', "the grant's status list is not a URL, so no server of its grantor to report to");
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    throw new CharterError('INVALID_ARGUMENT', `the grant's status list is not an http(s) URL (${u.protocol.slice(0, 20)}): no server to report to`);
  if (u.username !== '' || u.password !== '') throw new CharterError('INVALID_ARGUMENT', "the grant's status list URL carries credentials: no server to report to");
  return u.href;
}

/**
 * Where sendAccessReport may post, and for how long. The URL comes from a
 * grant nobody verified, so, as for every fetch Charter makes: https to
 * public addresses only unless the caller allows more.
 */
export interface SendAccessReportOptions extends AddressPolicy {
  /** Allow an `http:` server on a loopback host (a grantor's `charter serve`, for testing); plain http elsewhere is refused. Default false. */
  allowHttp?: boolean;
  /** The whole exchange's deadline, ms. Default 30,000 (the grantor takes up to 15 s to check a report). */
  timeoutMs?: number;
  /** Largest answer read, bytes. Default 64 KiB. */
  maxBytes?: number;
}
const SEND_TIMEOUT_MS = 30_000;
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Sends a report to the grantor's server (found from the grant, vc+jwt or
 * SD-JWT VC); resolves with the server's status and what it accepted. Every
 * failure to deliver is a CharterError: INVALID_ARGUMENT (no usable URL in
 * the grant), FORBIDDEN_ADDRESS (http or a loopback, private or link-local
 * address not allowed), UNREACHABLE (connection, redirect, deadline),
 * INPUT_TOO_LARGE (an answer over maxBytes).
 */
export async function sendAccessReport(
  reporter: Issuer,
  input: { grant: string; receipts: readonly string[] },
  options: SendAccessReportOptions = {},
): Promise<{ status: number; accepted: number }> {
  const { id } = grantPointers(input?.grant);
  if (typeof id !== 'string') throw new CharterError('INVALID_ARGUMENT', 'the grant has no id');
  const url = accessReportUrl(input.grant);
  const receipts = reportableReceipts(input.grant, input.receipts);
  if (receipts.length === 0 && Array.isArray(input.receipts) && input.receipts.length > 0) {
    throw new CharterError('INVALID_ARGUMENT', "none of the receipts is a use on the grantor's own resources: nothing to report");
  }
  // Addressed to where it is posted: another home it is replayed to refuses it (acceptAccessReport).
  const report = await createAccessReport(reporter, { grant: id, receipts, aud: url });
  // safeFetch's rules (did/fetch.ts), as for every request Charter makes: the address policy, no
  // redirect, one deadline, the answer capped; whatever status the server answers is its answer.
  const res = await safeFetch(url, {
    allowLoopback: options.allowLoopback === true,
    allowPrivate: options.allowPrivate === true,
    allowHttp: options.allowHttp === true,
    timeoutMs: options.timeoutMs ?? SEND_TIMEOUT_MS,
    maxBytes: options.maxBytes ?? MAX_ANSWER_BYTES,
    post: { body: Buffer.from(report, 'utf8'), contentType: 'application/jwt' },
    anyStatus: true,
    failCode: 'UNREACHABLE',
    tooLargeCode: 'INPUT_TOO_LARGE',
  });
  let accepted = 0;
  if (res.status >= 200 && res.status < 300) {
    try {
      const n = (JSON.parse(res.body.toString('utf8')) as { accepted?: unknown } | null)?.accepted;
      if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= input.receipts.length) accepted = n;
    } catch {
      // Not JSON: nothing is known to be accepted.
    }
  }
  return { status: res.status, accepted };
}

/**
 * The receipts a report to the grant's issuer may carry: a decision on a resource the receipt names
 * another owner of (`policy.owner`, a grantee presenting the grant on a third party's resource, refused
 * GRANT_NOT_OWNER: its receipt withholds that owner, `policy.ownerWithheld`) is about that third party,
 * who is none of the grantor's business. Receipts that do not decode are passed on as they are (the
 * grantor's home refuses them).
 */
export function reportableReceipts(grant: string, receipts: readonly string[]): string[] {
  const { issuer, collective } = grantPointers(grant);
  if (!Array.isArray(receipts)) return [];
  return receipts.filter((jws) => {
    try {
      const r = decodeReceipt(jws);
      if (r.kind !== 'decision' || r.policy?.kind !== 'grant') return true;
      // A refusal withholding its owner (guard/receipt.ts) is one where the grant was not the owner's: a third party's too.
      // A pool's grant covers its members' data: an allow names the member whose data it was, never the pool.
      return r.policy.ownerWithheld === undefined && (r.policy.owner === undefined || r.policy.owner === issuer || collective === true);
    } catch {
      return true;
    }
  });
}

export interface AccessReportResult {
  ok: boolean;
  reasons: Reason[];
  /** Refused by `admit` (a rate limit): seconds to wait. */
  retryAfter?: number;
  grant?: string;
  reporter?: string;
  /** How many receipts were new. */
  accepted: number;
  /** Receipts not taken, by position, with why. */
  refused: { index: number; code: Reason['code']; message: string }[];
}

const refuse = (code: Reason['code'], message: string): AccessReportResult => ({ ok: false, reasons: [{ code, message }], accepted: 0, refused: [] });

/** Clock skew allowed on a reported use's time. */
const SKEW_MS = 300_000;
/** Reported uses one home keeps per grant: reports are voluntary and unpaid for, so their storage is bounded. */
export const MAX_KEPT_PER_GRANT = 1000;

/** What a reported receipt is held to, read from the grant as issued here. */
interface GrantFacts {
  /** Normalised resources and the actions: an allowed use lies inside them. */
  resources: string[];
  actions: string[];
  /** The purposes its terms limit use to, and the processing they require (absent: none). */
  purposes?: string[];
  processing?: string;
  /** Its VCDM types beside VerifiableCredential (a vc+jwt grant; none for an SD-JWT). */
  types: string[];
  /** A pool's grant: the data it covers is its members', never the pool's own (grants/verify.ts). */
  collective?: true;
}

/**
 * An SD-JWT grant's claims as this home issued it, every disclosure applied (the issuer reading its own
 * record, as listGrants does: never a verification).
 */
function sdJwtGrantClaims(token: string): unknown {
  const [jwt = '', ...rest] = token.split('~');
  const p = decodeJwt(jwt).payload;
  const alg = p._sd_alg ?? 'sha-256';
  if (!isSdHashAlg(alg)) return undefined;
  // The issued token ends with "~"; a key binding JWT (a presentation's) is no disclosure.
  const disclosures = rest.filter((d) => d !== '' && !d.includes('.')).map((d) => parseDisclosure(d, alg));
  const claims = processDisclosures(p, disclosures).claims;
  return claims.grant;
}

/** The grant's scope and terms; undefined when its claims cannot be read (then no allowed use is taken). */
function grantFacts(token: string): GrantFacts | undefined {
  try {
    let claims: unknown;
    let types: string[] = [];
    let collective = false;
    if (token.includes('~')) claims = sdJwtGrantClaims(token);
    else {
      const c = decodeCredential(token);
      claims = soleSubject(c)?.grant;
      types = c.type.filter((t) => t !== 'VerifiableCredential');
      if (soleSubject(c)?.pool !== undefined) collective = true;
    }
    const g = readGrantClaims(claims).grant;
    if (!g) return undefined;
    return {
      resources: g.resources.map(normalizeGrantResource),
      actions: g.actions,
      ...(g.terms?.purpose !== undefined ? { purposes: g.terms.purpose } : {}),
      ...(g.terms?.processing !== undefined && g.terms.processing !== 'any' ? { processing: g.terms.processing } : {}),
      types,
      ...(collective ? { collective: true as const } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * An allow whose policy names a resource or action outside the grant, a purpose or processing its terms do
 * not allow (or is no grant policy at all): no verifier allows that under this grant. A grant whose claims
 * cannot be read here covers nothing. (A denial outside it is an attempt the person may want to see.)
 */
function outOfScope(r: DecisionReceipt, g: GrantFacts | undefined): boolean {
  if (r.policy.kind !== 'grant' || g === undefined) return true;
  const p = r.policy;
  if (g.purposes !== undefined && (p.purpose === undefined || !g.purposes.includes(p.purpose))) return true;
  if (g.processing !== undefined && p.processing !== g.processing) return true;
  try {
    return !actionCovered(g.actions, p.action) || !resourceCovered(g.resources, normalizeResource(p.resource));
  } catch {
    return true;
  }
}

/** Distinct verifiers whose receipts one report may carry: each may cost the home a DID resolution. */
export const MAX_REPORT_ISSUERS = 8;
/** How long the home spends checking one report's receipts, from when it arrived. */
const REPORT_DEADLINE_MS = 15_000;
/** A receipt refused for these could not be checked (its verifier's DID did not resolve): the same verifier's others are not tried. */
const UNRESOLVED = new Set<Reason['code']>(['DID_NOT_FOUND', 'DID_RESOLUTION_FAILED', 'DID_DOCUMENT_TOO_LARGE', 'FORBIDDEN_ADDRESS', 'UNSUPPORTED_DID_METHOD', 'UNREACHABLE']);

type Refusal = AccessReportResult['refused'][number];
interface Candidate {
  index: number;
  jws: string;
  r: DecisionReceipt;
}

/**
 * The grantor's side: verifies a report (the reporter's signature, a grant
 * this home issued) and each receipt in it (the verifier's signature, a
 * decision on a presentation of this grant by its grantee, reported by that
 * verifier or by the grantee itself), and records the receipts that hold.
 * What reads the receipt alone, and who may report it, is checked before any
 * receipt's signature: a receipt about another grant, from a verifier the
 * reporter may not speak for, costs no DID resolution (in the grantee's
 * report, what reads the grant is checked before too); one report names at
 * most MAX_REPORT_ISSUERS verifiers, and its receipts are checked within one
 * deadline. A refusal that reads the grant is NOT_ACCEPTED whatever its
 * reason, and a grant not issued here is answered as one whose receipts all
 * fail it, so a report tells its sender nothing of a grant it does not hold.
 */
export async function acceptAccessReport(
  store: CredentialStore & AccessReportStore,
  report: string,
  options: {
    resolver: CharterResolver;
    /**
     * This home's report URL (homeReportUrl of its public URL): a report must name it as its `aud`, a string or
     * an array of that one string, exactly as written; any other is AUDIENCE_MISMATCH, refused before `admit`.
     */
    aud: string;
    now?: Date;
    /**
     * Called with the reporter once the report's signature, freshness, audience and shape hold: a wait (seconds)
     * refuses it unread (a rate limit). `report` names it: `digest`, the SHA-256 of its signed payload (the same
     * for every copy of it, and for no other report: the payload is in canonical base64url and the one JSON form
     * Charter signs, and names its reporter), and `freshUntil`, when it stops being taken (so a limit may charge
     * a report once however often it is posted, and forget it then).
     */
    admit?: (reporter: string, report: { digest: string; freshUntil: Date }) => { retryAfter: number } | undefined;
    /** How long checking the report's receipts may take in all, in ms from the call (default 15,000): receipts not checked by then are refused. */
    deadlineMs?: number;
  },
): Promise<AccessReportResult> {
  // No home, or one no report can name (createAccessReport signs only a URL as the parser writes it, so
  // "https://H.example:443/..." never matches): every report would be refused as meant for another, which
  // reads as the sender's fault. A programming error: say so.
  if (typeof options?.aud !== 'string' || !isUrl(options.aud) || new URL(options.aud).href !== options.aud) {
    throw new TypeError("acceptAccessReport needs options.aud: this home's report URL as homeReportUrl(publicUrl) writes it");
  }
  const deadline = Date.now() + (options.deadlineMs ?? REPORT_DEADLINE_MS);
  const c = await checkAuditJws(report, ACCESS_REPORT_TYP, options.resolver, 'INVALID_ARGUMENT', MAX_REPORT_BYTES);
  if (!c.decoded) return { ok: false, reasons: c.reasons, accepted: 0, refused: [] };
  if (c.reasons.length > 0) return { ok: false, reasons: c.reasons, accepted: 0, refused: [] };
  const p = c.decoded.payload;
  const reporter = p.iss as string;
  const nowMs = (options.now ?? new Date()).getTime();
  const now = nowMs / 1000;
  if (typeof p.iat !== 'number' || Math.abs(now - p.iat) > MAX_REPORT_AGE_SECONDS) return refuse('PRESENTATION_STALE', 'the report is too old, or from the future');
  // RFC 7519 §4.1.3: a report is for the one home it names, so a fresh report seen on its way (by the
  // home it was sent to, a proxy, a log) and posted to another home is refused there before it is charged
  // to its reporter or read against a grant. Compared as written, one audience only (an array of that one,
  // as RFC 7519 allows): a report naming several homes could be delivered to each, which is what `aud` stops.
  const aud = p.aud;
  if (!(aud === options.aud || (Array.isArray(aud) && aud.length === 1 && aud[0] === options.aud))) {
    return refuse('AUDIENCE_MISMATCH', aud === undefined ? 'the report names no home (aud): it is meant for none in particular' : 'the report is meant for another home');
  }
  if (typeof p.grant !== 'string' || !Array.isArray(p.receipts) || p.receipts.length === 0 || p.receipts.length > MAX_REPORT_RECEIPTS) {
    return refuse('INVALID_ARGUMENT', `a report names a grant and 1 to ${MAX_REPORT_RECEIPTS} receipts`);
  }
  // Counted only now: a stale or malformed report, refused for what it is, uses up none of its reporter's
  // allowance (an old report of a platform, replayed by whoever holds it, must not lock that platform out).
  const wait = options.admit?.(reporter, { digest: c.hash!, freshUntil: new Date((p.iat + MAX_REPORT_AGE_SECONDS) * 1000) });
  if (wait !== undefined) return { ...refuse('TOO_MANY_REQUESTS', 'too many access reports from this reporter: try again later'), retryAfter: wait.retryAfter };
  const stored = await store.getCredential(p.grant);
  // A grant this home did not issue is answered as one whose every receipt fails the checks that read it:
  // whether an id was issued here is not told to whoever asks (anyone may sign a report).
  const grant = stored && stored.direction === 'issued' && (stored.types.includes(GRANT_TYPE) || stored.types.includes(SD_JWT_GRANT_VCT)) ? stored : undefined;
  const grantee = grant?.subject;
  // What a reported use must fit: the grant's scope and terms (either format), and a time after it was
  // issued and not in the future.
  const facts = grant ? grantFacts(grant.jwt) : undefined;
  // A vc+jwt grant is cited by its bytes' hash, as every receipt of a decision on it lists it: knowing the grant's
  // id and grantee is not enough to report a use, only holding the grant itself (an SD-JWT grant's presentation
  // carries the holder's own disclosures and key binding, so its receipts name it by id alone).
  const grantHashes = grant === undefined || grant.jwt.includes('~') ? undefined : jwsSpellings(grant.jwt).map((jwt) => sha256Digest(jwt));
  const from = grant ? Date.parse(grant.validFrom ?? grant.createdAt) - SKEW_MS : NaN;
  const refused: Refusal[] = [];
  const no = (index: number, message: string) => void refused.push({ index, code: 'RECEIPT_INVALID', message });

  // A verifier's own receipts about an SD-JWT grant are judged blind to what its holder may not have disclosed
  // (scope, terms, the types it names): whoever signs a receipt is "the verifier that decided", and a refusal
  // for those would tell anyone who saw a presentation of the grant its withheld claims. Such a receipt is
  // held to the plain form (a resource path, an action name, a documented purpose) and kept even when its
  // allow lies outside the grant: the person sees it marked so (AccessUse.outsideGrant).
  const blind = grant !== undefined && grant.jwt.includes('~') && reporter !== grantee;
  const fits = (r: DecisionReceipt) =>
    grant !== undefined &&
    grantFits(r, { grantId: grant.id, grantIssuer: grant.issuer, grantHashes, grantee, reporter, facts: blind ? 'blind' : facts, from, until: nowMs + SKEW_MS }) &&
    (blind || !(r.decision === 'allow' && outOfScope(r, facts)));

  // 1. What needs no network, for every receipt: what reads the receipt alone (told precisely), and who may
  // report it: the verifier that signed it, or the grantee. What reads the grant is told as NOT_ACCEPTED, one
  // answer whatever the reason, and is read before the signature only in the grantee's report (the grantee
  // holds the whole grant): a verifier's own receipts are read against the grant once their signature holds,
  // so a receipt anyone can write (unsigned, naming a grant id and grantee seen in a presentation) learns
  // nothing of the grant (an SD-JWT grant's undisclosed scope), nor whether it was issued here.
  const candidates: Candidate[] = [];
  for (const [index, jws] of (p.receipts as unknown[]).entries()) {
    if (typeof jws !== 'string') {
      no(index, 'not a receipt');
      continue;
    }
    let r: DecisionReceipt;
    try {
      r = decodeReceipt(jws) as DecisionReceipt;
    } catch {
      no(index, 'the receipt does not verify (MALFORMED_JWT)');
      continue;
    }
    const why = receiptCheck(r, p.grant);
    if (why !== undefined) no(index, why);
    else if (reporter !== r.iss && (grantee === undefined || reporter !== grantee)) no(index, NOT_ACCEPTED);
    else if (reporter === grantee && !fits(r)) no(index, NOT_ACCEPTED);
    else candidates.push({ index, jws, r });
  }

  // 2. At most MAX_REPORT_ISSUERS verifiers per report, each resolved once.
  const byIssuer = new Map<string, Candidate[]>();
  for (const x of candidates) {
    const list = byIssuer.get(x.r.iss);
    if (list) list.push(x);
    else if (byIssuer.size < MAX_REPORT_ISSUERS) byIssuer.set(x.r.iss, [x]);
    else no(x.index, `a report carries the receipts of at most ${MAX_REPORT_ISSUERS} verifiers`);
  }

  // 3. The signatures, one verifier's receipts after another (its DID resolved once), verifiers at once, within the deadline.
  const verified: Candidate[] = [];
  const settled = new Set<number>();
  let late = false;
  const checkIssuer = async (list: Candidate[]) => {
    let unresolved: string | undefined;
    for (const x of list) {
      if (late) return;
      if (unresolved === undefined) {
        const v = await checkReceipt(x.jws, options.resolver);
        if (late) return;
        if (v.ok && !fits(x.r)) no(x.index, NOT_ACCEPTED);
        else if (v.ok) verified.push(x);
        else {
          const code = v.reasons[0]?.code ?? 'RECEIPT_INVALID';
          // `refused` goes back to the reporter: a verifier DID refused for its address reads as unresolved.
          const told = remoteReason({ code, message: '' }).code;
          no(x.index, `the receipt does not verify (${told})`);
          if (UNRESOLVED.has(code)) unresolved = told;
        }
      } else no(x.index, `the receipt does not verify (${unresolved})`);
      settled.add(x.index);
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
  });
  try {
    await Promise.race([Promise.all([...byIssuer.values()].map(checkIssuer)), timeUp]);
  } finally {
    late = true;
    clearTimeout(timer);
  }
  for (const list of byIssuer.values()) for (const x of list) if (!settled.has(x.index)) no(x.index, 'the receipt could not be checked in time: send it again');

  // 4. Kept within the per-grant cap, decided in the store's transaction.
  verified.sort((a, b) => a.index - b.index);
  const receivedAt = new Date().toISOString();
  // Only receipts that fit the grant get here, so it is known.
  const grantId = grant?.id ?? p.grant;
  const records: AccessReceiptRecord[] = verified.map(({ r, jws }) => ({
    grantId,
    receiptId: r.jti,
    verifier: r.iss,
    reporter,
    ...(r.sub !== undefined ? { holder: r.sub } : {}),
    outcome: r.decision,
    at: r.time,
    receivedAt,
    jws,
  }));
  const outcomes = records.length > 0 ? await store.putAccessReceipts(records, { maxPerGrant: MAX_KEPT_PER_GRANT }) : [];
  outcomes.forEach((o, i) => {
    if (o === 'full')
      no(
        verified[i]!.index,
        `this home keeps at most ${MAX_KEPT_PER_GRANT} reported uses of one grant, shared fairly between the verifiers that report (every did:key and did:jwk together as one, did:web per host)`,
      );
  });
  refused.sort((a, b) => a.index - b.index);
  const accepted = outcomes.filter((o) => o === 'added').length;
  return { ok: refused.length === 0, reasons: [], grant: grantId, reporter, accepted, refused };
}

/**
 * What a receipt refused before its signature held, for a reason that reads the grant, is told: one
 * answer whatever the reason (and for a grant never issued here), so a report signed by anyone learns
 * nothing of a grant (an SD-JWT grant's undisclosed resources, actions or terms, its grantee, whether it
 * exists) from how its receipts are refused.
 */
export const NOT_ACCEPTED = 'not accepted as a reported use of this grant';

/** Why a decoded receipt cannot be a reported use of the grant the report names, read from the receipt alone; undefined when it may be. */
function receiptCheck(r: DecisionReceipt, grantId: string): string | undefined {
  const shape = receiptShapeReasons(r as unknown as Record<string, unknown>);
  if (shape.length > 0) return `the receipt does not verify (${shape[0]!.code})`;
  if (r.kind !== 'decision') return 'not a decision receipt';
  // The grant's own purposes and types are allowed later (grantFits): here any is.
  const extra = beyondReceipt(r as unknown as Record<string, unknown>, { grantId, facts: 'unread' });
  if (extra !== undefined) return `the receipt carries ${extra}, which no Charter receipt does (a report holds nothing beyond what the grant names)`;
  if (typeof r.iss !== 'string' || !r.iss.startsWith('did:') || typeof r.jti !== 'string') return 'the receipt does not verify (RECEIPT_INVALID)';
  if (!r.chain.some((l) => l.id === grantId) && !r.credentials.some((x) => x.id === grantId)) return 'the receipt is not about this grant';
  return undefined;
}

/**
 * Whether a receipt may be a reported use of this grant, scope aside (outOfScope): its declared purpose
 * and credential types, the grant's hash (a vc+jwt), its grantee, a reporter that is the verifier or the
 * grantee, a resource of the grantor's own (never a third party's, named as the policy's owner) and a
 * time within the grant.
 */
function grantFits(
  r: DecisionReceipt,
  g: {
    grantId: string;
    grantIssuer: string;
    grantHashes: readonly string[] | undefined;
    grantee: string | undefined;
    reporter: string;
    /** 'blind': judged without the grant's scope and terms (see acceptAccessReport). */
    facts: GrantFacts | undefined | 'blind';
    from: number;
    until: number;
  },
): boolean {
  if (beyondReceipt(r as unknown as Record<string, unknown>, { grantId: g.grantId, facts: g.facts }) !== undefined) return false;
  if (g.grantHashes !== undefined && !r.credentials.some((x) => g.grantHashes!.includes(x.h))) return false;
  if (r.sub !== g.grantee) return false;
  if (g.reporter !== r.iss && g.reporter !== g.grantee) return false;
  // Another owner's resource, named or withheld (guard/receipt.ts: a refusal where the grant is not the owner's).
  // A pool's grant names a member as the owner of an allowed use; its verifier checked the membership when it decided.
  const collective = g.facts !== undefined && g.facts !== 'blind' && g.facts.collective === true;
  if (r.policy.kind === 'grant' && (r.policy.ownerWithheld !== undefined || (r.policy.owner !== undefined && r.policy.owner !== g.grantIssuer && !collective))) return false;
  const t = Date.parse(r.time);
  return t >= g.from && t <= g.until;
}

const RECEIPT_MEMBERS = new Set([
  'iss',
  'jti',
  'iat',
  'time',
  'kind',
  'verifier',
  'decision',
  'status',
  'reasons',
  'sub',
  'request',
  'policy',
  'vp',
  'credentials',
  'chain',
  'principal',
  'spend',
  'evidence',
  'window',
  'log',
]);
/** Each policy kind's members, as src/guard/receipt.ts writes them. */
const POLICY_MEMBERS: Record<string, readonly string[]> = {
  presentation: ['kind'],
  signature: ['kind'],
  mandate: ['kind', 'profile', 'amount', 'payee'],
  grant: ['kind', 'resource', 'action', 'owner', 'anyOwner', 'ownerWithheld', 'purpose', 'processing'],
  agent: ['kind', 'action', 'amount', 'counterparty'],
};
/**
 * The credential types a Charter verifier names in a receipt (describeCredential: the types beside
 * VerifiableCredential) for the credentials Charter issues; a grant's own types are taken too.
 */
const CHARTER_TYPES = new Set([
  GRANT_TYPE,
  'AgentIdentityCredential',
  'AgentAuthorityCredential',
  'InteractionReceipt',
  'ReputationAttestation',
  'PoolVoteCredential',
  'PoolEpochCredential',
  'PoolMembershipCredential',
  'PoolProposal',
  'PoolDecisionCredential',
  'PoolUsageReport',
]);
const REASON_CODES = new Set<string>(ERROR_CODES);
/** Known methods only (a made-up token could carry words), in any case: a receipt records the method as received (RFC 9110 §9.1). */
const HTTP_METHODS = new Set(METHODS);
const only = (o: unknown, allowed: readonly string[]) => isObj(o) && Object.keys(o).every((k) => allowed.includes(k));
const MAX_VALUE = 2048;
/** `sha256-` and the base64url of 32 bytes: every digest a receipt holds (sha256Digest). */
const DIGEST = /^sha256-[A-Za-z0-9_-]{43}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** DID syntax (W3C DID Core §3.1), without path, query or fragment. */
const DID = /^did:[a-z0-9]+:[A-Za-z0-9._%:-]+$/;
/** An MCP tool name (the MCP specification: 1 to 128 of A-Z a-z 0-9 _ - .; "/" and ":" for namespaced tools). */
const TOOL = /^[A-Za-z0-9_./:-]{1,128}$/;
const isDigest = (v: unknown) => typeof v === 'string' && DIGEST.test(v);
const isDid = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_VALUE && DID.test(v);
const isUrn = (v: unknown) => typeof v === 'string' && v.startsWith('urn:uuid:') && UUID.test(v.slice(9));
/** An http(s) URL with nothing beyond origin and path (no credentials, query or fragment), in printable ASCII. */
function isUrl(v: unknown): boolean {
  if (typeof v !== 'string' || v.length > MAX_VALUE || !/^[\x21-\x7e]+$/.test(v)) return false;
  try {
    const u = new URL(v);
    return (
      (u.protocol === 'https:' || u.protocol === 'http:') && u.username === '' && u.password === '' && u.search === '' && u.hash === '' && !v.includes('?') && !v.includes('#')
    );
  } catch {
    return false;
  }
}
/** An origin URL (scheme, host, port), with or without its "/" path: no path that could carry a name. */
function isOrigin(v: unknown): boolean {
  if (!isUrl(v)) return false;
  const u = new URL(v as string);
  return v === u.origin || v === `${u.origin}/`;
}
/** A verifier, issuer, payee or counterparty: a DID, or an origin URL (a verifier's `aud` may be one). */
const isParty = (v: unknown) => isDid(v) || isOrigin(v);
/** The longest reported resource path kept as one. */
const MAX_PLAIN_RESOURCE = 200;

/**
 * A reported resource as a plain resource path (normalised, short, without spaces), or undefined. A
 * receipt's resource is the word of whoever signed it (any key may sign a refusal), so text that is no
 * path ("Jane Doe, diagnosis …", "your grant is compromised: call …") is never kept or shown as one.
 */
export function plainResource(resource: unknown): string | undefined {
  if (typeof resource !== 'string') return undefined;
  try {
    const r = normalizeResource(resource);
    return r.length <= MAX_PLAIN_RESOURCE && !/\s/u.test(r) ? r : undefined;
  } catch {
    return undefined;
  }
}
const isMoney = (a: unknown) => only(a, ['amount', 'currency']) && isDecimal((a as { amount?: unknown }).amount) && isCurrency((a as { currency?: unknown }).currency);
const everyEntry = (m: unknown, key: (k: string) => boolean, value: (v: unknown) => boolean, max: number) =>
  isObj(m) && Object.keys(m).length <= max && Object.entries(m).every(([k, v]) => key(k) && value(v));

/**
 * What a reported receipt carries beyond what Charter's receipts hold, said briefly; undefined when nothing.
 * The home stores a reported receipt as sent: one signed by anyone may not smuggle in personal data (a
 * patient's name, a query string with an email) under members or request forms no verifier writes, nor in
 * the values of the members it has. So each value must have the form a verifier writes: digests where it
 * writes digests (the bound claims, MCP arguments, the presentation, evidence), error codes for reasons
 * (a receipt records codes only, never messages), DIDs for the parties (origin URLs where a verifier may be
 * named by one), UUIDs for ids Charter mints (receipt, log chain, spend reservation), credential types
 * Charter issues or the grant's own, and a declared purpose from the documented vocabulary or the grant's
 * terms. The grant's resource and action are the verifier's words for what was asked: an allow's lie inside
 * the grant (outOfScope), a denial's are shown only as plain paths and action names (server/consent-view).
 */
function beyondReceipt(r: Record<string, unknown>, g: { grantId: string; facts: GrantFacts | undefined | 'unread' | 'blind' }): string | undefined {
  const unknown = Object.keys(r).find((k) => !RECEIPT_MEMBERS.has(k));
  if (unknown !== undefined) return `a member "${unknown.slice(0, 40)}"`;
  if (!isDid(r.iss) || !isUrn(r.jti)) return 'an issuer that is not a DID, or an id that is not a urn:uuid';
  // The verifier is its `aud`: a DID, or a URL (an MCP server's resource URI may have a path).
  if (!isDid(r.verifier) && !isUrl(r.verifier)) return 'a verifier that is not a DID or a URL';
  if (r.sub !== undefined && !isDid(r.sub)) return 'a subject that is not a DID';
  const reasons = r.reasons as unknown[];
  if (reasons.length > 64 || !reasons.every((c) => typeof c === 'string' && REASON_CODES.has(c))) return 'reasons that are not Charter error codes';
  const q = r.request as Record<string, unknown>;
  const mcp = q.mcp as Record<string, unknown> | undefined;
  const request =
    (only(q, ['htm', 'htu']) &&
      typeof q.htm === 'string' &&
      HTTP_METHODS.has(q.htm.toUpperCase()) &&
      typeof q.htu === 'string' &&
      q.htu.length <= MAX_VALUE &&
      htuOf(q.htu) === q.htu) ||
    (only(q, ['none']) && q.none === true) ||
    (only(q, ['mcp']) && only(mcp, ['tool', 'args']) && typeof mcp!.tool === 'string' && TOOL.test(mcp!.tool) && isDigest(mcp!.args)) ||
    (only(q, ['claims']) && (isDigest(q.claims) || q.claims === 'unhashable'));
  if (!request) return 'a request in a form no verifier records (an htu is an origin and a path: no query, fragment or user; an MCP call and other claims are recorded by digest)';
  // Blind, an allow is held to a denial's plain form: nothing of the grant says what it may name.
  const policy = policyBeyond(r.policy as Record<string, unknown>, g.facts === 'blind' ? undefined : g.facts, r.decision === 'deny' || g.facts === 'blind');
  if (policy !== undefined) return policy;
  if (r.vp !== undefined && !isDigest(r.vp)) return 'a presentation that is not named by its digest';
  if (r.principal !== undefined && !isDid(r.principal)) return 'a principal that is not a DID';
  const types = g.facts === 'unread' ? undefined : new Set([...CHARTER_TYPES, ...(g.facts === 'blind' ? [] : (g.facts?.types ?? []))]);
  // A credential's or link's id may be any URL (a VCDM id); the parties are DIDs or origins.
  const isId = (v: unknown) => v === g.grantId || isUrn(v) || isDid(v) || isUrl(v);
  const credentials = r.credentials as unknown[];
  if (credentials.length > 32) return 'more credentials than a presentation carries';
  for (const c of credentials as Record<string, unknown>[]) {
    if (!only(c, ['h', 'id', 'iss', 'type'])) return 'a credential entry member of its own';
    if (!isDigest(c.h) || (c.id !== undefined && !isId(c.id)) || (c.iss !== undefined && !isParty(c.iss))) {
      return 'a credential entry that is not a digest, an id and an issuer';
    }
    const t = c.type as unknown[] | undefined;
    if (t !== undefined && (t.length > 16 || !t.every((x) => typeof x === 'string' && (types === undefined || types.has(x)))))
      return 'a credential type Charter does not issue and the grant does not name';
  }
  const chain = r.chain as unknown[];
  if (chain.length > 32) return 'a chain longer than any Charter verifies';
  for (const l of chain as Record<string, unknown>[]) {
    if (!only(l, ['id', 'iss'])) return 'a chain link member of its own';
    if (!isId(l.id) || !isParty(l.iss)) return 'a chain link that is not an id and an issuer';
  }
  if (r.spend !== undefined) {
    const sp = r.spend as Record<string, unknown>;
    if (!only(sp, ['reservation', 'state', 'amount'])) return 'a spend member of its own';
    if (!(UUID.test(sp.reservation as string) || isUrn(sp.reservation)) || (sp.amount !== undefined && !isMoney(sp.amount))) {
      return 'a spend that is not a reservation id and an amount';
    }
  }
  if (r.evidence !== undefined) {
    const e = r.evidence as Record<string, unknown>;
    if (!only(e, ['did', 'status'])) return 'an evidence member of its own';
    if (!everyEntry(e.did, isDid, isDigest, 64) || !everyEntry(e.status, isUrl, isDigest, 64)) return 'evidence that is not DIDs and status list URLs mapped to digests';
  }
  if (r.window !== undefined && !only(r.window, ['skew', 'maxAge', 'nonces'])) return 'a window member of its own';
  const log = r.log as Record<string, unknown>;
  if (!only(log, ['chain', 'seq', 'prev']) || !/^urn:uuid:[0-9a-f-]{1,36}$/i.test(log.chain as string) || !(log.prev === null || isDigest(log.prev))) {
    return 'a log position that is not a chain id, a number and a digest';
  }
  return undefined;
}

/** What a receipt's policy carries beyond what a verifier writes for its kind; undefined when nothing. */
function policyBeyond(p: Record<string, unknown>, facts: GrantFacts | undefined | 'unread', plainForm: boolean): string | undefined {
  const members = typeof p.kind === 'string' && Object.hasOwn(POLICY_MEMBERS, p.kind) ? POLICY_MEMBERS[p.kind] : undefined;
  if (members === undefined || !only(p, members)) return 'a policy member of its own';
  const str = (v: unknown) => typeof v === 'string' && v.length <= MAX_VALUE;
  if (p.kind === 'grant') {
    if (!str(p.resource) || !str(p.action)) return 'a policy without a resource and an action';
    // An allow's lie inside the grant (outOfScope); a denial's are what was asked, so they must read as a path and an action name.
    if (plainForm && (plainResource(p.resource) === undefined || !GRANT_ACTION.test(p.action as string)))
      return 'a refused resource that is no plain resource path, or an action that is no action name';
    if ((p.owner !== undefined && !isDid(p.owner)) || (p.anyOwner !== undefined && p.anyOwner !== true) || (p.ownerWithheld !== undefined && p.ownerWithheld !== true))
      return 'a policy owner that is not a DID';
    if (ownerFormsClash(p)) return 'a policy that both names and withholds (or waives) the owner';
    // A declared purpose is a code of the documented vocabulary, or one the grant's terms name.
    if (p.purpose !== undefined && facts !== 'unread' && !((PURPOSES as readonly unknown[]).includes(p.purpose) || (facts?.purposes ?? []).includes(p.purpose as string))) {
      return 'a purpose that is neither a documented one nor one the grant names';
    }
    if (p.processing !== undefined && p.processing !== 'on-device' && p.processing !== 'trusted-execution') return 'a processing that is not on-device or trusted-execution';
  } else if (p.kind === 'mandate') {
    if ((p.profile !== 'verifiable-intent' && p.profile !== 'ap2') || (p.amount !== undefined && !isMoney(p.amount)) || (p.payee !== undefined && !isParty(p.payee))) {
      return 'a mandate policy that is not a profile, an amount and a payee';
    }
  } else if (p.kind === 'agent') {
    if (!str(p.action) || !/^[A-Za-z0-9:._-]{1,64}$/.test(p.action as string) || (p.amount !== undefined && !isMoney(p.amount)) || !isParty(p.counterparty)) {
      return 'an agent policy that is not an action, an amount and a counterparty';
    }
  }
  return undefined;
}

/** One reported use of a grant, as the person sees it. */
export interface AccessUse {
  receiptId: string;
  /** The platform that decided (the verifier). */
  verifier: string;
  reporter: string;
  holder?: string;
  outcome: 'allow' | 'deny';
  at: string;
  /** What was asked for, as the receipt records it (the grant's own resource and action). */
  resource?: string;
  action?: string;
  /**
   * An allow its verifier reported for a use the grant does not cover (a resource, action, purpose or
   * processing outside it): kept for an SD-JWT grant, whose verifier may not see the whole scope, and
   * shown as such. Read when the store holds the grant (a home's store does).
   */
  outsideGrant?: true;
  receivedAt: string;
}

/** The uses of a grant that platforms reported back, newest first (the consent page and `charter grant list` show them). */
export async function accessReports(
  store: AccessReportStore & { getCredential?: CredentialStore['getCredential'] },
  grantId: string,
  options: { limit?: number } = {},
): Promise<AccessUse[]> {
  const rows = await store.listAccessReceipts({ grantId, ...(options.limit !== undefined ? { limit: options.limit } : {}) });
  const grant = rows.length > 0 && typeof store.getCredential === 'function' ? await store.getCredential(grantId) : undefined;
  const facts = grant ? grantFacts(grant.jwt) : undefined;
  return rows.map((row) => {
    let policy: DecisionReceipt['policy'] | undefined;
    let outside = false;
    try {
      const c = decodeReceipt(row.jws) as DecisionReceipt;
      policy = c.kind === 'decision' ? c.policy : undefined;
      outside = grant !== undefined && c.kind === 'decision' && c.decision === 'allow' && outOfScope(c, facts);
    } catch {
      policy = undefined;
    }
    return {
      receiptId: row.receiptId,
      verifier: row.verifier,
      reporter: row.reporter,
      ...(row.holder !== undefined ? { holder: row.holder } : {}),
      outcome: row.outcome,
      at: row.at,
      // As kept since 0.1 too: a resource or action is returned only as a plain path and an action name.
      ...(policy?.kind === 'grant' && plainResource(policy.resource) !== undefined ? { resource: policy.resource } : {}),
      ...(policy?.kind === 'grant' && typeof policy.action === 'string' && GRANT_ACTION.test(policy.action) ? { action: policy.action } : {}),
      ...(outside ? { outsideGrant: true as const } : {}),
      receivedAt: row.receivedAt,
    };
  });
}

/**
 * The decision receipts in a verifier's log that were about one grant (its
 * id in the chain of authority), for an access report: the newest 100 of
 * the decisions since `since` (default: the last 30 days), of `subject` (the
 * grantee) when given.
 */
export async function receiptsForGrant(store: AuditStore, grantId: string, options: { since?: Date; subject?: string; pageSize?: number } = {}): Promise<string[]> {
  let since = options.since ?? new Date(Date.now() - 30 * 86_400_000);
  const pageSize = options.pageSize ?? 10_000;
  // The log lists oldest first: the whole window is read, page by page, and the newest uses are kept
  // (a busy verifier's first page alone would report its oldest uses and never its latest).
  const newest: string[] = [];
  const seen = new Set<string>();
  for (let limit = pageSize; ;) {
    const page = await store.listAudit({ kind: 'decision', since, limit, ...(options.subject !== undefined ? { subject: options.subject } : {}) });
    let fresh = 0;
    for (const e of page) {
      // A page starts at the last one's time, inclusive: entries of that millisecond come again.
      if (seen.has(e.receiptId)) continue;
      fresh++;
      const c = decodeReceipt(e.jws);
      if (c.kind === 'decision' && (c.chain.some((l) => l.id === grantId) || c.credentials.some((x) => x.id === grantId))) {
        newest.push(e.jws);
        if (newest.length > MAX_REPORT_RECEIPTS) newest.shift();
      }
    }
    if (page.length < limit) break;
    const last = Date.parse(page[page.length - 1]!.at);
    if (last === since.getTime() && fresh === 0) {
      // A whole page of one millisecond: read more of it at once.
      limit *= 2;
      continue;
    }
    seen.clear();
    for (const e of page) if (Date.parse(e.at) === last) seen.add(e.receiptId);
    since = new Date(last);
    limit = pageSize;
  }
  return newest;
}
