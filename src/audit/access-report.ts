import { randomUUID } from 'node:crypto';
import { CharterError, type Reason } from '../errors.js';
import { decodeCredential, soleSubject, statusEntriesOf, type Issuer } from '../credentials/index.js';
import type { CharterResolver } from '../did/types.js';
import { actionCovered, GRANT_TYPE, normalizeGrantResource, normalizeResource, readGrantClaims, resourceCovered } from '../grants/index.js';
import type { AccessReceiptRecord, AccessReportStore, AuditStore, CredentialStore } from '../store/types.js';
import { ACCESS_REPORT_TYP, checkAuditJws, signCanonical } from './jws.js';
import { sha256Digest } from '../encoding/json.js';
import { htuOf } from '../credentials/binding.js';
import { decodeReceipt, receiptShapeReasons, verifyReceipt, type DecisionReceipt } from './receipt.js';

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
}

/** Signs an access report as `reporter` (the verifier, or the grantee). */
export async function createAccessReport(reporter: Issuer, input: AccessReportInput): Promise<string> {
  if (typeof input?.grant !== 'string' || !Array.isArray(input.receipts) || input.receipts.length === 0 || input.receipts.length > MAX_REPORT_RECEIPTS) {
    throw new CharterError('INVALID_ARGUMENT', `an access report names a grant and 1 to ${MAX_REPORT_RECEIPTS} receipts`);
  }
  const now = Math.floor(Date.now() / 1000);
  return (await signCanonical(ACCESS_REPORT_TYP, { iss: reporter.did, jti: `urn:uuid:${randomUUID()}`, iat: now, grant: input.grant, receipts: [...input.receipts] }, reporter))
    .jws;
}

/**
 * Where the grantor's `charter serve` takes access reports: beside the
 * grant's status list (its own server), at `/access-reports`.
 */
export function accessReportUrl(grantJwt: string): string {
  const c = decodeCredential(grantJwt);
  const status = statusEntriesOf(c)[0];
  if (typeof status?.statusListCredential !== 'string') throw new CharterError('INVALID_ARGUMENT', 'the grant names no status list, so no server of its grantor to report to');
  return new URL('/access-reports', status.statusListCredential).href;
}

/** Sends a report to the grantor's server (found from the grant); resolves with what it accepted. */
export async function sendAccessReport(
  reporter: Issuer,
  input: { grant: string; receipts: readonly string[] },
  options: { fetch?: typeof fetch } = {},
): Promise<{ status: number; accepted: number }> {
  const c = decodeCredential(input.grant);
  if (typeof c.id !== 'string') throw new CharterError('INVALID_ARGUMENT', 'the grant has no id');
  const report = await createAccessReport(reporter, { grant: c.id, receipts: input.receipts });
  const res = await (options.fetch ?? fetch)(accessReportUrl(input.grant), { method: 'POST', headers: { 'content-type': 'application/jwt' }, body: report, redirect: 'error' });
  const body = (await res.json().catch(() => ({}))) as { accepted?: number };
  return { status: res.status, accepted: body.accepted ?? 0 };
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

/** The grant's resources and actions, normalised; undefined when its claims cannot be read here (an SD-JWT grant). */
function grantScope(jwt: string): { resources: string[]; actions: string[] } | undefined {
  try {
    const g = readGrantClaims(soleSubject(decodeCredential(jwt))?.grant).grant;
    return g ? { resources: g.resources.map(normalizeGrantResource), actions: g.actions } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An allow whose policy names a resource or action outside the grant (or is no grant policy at all): no
 * verifier allows that under this grant. (A denial outside it is an attempt the person may want to see.)
 */
function outOfScope(r: DecisionReceipt, scope: { resources: string[]; actions: string[] } | undefined): boolean {
  if (r.policy.kind !== 'grant') return true;
  if (scope === undefined) return false;
  try {
    return !actionCovered(scope.actions, r.policy.action) || !resourceCovered(scope.resources, normalizeResource(r.policy.resource));
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
 * Everything that needs no network is checked before any receipt's
 * signature: a receipt about another grant or person, from a verifier the
 * reporter may not speak for, out of scope or misdated costs no DID
 * resolution; one report names at most MAX_REPORT_ISSUERS verifiers, and its
 * receipts are checked within one deadline.
 */
export async function acceptAccessReport(
  store: CredentialStore & AccessReportStore,
  report: string,
  options: {
    resolver: CharterResolver;
    now?: Date;
    /** Called with the reporter once the report's signature verified: a wait (seconds) refuses it unread (a rate limit). */
    admit?: (reporter: string) => { retryAfter: number } | undefined;
    /** How long checking the report's receipts may take in all, in ms from the call (default 15,000): receipts not checked by then are refused. */
    deadlineMs?: number;
  },
): Promise<AccessReportResult> {
  const deadline = Date.now() + (options.deadlineMs ?? REPORT_DEADLINE_MS);
  const c = await checkAuditJws(report, ACCESS_REPORT_TYP, options.resolver, 'INVALID_ARGUMENT', MAX_REPORT_BYTES);
  if (!c.decoded) return { ok: false, reasons: c.reasons, accepted: 0, refused: [] };
  if (c.reasons.length > 0) return { ok: false, reasons: c.reasons, accepted: 0, refused: [] };
  const p = c.decoded.payload;
  const reporter = p.iss as string;
  const wait = options.admit?.(reporter);
  if (wait !== undefined) return { ...refuse('TOO_MANY_REQUESTS', 'too many access reports from this reporter: try again later'), retryAfter: wait.retryAfter };
  const nowMs = (options.now ?? new Date()).getTime();
  const now = nowMs / 1000;
  if (typeof p.iat !== 'number' || Math.abs(now - p.iat) > MAX_REPORT_AGE_SECONDS) return refuse('PRESENTATION_STALE', 'the report is too old, or from the future');
  if (typeof p.grant !== 'string' || !Array.isArray(p.receipts) || p.receipts.length === 0 || p.receipts.length > MAX_REPORT_RECEIPTS) {
    return refuse('INVALID_ARGUMENT', `a report names a grant and 1 to ${MAX_REPORT_RECEIPTS} receipts`);
  }
  const grant = await store.getCredential(p.grant);
  if (!grant || grant.direction !== 'issued' || !grant.types.includes(GRANT_TYPE)) return refuse('NOT_FOUND', 'no such grant was issued here');
  const grantee = grant.subject;
  // What a reported use must fit: the grant's scope, and a time after it was issued and not in the future.
  const scope = grantScope(grant.jwt);
  // A vc+jwt grant is cited by its bytes' hash, as every receipt of a decision on it lists it: knowing the grant's
  // id and grantee is not enough to report a use, only holding the grant itself (an SD-JWT grant's presentation
  // carries the holder's own disclosures and key binding, so its receipts name it by id alone).
  const grantHash = grant.jwt.includes('~') ? undefined : sha256Digest(grant.jwt);
  const from = Date.parse(grant.validFrom ?? grant.createdAt) - SKEW_MS;
  const refused: Refusal[] = [];
  const no = (index: number, message: string) => void refused.push({ index, code: 'RECEIPT_INVALID', message });

  // 1. What needs no network, for every receipt.
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
    const why = cheapCheck(r, { grantId: grant.id, grantHash, grantee, reporter, scope, from, until: nowMs + SKEW_MS });
    if (why !== undefined) no(index, why);
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
        const v = await verifyReceipt(x.jws, { resolver: options.resolver });
        if (late) return;
        if (v.ok) verified.push(x);
        else {
          const code = v.reasons[0]?.code ?? 'RECEIPT_INVALID';
          no(x.index, `the receipt does not verify (${code})`);
          if (UNRESOLVED.has(code)) unresolved = code;
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
  const records: AccessReceiptRecord[] = verified.map(({ r, jws }) => ({
    grantId: grant.id,
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
    if (o === 'full') no(verified[i]!.index, `this home keeps at most ${MAX_KEPT_PER_GRANT} reported uses of one grant, shared fairly between the verifiers that report`);
  });
  refused.sort((a, b) => a.index - b.index);
  const accepted = outcomes.filter((o) => o === 'added').length;
  return { ok: refused.length === 0, reasons: [], grant: grant.id, reporter, accepted, refused };
}

/** Why a decoded receipt cannot be a reported use of this grant, found without the network; undefined when it may be. */
function cheapCheck(
  r: DecisionReceipt,
  g: {
    grantId: string;
    grantHash: string | undefined;
    grantee: string | undefined;
    reporter: string;
    scope: { resources: string[]; actions: string[] } | undefined;
    from: number;
    until: number;
  },
): string | undefined {
  const shape = receiptShapeReasons(r as unknown as Record<string, unknown>);
  if (shape.length > 0) return `the receipt does not verify (${shape[0]!.code})`;
  if (r.kind !== 'decision') return 'not a decision receipt';
  const extra = beyondReceipt(r as unknown as Record<string, unknown>);
  if (extra !== undefined) return `the receipt carries ${extra}, which no Charter receipt does (a report holds nothing beyond what the grant names)`;
  if (typeof r.iss !== 'string' || !r.iss.startsWith('did:') || typeof r.jti !== 'string') return 'the receipt does not verify (RECEIPT_INVALID)';
  if (!r.chain.some((l) => l.id === g.grantId) && !r.credentials.some((x) => x.id === g.grantId)) return 'the receipt is not about this grant';
  if (g.grantHash !== undefined && !r.credentials.some((x) => x.h === g.grantHash)) return 'the receipt does not list this grant as presented (by its hash)';
  if (r.sub !== g.grantee) return 'the receipt is about a presentation by someone other than the grantee';
  if (g.reporter !== r.iss && g.reporter !== g.grantee) return 'only the verifier that decided, or the grantee, may report a use';
  if (r.decision === 'allow' && outOfScope(r, g.scope)) return 'the receipt records an allowed use the grant does not cover';
  const t = Date.parse(r.time);
  if (!(t >= g.from && t <= g.until)) return 'the receipt is dated before the grant was issued, or in the future';
  return undefined;
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
const POLICY_MEMBERS = new Set(['kind', 'resource', 'action', 'owner', 'anyOwner', 'purpose', 'processing', 'profile', 'amount', 'payee', 'counterparty']);
const only = (o: unknown, allowed: readonly string[]) => typeof o === 'object' && o !== null && !Array.isArray(o) && Object.keys(o).every((k) => allowed.includes(k));

/**
 * What a reported receipt carries beyond the members Charter's receipts have, said briefly; undefined when
 * nothing. The home stores a reported receipt as sent: one signed by anyone may not smuggle in personal data
 * (a patient's name, a query string with an email) under members or request forms no verifier writes.
 */
function beyondReceipt(r: Record<string, unknown>): string | undefined {
  const unknown = Object.keys(r).find((k) => !RECEIPT_MEMBERS.has(k));
  if (unknown !== undefined) return `a member "${unknown.slice(0, 40)}"`;
  const q = r.request as Record<string, unknown>;
  const request =
    (only(q, ['htm', 'htu']) && typeof q.htm === 'string' && typeof q.htu === 'string' && htuOf(q.htu) === q.htu) ||
    (only(q, ['none']) && q.none === true) ||
    (only(q, ['mcp']) && only(q.mcp, ['tool', 'args'])) ||
    (only(q, ['claims']) && typeof q.claims === 'string');
  if (!request) return 'a request in a form no verifier records (an htu is an origin and a path: no query, fragment or user)';
  if (!Object.keys(r.policy as object).every((k) => POLICY_MEMBERS.has(k))) return 'a policy member of its own';
  if (!(r.credentials as unknown[]).every((c) => only(c, ['h', 'id', 'iss', 'type']))) return 'a credential entry member of its own';
  if (!(r.chain as unknown[]).every((l) => only(l, ['id', 'iss']))) return 'a chain link member of its own';
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
  receivedAt: string;
}

/** The uses of a grant that platforms reported back, newest first (the consent page and `charter grant list` show them). */
export async function accessReports(store: AccessReportStore, grantId: string, options: { limit?: number } = {}): Promise<AccessUse[]> {
  const rows = await store.listAccessReceipts({ grantId, ...(options.limit !== undefined ? { limit: options.limit } : {}) });
  return rows.map((row) => {
    let policy: DecisionReceipt['policy'] | undefined;
    try {
      const c = decodeReceipt(row.jws);
      policy = c.kind === 'decision' ? c.policy : undefined;
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
      ...(policy?.kind === 'grant' ? { resource: policy.resource, action: policy.action } : {}),
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
