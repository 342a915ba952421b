import { CharterError, toReason, type Reason } from '../errors.js';
import { sameParty } from '../did/parties.js';
import { checkOperatorsPinned, checkReputationThresholds, reputationReasons } from './thresholds.js';
import { soleSubject, verifyPresentation } from '../credentials/index.js';
import type { CredentialVerification } from '../credentials/types.js';
import { DEFAULT_MAX_AGE_SECONDS, nowOf } from '../credentials/time.js';
import { assertAction } from './actions.js';
import { checkRequest } from './authority.js';
import { checkChainLinks, checkTrustLists } from './chain.js';
import { toMoney } from './limits.js';
import { AGENT_AUTHORITY_TYPE, AGENT_IDENTITY_TYPE, type AgentDecision, type AgentInfo, type AgentTrust, type ChainLinkResult, type VerifyAgentOptions } from './types.js';
import { readOptions, type OptionSpec } from '../encoding/options.js';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const ofType = (t: string) => (c: CredentialVerification) => c.credential?.type.includes(t) === true;

export { checkReputationThresholds };

/** The trust rules of a KYA decision (verifyAgent, requireAgent, guardTransaction). */
export const TRUST_SPEC: OptionSpec<AgentTrust> = {
  principals: true,
  anyPrincipal: 'boolean',
  identityIssuers: true,
  requireIdentity: 'boolean',
  minReputation: true,
  minAttesters: true,
};

const OPTIONS: OptionSpec<VerifyAgentOptions> = {
  resolver: true,
  status: true,
  aud: true,
  nonce: true,
  allowMissingNonce: 'boolean',
  maxAgeSeconds: true,
  action: true,
  amount: true,
  counterparty: true,
  now: true,
  skewSeconds: true,
  trust: TRUST_SPEC,
  reputation: true,
};

function readAgentOptions(o: VerifyAgentOptions): VerifyAgentOptions {
  if (o && typeof o === 'object') {
    for (const gone of ['ledger', 'record', 'reservationId', 'at'] as const) {
      if ((o as unknown as Record<string, unknown>)[gone] !== undefined) {
        throw new TypeError(`verifyAgent no longer takes "${gone}": it is a pure decision (use "now"; spend is reserved by guardTransaction / authorizeTransaction)`);
      }
    }
  }
  return readOptions('verifyAgent', o, OPTIONS);
}

function checkOptions(o: VerifyAgentOptions): void {
  if (!o || typeof o.resolver?.resolveKey !== 'function') throw new TypeError('verifyAgent needs options.resolver');
  if (typeof o.status !== 'function') throw new TypeError('verifyAgent needs options.status (mandates are revocable)');
  if (typeof o.aud !== 'string' || o.aud.length === 0) throw new TypeError('verifyAgent needs options.aud');
  if (!isObj(o.trust)) throw new TypeError('verifyAgent needs options.trust ({ principals } or { anyPrincipal: true })');
  if (o.trust.minReputation !== undefined && typeof o.reputation !== 'function') throw new TypeError('trust.minReputation needs options.reputation (a reputation source)');
  checkReputationThresholds('verifyAgent: trust', o.trust);
  checkOperatorsPinned('verifyAgent: trust', o.trust);
  checkTrustLists('verifyAgent', o.trust);
}

/** The identity step: an AgentIdentityCredential about the agent, from the operator it names, trusted if a list is given. */
async function checkIdentity(ids: CredentialVerification[], agent: string | undefined, o: VerifyAgentOptions, reasons: Reason[]): Promise<{ operator?: string; info?: AgentInfo }> {
  const about = ids.filter((c) => c.subject === agent);
  // One operator answers for the agent: given two, the agent would choose which one a verifier checks (and
  // whose ratings of it count as a third party's).
  if (about.length > 1) {
    reasons.push({ code: 'INVALID_PRESENTATION', message: "the presentation carries more than one AgentIdentityCredential about the agent: present its operator's only" });
    return {};
  }
  const mine = about[0];
  if (!mine) {
    if (ids.length > 0) reasons.push({ code: 'HOLDER_MISMATCH', message: 'the identity credential is about another agent', ref: ids[0]!.id ?? 'identity' });
    else if (o.trust.requireIdentity !== false) reasons.push({ code: 'IDENTITY_MISSING', message: 'the presentation carries no AgentIdentityCredential' });
    return {};
  }
  const ref = mine.id ?? 'identity';
  const a = (mine.credential && soleSubject(mine.credential))?.agent;
  const info = isObj(a) && typeof a.name === 'string' && typeof a.operator === 'string' ? (a as unknown as AgentInfo) : undefined;
  const operator = mine.issuer;
  if (info && info.operator !== operator) reasons.push({ code: 'INVALID_CREDENTIAL', message: 'the identity credential names an operator other than its issuer', ref });
  // An agent answering for itself names no one accountable, and would make its own ratings its operator's.
  // "Itself" by key, not by spelling: did:jwk and did:key of one key (or a did:web listing the agent's key) are the agent.
  if (operator !== undefined && agent !== undefined) {
    let self: boolean | Reason;
    try {
      self = await sameParty(o.resolver, operator, agent);
    } catch (e) {
      self = toReason(e, 'DID_RESOLUTION_FAILED');
    }
    if (self === true) reasons.push({ code: 'UNTRUSTED_ISSUER', message: 'the identity credential is issued by the agent itself: an operator must answer for it', ref });
    else if (self !== false) reasons.push({ ...self, ref });
  }
  if (operator !== undefined && o.trust.identityIssuers !== undefined && !o.trust.identityIssuers.includes(operator)) {
    reasons.push({ code: 'UNTRUSTED_ISSUER', message: `the agent's operator ${operator.slice(0, 100)} is not one this verifier trusts`, ref });
  }
  return { ...(operator !== undefined ? { operator } : {}), ...(info ? { info } : {}) };
}

/**
 * Know Your Agent, as a pure decision: may the agent that signed this
 * presentation do `action` (for `amount`, with `counterparty`) now? Every
 * step adds its refusals: (1) the presentation is the agent's, for this
 * audience and nonce, and each credential in it verifies (signature,
 * validity, status); (2) the identity credential names a (trusted)
 * operator; (3) the mandate chain is linked, never widens, has no cycle,
 * stays within depth and is rooted in a trusted principal; (4) every link
 * allows the action, amount and counterparty (a link with a money limit
 * needs an amount); (5) the reputation threshold. `ok` only when there is
 * no reason at all. Nothing is written: cumulative budgets and rates are
 * reserved by the guard pipeline (guardTransaction, the HTTP and MCP
 * guards) after the presentation is used up.
 *
 * Throws only for misuse: TypeError for missing, unknown or mistyped options, INVALID_ARGUMENT for
 * a malformed `action`, `amount` or `counterparty`.
 */
export async function verifyAgent(presentationJwt: string, given: VerifyAgentOptions): Promise<AgentDecision> {
  // One plain copy, read once: unknown keys and non-boolean opt-outs are TypeErrors, and nothing the caller
  // changes while this call awaits (or a getter answering twice) reaches the decision.
  const options = readAgentOptions(given);
  checkOptions(options);
  const action = assertAction(options.action);
  const amount = options.amount !== undefined ? toMoney(options.amount) : undefined;
  // Often the remote party's word (a body field, a tool argument): a malformed one is INVALID_ARGUMENT, as for amount.
  if (options.counterparty !== undefined && (typeof options.counterparty !== 'string' || options.counterparty.length > 2048)) {
    throw new CharterError('INVALID_ARGUMENT', 'the counterparty must be a string (a DID or origin) of at most 2048 characters');
  }
  const now = nowOf(options.now, 'verifyAgent');

  // (1) Holder binding is checked below for the identity and the leaf only: the links above are about other agents.
  const pres = await verifyPresentation(presentationJwt, {
    resolver: options.resolver,
    status: options.status,
    aud: options.aud,
    ...(options.nonce !== undefined ? { nonce: options.nonce } : {}),
    ...(options.allowMissingNonce === true ? { allowMissingNonce: true } : {}),
    maxAgeSeconds: options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS,
    ...(options.skewSeconds !== undefined ? { skewSeconds: options.skewSeconds } : {}),
    now,
    allowHolderMismatch: true,
  });
  const reasons: Reason[] = [...pres.reasons];
  const agent = pres.holder;

  // (2)
  const identity = await checkIdentity(pres.credentials.filter(ofType(AGENT_IDENTITY_TYPE)), agent, options, reasons);

  // (3)
  const chain = checkChainLinks(pres.credentials.filter(ofType(AGENT_AUTHORITY_TYPE)), { trust: options.trust, ...(agent !== undefined ? { agent } : {}) });
  reasons.push(...chain.reasons);
  const linkById = new Map<string, ChainLinkResult>(chain.links.map((l) => [l.id, l]));
  const add = (r: Reason) => {
    reasons.push(r);
    if (r.ref !== undefined) linkById.get(r.ref)?.checks.push(r);
  };

  // (4)
  const request = { action, ...(amount ? { amount } : {}), ...(options.counterparty !== undefined ? { counterparty: options.counterparty } : {}) };
  for (const m of chain.mandates) for (const r of checkRequest(m.authority, request)) add({ ...r, ref: m.id });

  // (5)
  let reputation: AgentDecision['reputation'];
  if (options.trust.minReputation !== undefined && agent !== undefined && identity.operator === undefined && !reasons.some((r) => r.code === 'IDENTITY_MISSING')) {
    // Without an identity credential nobody is known to operate the agent, so its operator's own ratings
    // would count as a third party's: showing less must never score more. A reputation rule needs one.
    reasons.push({ code: 'IDENTITY_MISSING', message: 'a reputation rule needs the agent identity credential: without it, its operator cannot be told from a third party' });
  } else if (options.trust.minReputation !== undefined && agent !== undefined && identity.operator !== undefined && options.trust.identityIssuers!.includes(identity.operator)) {
    // identityIssuers is there (checkOperatorsPinned); an operator outside it is already refused, and its
    // agent is not scored as if that operator answered for it.
    const rep = await options.reputation!(agent, identity.operator);
    reputation = rep;
    reasons.push(...reputationReasons(rep, options.trust.minReputation, options.trust.minAttesters ?? 1));
  }

  // Cumulative limits need the ledger; say so, so a caller never mistakes "allowed" for "within budget".
  const cumulative = chain.mandates.some((m) => m.authority.limits?.budget !== undefined || m.authority.limits?.rate !== undefined);
  return {
    ok: reasons.length === 0,
    reasons,
    ...(agent !== undefined ? { agent } : {}),
    ...(identity.operator !== undefined ? { operator: identity.operator } : {}),
    ...(identity.info ? { agentInfo: identity.info } : {}),
    ...(chain.principal !== undefined ? { principal: chain.principal } : {}),
    ...(chain.principalTrust ? { principalTrust: chain.principalTrust } : {}),
    chain: chain.links,
    ...(amount ? { amount } : {}),
    cumulativeLimits: cumulative,
    ...(reputation ? { reputation } : {}),
    ...(pres.payload ? { payload: pres.payload } : {}),
  };
}
