import type { IAgentPlugin } from '@veramo/core';
import { CharterError } from '../../errors.js';
import { parseDateTime } from '../../encoding/time.js';
import {
  createAgentPresentation,
  delegateMandate,
  issueAgentIdentity,
  issueMandate,
  revokeMandate,
  verifyAgent,
  type AgentDecision,
  type IssuedMandate,
} from '../../agents/index.js';
import { authorizeTransaction } from '../../guard/transaction.js';
import type { SpendHold } from '../../guard/spend.js';
import { TtlCache } from '../../did/cache.js';
import { verifyCredential } from '../../credentials/index.js';
import { unlessBoundElsewhere } from '../../guard/binding.js';
import type { CredentialVerification, IssuedCredential, Issuer, StatusChecker } from '../../credentials/types.js';
import { createResolver } from '../../did/index.js';
import type { CharterResolver, VerificationRelationship } from '../../did/types.js';
import { issueGrant, revokeGrant, verifyGrant, type GrantDecision, type IssuedGrant } from '../../grants/index.js';
import { checkReputation, scoreAgent, type ReputationCheck, type ReputationScore, type ScorePolicy } from '../../reputation/index.js';
import { createStatusChecker, currentStatusListJwt, type IssuerFor } from '../../status/index.js';
import type { Store } from '../../store/types.js';
import { routedResolver, veramoResolver } from './resolver.js';
import { charterVeramoSchema } from './schema.js';
import { veramoIssuer } from './signer.js';
import type {
  CharterAuthorization,
  CharterAuthorizeTransactionArgs,
  CharterCheckReputationArgs,
  CharterContext,
  CharterCreateAgentPresentationArgs,
  CharterDelegateMandateArgs,
  CharterIssueAgentIdentityArgs,
  CharterIssueGrantArgs,
  CharterIssueMandateArgs,
  CharterRevokeArgs,
  CharterScoreAgentArgs,
  CharterSpendArgs,
  CharterVerifyAgentArgs,
  CharterVerifyCredentialArgs,
  CharterVerifyGrantArgs,
  CharterVeramoOptions,
  DateInput,
  ICharterVeramo,
  SigningArgs,
} from './types.js';

interface Tools {
  resolver: CharterResolver;
  status: StatusChecker;
}

const has = (context: CharterContext, ...methods: string[]) => {
  const available = context.agent.availableMethods();
  return methods.every((m) => available.includes(m));
};
/**
 * A date a caller gave: a Date is checked where it is used (INVALID_ARGUMENT); a string, which may come
 * from a remote agent, must be an RFC 3339 date-time with its offset and a real calendar day. `new Date`
 * would roll 2030-02-30 over to March 2 and read a time without a zone in this host's zone, signing a
 * grant or mandate that outlives what the caller asked for.
 */
function toDate(v: DateInput, name: string): Date {
  if (typeof v !== 'string') return v;
  const t = parseDateTime(v);
  if (t === undefined) throw new CharterError('INVALID_ARGUMENT', `${name} must be an RFC 3339 date-time with its time zone (2030-01-01T00:00:00Z) on a real calendar day`);
  return new Date(t);
}

/** The plugin's options: any other key is a TypeError. */
const PLUGIN_OPTIONS = new Set(['store', 'baseUrl', 'resolver', 'status', 'aud', 'trust', 'verifier', 'reputation', 'issuerFor']);

/** Each method's argument names, from its schema (closed there, but Veramo checks it only with schemaValidation: true). */
const ARGUMENTS: Record<string, ReadonlySet<string>> = Object.fromEntries(
  Object.entries(charterVeramoSchema.components.methods).map(([m, d]) => [m, new Set(Object.keys((d.arguments as { properties: object }).properties))]),
);

/** A method refusing arguments its schema does not name, whatever the agent's schemaValidation. */
function closed<A, R>(name: string, fn: (args: A, context: CharterContext) => Promise<R>): (args: A, context: CharterContext) => Promise<R> {
  const allowed = ARGUMENTS[name]!;
  return async (args, context) => {
    if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new TypeError(`${name}: the arguments must be an object`);
    const unknown = Object.keys(args).find((k) => !allowed.has(k));
    if (unknown !== undefined) throw new TypeError(`${name}: unknown argument "${unknown.slice(0, 40)}": a misspelt option would leave the check it names undone`);
    return fn(args, context);
  };
}

/**
 * Charter as a Veramo agent plugin: any Veramo agent can verify credentials,
 * grants and agents (KYA) with Charter's rules, and issue grants, mandates
 * and agent identities signed by keys in its own key manager. Decisions come
 * back as data (`{ ok, reasons }` with Charter codes); only misuse throws.
 */
export class CharterVeramoPlugin implements IAgentPlugin {
  readonly methods: ICharterVeramo;
  readonly schema = charterVeramoSchema;
  readonly #options: CharterVeramoOptions;
  /** Resolver and status checker per calling agent, so their caches live as long as the agent. */
  readonly #tools = new WeakMap<object, Tools>();
  #fixed: Tools | undefined;
  /**
   * The holds this plugin's authorizations made (the newest 10,000, for a day): the only reservations
   * charterCommitSpend and charterReleaseSpend settle. A reservation id is no secret (a receipt carries it
   * to the agent), and the ledger may be shared with other verifiers: settling any id would let a caller
   * release another verifier's hold and spend its budget again.
   */
  readonly #holds = new TtlCache<string, SpendHold>(24 * 3600_000, 10_000);

  constructor(options: CharterVeramoOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('CharterVeramoPlugin options must be an object');
    if (options.store !== undefined && typeof options.store.putCredential !== 'function') throw new TypeError('options.store must be a Charter Store');
    if (options.baseUrl !== undefined && !/^https?:\/\/[^/]/.test(options.baseUrl)) throw new TypeError('options.baseUrl must be an http(s) URL');
    if (options.resolver !== undefined && typeof options.resolver.resolveKey !== 'function') throw new TypeError('options.resolver must be a CharterResolver');
    if (options.status !== undefined && typeof options.status !== 'function') throw new TypeError('options.status must be a status checker (createStatusChecker)');
    if (options.issuerFor !== undefined && typeof options.issuerFor !== 'function') throw new TypeError('options.issuerFor must be a function of a DID');
    if (options.verifier !== undefined && typeof options.verifier?.issueNonce !== 'function') throw new TypeError('options.verifier must come from createVerifier()');
    if ((options as { ledger?: unknown }).ledger !== undefined)
      throw new TypeError('options.ledger is gone: pass verifier (createVerifier({ aud, store, http: false })) for charterAuthorizeTransaction');
    // Closed, as every Charter options object: a misspelt or unsupported option (maxAgeSeconds, requireStatus...)
    // would leave the check it names undone.
    const unknown = Object.keys(options).find((k) => !PLUGIN_OPTIONS.has(k));
    if (unknown !== undefined) throw new TypeError(`CharterVeramoPlugin: unknown option "${unknown.slice(0, 40)}": a misspelt option would leave the check it names undone`);
    this.#options = { ...options };
    this.methods = {
      charterVerifyCredential: closed('charterVerifyCredential', this.charterVerifyCredential.bind(this)),
      charterVerifyGrant: closed('charterVerifyGrant', this.charterVerifyGrant.bind(this)),
      charterCommitSpend: closed('charterCommitSpend', this.charterCommitSpend.bind(this)),
      charterReleaseSpend: closed('charterReleaseSpend', this.charterReleaseSpend.bind(this)),
      charterVerifyAgent: closed('charterVerifyAgent', this.charterVerifyAgent.bind(this)),
      charterAuthorizeTransaction: closed('charterAuthorizeTransaction', this.charterAuthorizeTransaction.bind(this)),
      charterScoreAgent: closed('charterScoreAgent', this.charterScoreAgent.bind(this)),
      charterCheckReputation: closed('charterCheckReputation', this.charterCheckReputation.bind(this)),
      charterIssueGrant: closed('charterIssueGrant', this.charterIssueGrant.bind(this)),
      charterIssueMandate: closed('charterIssueMandate', this.charterIssueMandate.bind(this)),
      charterDelegateMandate: closed('charterDelegateMandate', this.charterDelegateMandate.bind(this)),
      charterIssueAgentIdentity: closed('charterIssueAgentIdentity', this.charterIssueAgentIdentity.bind(this)),
      charterCreateAgentPresentation: closed('charterCreateAgentPresentation', this.charterCreateAgentPresentation.bind(this)),
      charterRevokeGrant: closed('charterRevokeGrant', this.charterRevokeGrant.bind(this)),
      charterRevokeMandate: closed('charterRevokeMandate', this.charterRevokeMandate.bind(this)),
    };
  }

  /** A CredentialVerification for a `vc+jwt` or VCDM 1.1 JWT credential. */
  async charterVerifyCredential(args: CharterVerifyCredentialArgs, context: CharterContext): Promise<CredentialVerification> {
    const { resolver, status } = this.#toolsFor(context);
    return verifyCredential(args.credential, { resolver, status, requireType: args.requireType, acceptV1: args.acceptV1, ...(args.aud !== undefined ? { aud: args.aud } : {}) });
  }

  /** Does the grant (or a presentation of it) allow `action` on `resource` now? */
  async charterVerifyGrant(args: CharterVerifyGrantArgs, context: CharterContext): Promise<GrantDecision> {
    const { resolver, status } = this.#toolsFor(context);
    const d = await verifyGrant(args.grant, {
      resolver,
      status,
      resource: args.resource,
      action: args.action,
      ...(args.owner !== undefined ? { owner: args.owner } : {}),
      ...(args.anyOwner === true ? { anyOwner: true } : {}),
      grantee: args.grantee,
      // The plugin's own aud is the default for a presentation (a nonce, or allowMissingNonce, says one is
      // expected); an aud the caller names, or a nonce, makes a bare grant a refusal (verifyGrant).
      ...(args.aud !== undefined ? { aud: args.aud } : args.nonce !== undefined || args.allowMissingNonce === true ? { aud: this.#options.aud } : {}),
      nonce: args.nonce,
      allowMissingNonce: args.allowMissingNonce,
      // The declared use (grants/terms.ts): checked by verifyGrant, so a grant limited to a purpose or to
      // on-device processing is refused unless this call declares a use that fits.
      ...(args.purpose !== undefined ? { purpose: args.purpose } : {}),
      ...(args.processing !== undefined ? { processing: args.processing } : {}),
    });
    // As in charterVerifyAgent: a presentation bound to one HTTP request or MCP call is for that call only.
    return unlessBoundElsewhere(d, args.grant);
  }

  /** Commits the spend this plugin's charterAuthorizeTransaction reserved (the transaction happened). Throws RESERVATION_NOT_FOUND. */
  async charterCommitSpend(args: CharterSpendArgs): Promise<boolean> {
    const [id, hold] = this.#hold(args);
    await hold.commit();
    this.#holds.delete(id);
    return true;
  }

  /** Releases the spend this plugin's charterAuthorizeTransaction reserved (the transaction did not happen). Throws RESERVATION_NOT_FOUND. */
  async charterReleaseSpend(args: CharterSpendArgs): Promise<boolean> {
    const [id, hold] = this.#hold(args);
    await hold.release();
    this.#holds.delete(id);
    return true;
  }

  #hold(args: CharterSpendArgs): [string, SpendHold] {
    if (!this.#options.verifier) throw new TypeError('spends need options.verifier (createVerifier({ aud, store, http: false }))');
    const id = this.#reservation(args);
    const hold = this.#holds.get(id);
    if (!hold) {
      throw new CharterError(
        'RESERVATION_NOT_FOUND',
        'no reservation this plugin made is held under this id (another verifier made it, it was settled, or it was made over a day ago): settle it where it was made, or with commitSpend / releaseSpend on the store',
      );
    }
    return [id, hold];
  }

  #reservation(args: CharterSpendArgs): string {
    if (typeof args?.reservationId !== 'string' || args.reservationId.length === 0)
      throw new TypeError("reservationId must be the id from this plugin's charterAuthorizeTransaction");
    return args.reservationId;
  }

  /**
   * Charter's guard pipeline for a transaction: verifies the presentation, uses its jti (or nonce) up
   * in the verifier's store, and reserves the spend on every link; settle with charterCommitSpend or
   * charterReleaseSpend. Needs options.verifier.
   */
  async charterAuthorizeTransaction(args: CharterAuthorizeTransactionArgs): Promise<CharterAuthorization> {
    const o = this.#options;
    if (!o.verifier) throw new TypeError('charterAuthorizeTransaction needs options.verifier (createVerifier({ aud, store, http: false }))');
    const d = await authorizeTransaction(args.presentation, {
      verifier: o.verifier,
      action: args.action,
      ...(args.amount !== undefined ? { amount: args.amount } : {}),
      ...(args.counterparty !== undefined ? { counterparty: args.counterparty } : {}),
      trust: (args.trust ?? o.trust)!,
      ...(o.reputation ? { reputation: o.reputation } : {}),
    });
    if (d.spend) this.#holds.set(d.spend.reservationId, d.spend);
    return {
      ok: d.ok,
      status: d.status,
      reasons: d.reasons,
      ...(d.agent ? { decision: d.agent } : {}),
      ...(d.spend ? { reservationId: d.spend.reservationId, remaining: d.spend.remaining } : {}),
      ...(d.receipt !== undefined ? { receipt: d.receipt } : {}),
    };
  }

  /** Know Your Agent: Charter's verifyAgent (a pure decision) with this plugin's trust and reputation source. */
  async charterVerifyAgent(args: CharterVerifyAgentArgs, context: CharterContext): Promise<AgentDecision> {
    const { resolver, status } = this.#toolsFor(context);
    const o = this.#options;
    // Without an aud or trust from the call or the options, verifyAgent throws TypeError (misuse).
    const d = await verifyAgent(args.presentation, {
      resolver,
      status,
      aud: (args.aud ?? o.aud)!,
      trust: (args.trust ?? o.trust)!,
      action: args.action,
      amount: args.amount,
      counterparty: args.counterparty,
      nonce: args.nonce,
      allowMissingNonce: args.allowMissingNonce,
      reputation: o.reputation,
    });
    // A presentation bound to one HTTP request or MCP call is for that call only (charterAuthorizeTransaction
    // and the guards check it there): here, with no request to compare, it is refused.
    return unlessBoundElsewhere(d, args.presentation);
  }

  async charterScoreAgent(args: CharterScoreAgentArgs, context: CharterContext): Promise<ReputationScore> {
    return scoreAgent(args.agent, args.attestations, this.#policy(args, context));
  }

  async charterCheckReputation(args: CharterCheckReputationArgs, context: CharterContext): Promise<ReputationCheck> {
    return checkReputation(args.agent, args.attestations, {
      minReputation: args.minReputation,
      ...(args.minAttesters !== undefined ? { minAttesters: args.minAttesters } : {}),
      policy: this.#policy(args, context),
    });
  }

  async charterIssueGrant(args: CharterIssueGrantArgs, context: CharterContext): Promise<IssuedGrant> {
    return this.#issue(context, args, (store, issuer, baseUrl) =>
      issueGrant(store, issuer, {
        grantee: args.grantee,
        resources: args.resources,
        actions: args.actions,
        purpose: args.purpose,
        validUntil: toDate(args.validUntil, 'validUntil'),
        ...(args.validFrom !== undefined ? { validFrom: toDate(args.validFrom, 'validFrom') } : {}),
        ...(args.constraints !== undefined ? { constraints: args.constraints } : {}),
        ...(args.terms !== undefined ? { terms: args.terms } : {}),
        baseUrl,
      }),
    );
  }

  /** A root AgentAuthorityCredential from `issuer` (the principal) to `agent`. */
  async charterIssueMandate(args: CharterIssueMandateArgs, context: CharterContext): Promise<IssuedMandate> {
    return this.#issue(context, args, (store, issuer, baseUrl) =>
      issueMandate(store, issuer, { agent: args.agent, authority: args.authority, validUntil: toDate(args.validUntil, 'validUntil'), baseUrl }),
    );
  }

  /** A delegated mandate: `issuer` (the parent's subject) hands a narrower part of `parent` to `to`. */
  async charterDelegateMandate(args: CharterDelegateMandateArgs, context: CharterContext): Promise<IssuedMandate> {
    return this.#issue(context, args, (store, issuer, baseUrl) =>
      delegateMandate(store, issuer, { parentJwt: args.parent, to: args.to, authority: args.authority, validUntil: toDate(args.validUntil, 'validUntil'), baseUrl }),
    );
  }

  /** An AgentIdentityCredential: `issuer` (the operator) answers for `agent`. Stored when the plugin has a store. */
  async charterIssueAgentIdentity(args: CharterIssueAgentIdentityArgs, context: CharterContext): Promise<IssuedCredential> {
    const issuer = await this.#signer(context, args);
    return issueAgentIdentity(this.#options.store ?? null, issuer, {
      agent: args.agent,
      name: args.name,
      ...(args.software ? { software: args.software } : {}),
      ...(args.model !== undefined ? { model: args.model } : {}),
      ...(args.homepage !== undefined ? { homepage: args.homepage } : {}),
      ...(args.validUntil !== undefined ? { validUntil: toDate(args.validUntil, 'validUntil') } : {}),
    });
  }

  /** The agent's presentation of its identity and mandate chain, signed with its authentication key in Veramo. */
  async charterCreateAgentPresentation(args: CharterCreateAgentPresentationArgs, context: CharterContext): Promise<string> {
    const agent = await this.#signer(context, { issuer: args.agent, keyRef: args.keyRef }, 'authentication');
    return createAgentPresentation({
      agent,
      chain: args.chain,
      aud: args.aud,
      nonce: args.nonce,
      ...(args.identity !== undefined ? { identity: args.identity } : {}),
      ...(args.expiresInSeconds !== undefined ? { expiresInSeconds: args.expiresInSeconds } : {}),
    });
  }

  async charterRevokeGrant(args: CharterRevokeArgs, context: CharterContext): Promise<boolean> {
    return this.#revoke(context, args.id, revokeGrant);
  }

  /** Revokes a mandate issued from the plugin's store; every link delegated below it is cut off too. */
  async charterRevokeMandate(args: CharterRevokeArgs, context: CharterContext): Promise<boolean> {
    return this.#revoke(context, args.id, revokeMandate);
  }

  #toolsFor(context: CharterContext): Tools {
    const o = this.#options;
    if (o.resolver) return (this.#fixed ??= { resolver: o.resolver, status: o.status ?? createStatusChecker({ resolver: o.resolver }) });
    let tools = this.#tools.get(context.agent);
    if (!tools) {
      const resolver = has(context, 'resolveDid') ? routedResolver(createResolver(), veramoResolver(context.agent)) : createResolver();
      tools = { resolver, status: o.status ?? createStatusChecker({ resolver }) };
      this.#tools.set(context.agent, tools);
    }
    return tools;
  }

  #policy(args: CharterScoreAgentArgs, context: CharterContext): ScorePolicy {
    const { resolver, status } = this.#toolsFor(context);
    return {
      resolver,
      status,
      operator: args.operator,
      trustedAttesters: args.trustedAttesters,
      trustedIdentityIssuers: args.trustedIdentityIssuers,
      attesterCredentials: args.attesterCredentials,
      unknownAttesterWeight: args.unknownAttesterWeight,
      halfLifeSeconds: args.halfLifeSeconds,
    };
  }

  /** The key for `issuer`: in the calling agent's key manager when it manages the DID, else from `options.issuerFor`. */
  async #signer(context: CharterContext, who: SigningArgs, relationship: VerificationRelationship = 'assertionMethod'): Promise<Issuer> {
    if (typeof who.issuer !== 'string' || !who.issuer.startsWith('did:')) throw new TypeError('the issuer must be a DID');
    if (has(context, 'didManagerGet', 'keyManagerSign')) {
      // Only "not found" means the agent does not manage this DID; any other failure is a fault.
      const identifier = await context.agent.didManagerGet({ did: who.issuer }).catch((e: unknown) => {
        if (/not.?found/i.test(String((e as { message?: unknown })?.message ?? e))) return undefined;
        throw e;
      });
      if (identifier) {
        return veramoIssuer(context.agent, this.#toolsFor(context).resolver, identifier, { ...(who.keyRef !== undefined ? { keyRef: who.keyRef } : {}), relationship });
      }
    }
    if (this.#options.issuerFor) return this.#options.issuerFor(who.issuer);
    throw new CharterError('NOT_FOUND', `the Veramo agent manages no DID ${who.issuer.slice(0, 80)} and no issuerFor was given`);
  }

  /**
   * Issues, then signs the status lists the new credential was given an
   * entry in: the stored list is then current, so a server publishing this
   * store never needs the Veramo key.
   */
  async #issue<T extends { id: string; jwt: string }>(context: CharterContext, who: SigningArgs, run: (store: Store, issuer: Issuer, baseUrl: string) => Promise<T>): Promise<T> {
    const { store, baseUrl } = this.#options;
    if (!store || baseUrl === undefined) throw new TypeError('issuing grants and mandates needs options.store and options.baseUrl');
    const issuer = await this.#signer(context, who);
    const issued = await run(store, issuer, baseUrl);
    for (const a of await store.findStatusAllocation(issued.id)) await currentStatusListJwt(store, a.listId, async () => issuer);
    return issued;
  }

  async #revoke(context: CharterContext, id: string, revoke: (store: Store, id: string, issuerFor: IssuerFor) => Promise<unknown>): Promise<boolean> {
    const store = this.#options.store;
    if (!store) throw new TypeError('revoking needs options.store');
    if (typeof id !== 'string') throw new TypeError('id must be a credential id');
    const rec = await store.getCredential(id);
    if (!rec || rec.direction !== 'issued') throw new CharterError('NOT_FOUND', `no credential ${id.slice(0, 80)} issued from this store`);
    const issuer = await this.#signer(context, { issuer: rec.issuer });
    await revoke(store, id, async (did) => {
      if (did !== issuer.did) throw new CharterError('NOT_FOUND', `no key for the status list issuer ${did.slice(0, 80)}`);
      return issuer;
    });
    return true;
  }
}
