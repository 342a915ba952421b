import { randomUUID } from 'node:crypto';
import { createPresentation, issueCredential, schemaIdFor } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { allocateStatusEntry } from '../../src/status/index.js';
import {
  createAgentPresentation,
  delegateMandate,
  issueAgentIdentity,
  issueMandate,
  previewSpend,
  verifyAgent,
  type AgentDecision,
  type AgentRemaining,
  type Authority,
  type IssuedMandate,
  type VerifyAgentOptions,
} from '../../src/agents/index.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { authorizeTransaction } from '../../src/guard/transaction.js';
import type { Ledger, NonceStore } from '../../src/store/types.js';
import type { World } from './fixture.js';

export const AUD = 'did:web:shop.example';
export const days = (n: number) => new Date(Date.now() + n * 86400_000);

export const ROOT: Authority = {
  actions: ['pay:*', 'read'],
  maxDelegationDepth: 3,
  limits: {
    perTransaction: { amount: '50', currency: 'USD' },
    budget: { amount: '100', currency: 'USD', period: 'P30D' },
    counterparties: [AUD, 'did:web:other.example'],
    rate: { count: 20, period: 'PT1H' },
  },
};

/** Narrow `a` by one depth step (and optionally more). */
export const step = (a: Authority, extra: Partial<Authority> = {}): Authority => {
  const { parent: _p, ...rest } = a;
  return { ...rest, maxDelegationDepth: a.maxDelegationDepth - 1, ...extra };
};

export interface Chain {
  /** agents[0] is the principal's agent; the last is the acting agent. */
  agents: Issuer[];
  mandates: IssuedMandate[];
  identity: string;
  principal: Issuer;
  operator: Issuer;
}

/** principal -> agent1 -> ... -> agentN through the library (every link narrows by one depth). */
export async function buildChain(w: World, depth: number, root: Authority = ROOT, tag = randomUUID()): Promise<Chain> {
  const principal = w.issuer(`principal-${tag}`);
  const operator = w.issuer(`operator-${tag}`);
  const agents = Array.from({ length: depth }, (_, i) => w.issuer(`agent-${tag}-${i}`));
  const mandates: IssuedMandate[] = [await issueMandate(w.store, principal, { agent: agents[0]!.did, authority: root, validUntil: days(30), baseUrl: w.baseUrl })];
  let authority = root;
  for (let i = 1; i < depth; i++) {
    authority = step(authority);
    mandates.push(await delegateMandate(w.store, agents[i - 1]!, { parentJwt: mandates[i - 1]!.jwt, to: agents[i]!.did, authority, validUntil: days(29 - i), baseUrl: w.baseUrl }));
  }
  const leaf = agents[depth - 1]!;
  const identity = await issueAgentIdentity(w.store, operator, { agent: leaf.did, name: 'shopper', software: { name: 'bot', version: '1.0.0' } });
  return { agents, mandates, identity: identity.jwt, principal, operator };
}

/** Signs a mandate directly, bypassing delegateMandate's checks (to build chains a verifier must refuse). */
export async function signLink(
  w: World,
  issuer: Issuer,
  subject: string,
  authority: unknown,
  opts: { validUntil?: Date | null; validFrom?: Date; status?: boolean } = {},
): Promise<string> {
  const id = `urn:uuid:${randomUUID()}`;
  const status = opts.status === false ? undefined : await allocateStatusEntry(w.store, { issuerDid: issuer.did, baseUrl: w.baseUrl, purpose: 'revocation', credentialId: id });
  const issued = await issueCredential({
    issuer,
    id,
    subject,
    type: 'AgentAuthorityCredential',
    claims: { authority: authority as Record<string, unknown> },
    ...(opts.validFrom ? { validFrom: opts.validFrom } : {}),
    ...(opts.validUntil !== null ? { validUntil: opts.validUntil ?? days(10) } : {}),
    credentialSchema: { id: schemaIdFor('AgentAuthorityCredential')!, type: 'JsonSchema' },
    ...(status ? { credentialStatus: status } : {}),
  });
  return issued.jwt;
}

/** verifyAgent's options, plus how the test runs it: `record` goes through the guard pipeline (reserving the spend). */
export type AttemptOptions = Partial<VerifyAgentOptions> & { record?: boolean; store?: Ledger & NonceStore };

/** A decision as the tests read it: the pure decision, plus the reservation and what is left. */
export interface Outcome extends AgentDecision {
  reservationId?: string;
  remaining: AgentRemaining;
}

export interface Attempt {
  agent: Issuer;
  identity?: string;
  chain: string[];
  options?: AttemptOptions;
  aud?: string;
  nonce?: string;
  /** Present the chain exactly in this order (skip createAgentPresentation's ordering). */
  raw?: boolean;
}

/**
 * Presents and verifies in one go, with a fresh status checker (a new
 * verifier). Without `record`: the pure decision plus a read-only budget
 * preview (what reserving would say). With `record`: the guard pipeline,
 * which uses the presentation up and reserves the spend on every link.
 */
export async function attempt(w: World, a: Attempt): Promise<Outcome> {
  const nonce = a.nonce ?? randomUUID();
  const jwt = a.raw
    ? await createPresentation({ holder: a.agent, credentials: [...(a.identity ? [a.identity] : []), ...a.chain], aud: a.aud ?? AUD, nonce })
    : await createAgentPresentation({ agent: a.agent, ...(a.identity ? { identity: a.identity } : {}), chain: a.chain, aud: a.aud ?? AUD, nonce });
  const { record, store, ...opts } = a.options ?? {};
  const options: VerifyAgentOptions = {
    resolver: w.resolver,
    status: w.status(),
    aud: AUD,
    nonce,
    action: 'pay:card',
    amount: '10 USD',
    counterparty: AUD,
    ...opts,
    trust: opts.trust ?? { anyPrincipal: true },
  };
  if (record) {
    const verifier = createVerifier({ aud: AUD, store: store ?? w.store, resolver: options.resolver, status: options.status, http: false });
    const d = await authorizeTransaction(jwt, {
      verifier,
      action: options.action,
      ...(options.amount !== undefined ? { amount: options.amount } : {}),
      ...(options.counterparty !== undefined ? { counterparty: options.counterparty } : {}),
      trust: options.trust,
      ...(options.now ? { now: options.now } : {}),
    });
    const base = d.agent ?? { chain: [], cumulativeLimits: false };
    return { ...base, ok: d.ok, reasons: d.reasons, ...(d.spend ? { reservationId: d.spend.reservationId } : {}), remaining: d.spend?.remaining ?? {} };
  }
  const d = await verifyAgent(jwt, options);
  if (!d.ok || !d.cumulativeLimits) return { ...d, remaining: {} };
  const preview = await previewSpend(store ?? w.store, d, options.now);
  return { ...d, ok: preview.ok, reasons: preview.reasons, remaining: preview.remaining };
}

export const codes = (d: { reasons: { code: string }[] }) => [...new Set(d.reasons.map((r) => r.code))].sort();
