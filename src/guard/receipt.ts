import { isCharterError } from '../errors.js';
import { sha256Digest } from '../encoding/json.js';
import type { Capture, ReceiptPolicy, ReceiptRequest, Receipts } from '../audit/index.js';
import { htuOf, type Binding } from './binding.js';
import type { GuardDecision } from './decide.js';
import type { Policy } from './policy.js';
import type { SpendHold, SpendState } from './spend.js';
import type { Verifier } from './verifier.js';

/** What the pipeline saw of one call, for its receipt. */
export interface DecisionContext {
  presentation: unknown;
  /** Whether it decoded as the proof the route takes, or authenticated (its bytes are kept as evidence only then). */
  recognised?: boolean;
  payload?: Record<string, unknown>;
  policy: Policy;
  binding: Binding;
  now: number;
  capture?: Capture;
}

function requestOf(b: Binding): ReceiptRequest {
  if (b.kind === 'http') return { htm: b.method, htu: htuOf(b.url) ?? b.url };
  if (b.kind === 'none') return { none: true };
  const mcp = b.claims.mcp as { tool?: unknown; args?: unknown } | undefined;
  if (Object.keys(b.claims).length === 1 && typeof mcp?.tool === 'string' && typeof mcp.args === 'string') return { mcp: { tool: mcp.tool, args: mcp.args } };
  try {
    // Other bound claims are recorded by digest only: their values are the caller's.
    return { claims: sha256Digest(b.claims) };
  } catch {
    return { claims: 'unhashable' };
  }
}

function policyOf(v: Verifier, p: Policy, d: GuardDecision): ReceiptPolicy {
  if (p.kind === 'presentation') return { kind: 'presentation' };
  if (p.kind === 'grant') {
    return {
      kind: 'grant',
      resource: d.grant?.resource ?? p.resource,
      action: p.action,
      // The owner's DID only where the caller knows it already: an allow, or a grant issued by that owner. A
      // refusal (no presentation, a stranger's, another owner's grant) withholds it: the receipt goes back to
      // whoever asked, and would map the route's users (\`/users/alice/email\`) to their DIDs.
      ...(p.owner === undefined ? { anyOwner: true as const } : d.ok || d.grant?.grantor === p.owner ? { owner: p.owner } : { ownerWithheld: true as const }),
      // The declared use the grant's terms were checked against: an offline re-check needs it too.
      ...(p.purpose !== undefined ? { purpose: p.purpose } : {}),
      ...(p.processing !== undefined ? { processing: p.processing } : {}),
    };
  }
  if (p.kind === 'signature') return { kind: 'signature' };
  if (p.kind === 'mandate') {
    const paid = d.mandate?.payment?.amount;
    return {
      kind: 'mandate',
      profile: p.profile,
      ...(paid ? { amount: { amount: paid.amount, currency: paid.currency } } : {}),
      ...(p.payee !== undefined ? { payee: p.payee } : {}),
    };
  }
  return { kind: 'agent', action: p.action, ...(d.agent?.amount ? { amount: d.agent.amount } : {}), counterparty: p.counterparty ?? v.aud };
}

function chainOf(d: GuardDecision): { id: string; iss: string }[] {
  if (d.agent) return d.agent.chain.map((l) => ({ id: l.id, iss: l.issuer }));
  if (d.grant?.id !== undefined && d.grant.grantor !== undefined) return [{ id: d.grant.id, iss: d.grant.grantor }];
  return [];
}

/**
 * The receipts hook of the one pipeline: signs and logs the decision, and
 * wraps its spend so the settlement is logged too. A decision whose receipt
 * cannot be logged is not made: it becomes the store's 503 (and any spend it
 * reserved is released), so nothing is allowed that the log does not hold.
 */
export async function withReceipt(v: Verifier, receipts: Receipts, d: GuardDecision, c: DecisionContext): Promise<GuardDecision> {
  let recorded: { id: string; jws: string };
  try {
    recorded = await receipts.recordDecision({
      verifier: v.aud,
      time: c.now,
      ok: d.ok,
      status: d.status,
      reasons: d.reasons,
      ...(d.holder !== undefined ? { holder: d.holder } : {}),
      presentation: c.presentation,
      ...(c.recognised === true ? { recognised: true } : {}),
      ...(c.payload ? { payload: c.payload } : {}),
      request: requestOf(c.binding),
      policy: policyOf(v, c.policy, d),
      chain: chainOf(d),
      ...(d.agent?.principal !== undefined ? { principal: d.agent.principal } : {}),
      ...(d.spend ? { spend: { reservation: d.spend.reservationId, ...(d.agent?.amount ? { amount: d.agent.amount } : {}) } } : {}),
      ...(c.capture ? { capture: c.capture } : {}),
      window: { skew: v.skewSeconds, maxAge: v.maxAgeSeconds, nonces: v.nonces },
    });
  } catch (e) {
    if (d.spend) void d.spend.settle(false);
    const code = isCharterError(e) ? e.code : 'STORE_UNAVAILABLE';
    return { ok: false, status: 503, reasons: [{ code: code === 'STORE_ERROR' ? code : 'STORE_UNAVAILABLE', message: 'the decision could not be logged: try again' }] };
  }
  return {
    ...d,
    receipt: recorded.jws,
    receiptId: recorded.id,
    ...(d.spend ? { spend: loggedSpend(d.spend, receipts, recorded.id, d.holder) } : {}),
  };
}

const WATCH_MS = 2000;
const WATCH_FOR_MS = 11 * 60_000;

/** A SpendHold whose settlement (commit or release) is logged as a settlement receipt, once. */
function loggedSpend(hold: SpendHold, receipts: Receipts, receiptId: string, subject: string | undefined): SpendHold & { readonly receipt?: string } {
  let logged: Promise<void> | undefined;
  let receipt: string | undefined;
  const log = (): Promise<void> => {
    const s = hold.state;
    if (logged || (s !== 'committed' && s !== 'released')) return logged ?? Promise.resolve();
    logged = receipts.recordSettlement(receiptId, { reservation: hold.reservationId, state: s }, subject).then((r) => {
      receipt = r;
    });
    return logged;
  };
  // A settlement finished in the background (the store was down) is logged when it lands.
  const watch = () => {
    const until = Date.now() + WATCH_FOR_MS;
    const t = setInterval(() => {
      if (hold.state === 'committed' || hold.state === 'released' || Date.now() > until) {
        clearInterval(t);
        void log();
      }
    }, WATCH_MS);
    t.unref();
  };
  return {
    reservationId: hold.reservationId,
    remaining: hold.remaining,
    ...(hold.holdUntil ? { holdUntil: hold.holdUntil } : {}),
    get state() {
      return hold.state;
    },
    get receipt() {
      return receipt;
    },
    async commit() {
      await hold.commit();
      await log();
    },
    async release() {
      await hold.release();
      await log();
    },
    async settle(success): Promise<SpendState> {
      const s = await hold.settle(success);
      if (s === 'held') watch();
      else await log();
      return s;
    },
  };
}
