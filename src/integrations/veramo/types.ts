import type { IAgentContext, IDIDManager, IKeyManager, IPluginMethodMap, IResolver } from '@veramo/core';
import type { AgentDecision, AgentRemaining, AgentTrust, AmountInput, Authority, IssuedMandate, VerifyAgentOptions } from '../../agents/index.js';
import type { Verifier } from '../../guard/verifier.js';
import type { Reason } from '../../errors.js';
import type { CredentialVerification, IssuedCredential, StatusChecker } from '../../credentials/types.js';
import type { CharterResolver } from '../../did/types.js';
import type { DeclaredProcessing, GrantDecision, GrantTerms, IssuedGrant } from '../../grants/index.js';
import type { ReputationCheck, ReputationScore } from '../../reputation/index.js';
import type { IssuerFor } from '../../status/index.js';
import type { Store } from '../../store/types.js';

export interface CharterVeramoOptions {
  /** Where issued grants and mandates, their status lists and (by default) the spend ledger live. Needed to issue and revoke. */
  store?: Store;
  /** Base URL under which the store's status lists are published (`<baseUrl>/status/<id>`). Needed to issue grants and mandates. */
  baseUrl?: string;
  /**
   * Resolves DIDs for every check. Default: the calling agent's `resolveDid`
   * when it has one (so Charter sees the DID methods Veramo is configured
   * for), else Charter's resolver (did:key, did:jwk, did:web).
   */
  resolver?: CharterResolver;
  /** Revocation checks. Default: Charter's status checker over the resolver in use. */
  status?: StatusChecker;
  /** This verifier, as agents bind their presentations to it; a call's `aud` overrides it. */
  aud?: string;
  /** Which principals and operators this verifier trusts; a call's `trust` overrides it. */
  trust?: AgentTrust;
  /**
   * The guard for charterAuthorizeTransaction (createVerifier({ aud, store, http: false })): its store is
   * the replay cache and the spend ledger, so a presentation is used once and budgets hold across instances.
   */
  verifier?: Verifier;
  /** Reputation source for `trust.minReputation` (see verifyAgent). */
  reputation?: VerifyAgentOptions['reputation'];
  /** Keys for DIDs the calling agent does not manage (e.g. `home.issuerFor`). */
  issuerFor?: IssuerFor;
}

/** Dates travel as ISO 8601 strings when the agent is remote; Date objects work in-process. */
export type DateInput = string | Date;

export interface CharterVerifyCredentialArgs {
  credential: string;
  /** Require this type, e.g. `DataAccessGrant`. */
  requireType?: string;
  /** Accept VCDM 1.1 JWTs (what Veramo's `proofFormat: 'jwt'` writes). Default true. */
  acceptV1?: boolean;
  /** Who is verifying: a credential naming an audience (`aud`) verifies only for one it names. */
  aud?: string;
}

export interface CharterVerifyGrantArgs {
  /** A DataAccessGrant JWT, or a presentation of one by its grantee. */
  grant: string;
  resource: string;
  action: string;
  /** The DID whose data is asked for: the grant must be its issuer's (GRANT_NOT_OWNER). */
  owner?: string;
  /** Explicitly accept a grant from any issuer. One of owner / anyOwner is required. */
  anyOwner?: boolean;
  grantee?: string;
  aud?: string;
  nonce?: string;
  allowMissingNonce?: boolean;
  /** What this use is for (e.g. `model-training`): a grant whose terms limit purposes must name it (PURPOSE_NOT_ALLOWED). */
  purpose?: string;
  /** Where this verifier processes the data: a grant limited to on-device or trusted-execution must match (PROCESSING_NOT_ALLOWED). */
  processing?: DeclaredProcessing;
}

export interface CharterVerifyAgentArgs {
  /** The agent's presentation (identity and mandate chain). */
  presentation: string;
  action: string;
  /** "49.99 USD" or `{ amount, currency }`. Required by a money-limited mandate. */
  amount?: AmountInput;
  counterparty?: string;
  aud?: string;
  nonce?: string;
  allowMissingNonce?: boolean;
  trust?: AgentTrust;
}

export interface CharterAuthorizeTransactionArgs {
  presentation: string;
  action: string;
  amount?: AmountInput;
  counterparty?: string;
  trust?: AgentTrust;
}

/** A serialisable guard decision: settle `reservationId` with charterCommitSpend / charterReleaseSpend. */
export interface CharterAuthorization {
  ok: boolean;
  status: number;
  reasons: Reason[];
  decision?: AgentDecision;
  reservationId?: string;
  remaining?: AgentRemaining;
  /** With a receipts verifier (createVerifier({ receipts })): the signed decision receipt, allow or deny. */
  receipt?: string;
}

export interface CharterScoreAgentArgs {
  agent: string;
  /** ReputationAttestation JWTs this verifier holds. */
  attestations: string[];
  /** The agent's operator: its ratings count as self-attestation. */
  operator?: string;
  trustedAttesters?: string[];
  trustedIdentityIssuers?: string[];
  attesterCredentials?: string[];
  unknownAttesterWeight?: number;
  halfLifeSeconds?: number;
}

export interface CharterCheckReputationArgs extends CharterScoreAgentArgs {
  minReputation: number;
  /** Fewest distinct trusted attesters. Default 1. */
  minAttesters?: number;
}

/** Who signs: a DID the agent manages (or `issuerFor` holds), and optionally which of its keys (Veramo `kid`). */
export interface SigningArgs {
  issuer: string;
  keyRef?: string;
}

export interface CharterIssueGrantArgs extends SigningArgs {
  grantee: string;
  resources: string[];
  actions: string[];
  purpose: string;
  validUntil: DateInput;
  validFrom?: DateInput;
  constraints?: Record<string, unknown>;
  /** The grant's terms (purpose codes, retention, onward sharing, processing...), as issueGrant takes them. */
  terms?: GrantTerms;
}

export interface CharterIssueMandateArgs extends SigningArgs {
  /** The agent's DID. */
  agent: string;
  authority: Authority;
  validUntil: DateInput;
}

export interface CharterDelegateMandateArgs extends SigningArgs {
  /** The mandate being delegated; `issuer` must be its subject. */
  parent: string;
  to: string;
  authority: Omit<Authority, 'parent'>;
  validUntil: DateInput;
}

export interface CharterIssueAgentIdentityArgs extends SigningArgs {
  agent: string;
  name: string;
  software?: { name: string; version: string; digest?: string };
  model?: string;
  homepage?: string;
  validUntil?: DateInput;
}

export interface CharterCreateAgentPresentationArgs {
  /** The agent's DID, managed by the calling Veramo agent; signs with an authentication key. */
  agent: string;
  keyRef?: string;
  identity?: string;
  chain: string[];
  aud: string;
  nonce: string;
  expiresInSeconds?: number;
}

export interface CharterSpendArgs {
  /** The `reservationId` of an allowed charterAuthorizeTransaction. */
  reservationId: string;
}

export interface CharterRevokeArgs {
  /** Id of a grant or mandate issued from the plugin's store. */
  id: string;
}

/** Context the methods use; each capability is checked with `availableMethods()` before use. */
export type CharterContext = IAgentContext<IResolver & IKeyManager & IDIDManager>;

/** The methods CharterVeramoPlugin adds to a Veramo agent. */
export interface ICharterVeramo extends IPluginMethodMap {
  charterVerifyCredential(args: CharterVerifyCredentialArgs, context: CharterContext): Promise<CredentialVerification>;
  charterVerifyGrant(args: CharterVerifyGrantArgs, context: CharterContext): Promise<GrantDecision>;
  charterVerifyAgent(args: CharterVerifyAgentArgs, context: CharterContext): Promise<AgentDecision>;
  charterAuthorizeTransaction(args: CharterAuthorizeTransactionArgs, context: CharterContext): Promise<CharterAuthorization>;
  charterScoreAgent(args: CharterScoreAgentArgs, context: CharterContext): Promise<ReputationScore>;
  charterCheckReputation(args: CharterCheckReputationArgs, context: CharterContext): Promise<ReputationCheck>;
  charterIssueGrant(args: CharterIssueGrantArgs, context: CharterContext): Promise<IssuedGrant>;
  charterIssueMandate(args: CharterIssueMandateArgs, context: CharterContext): Promise<IssuedMandate>;
  charterDelegateMandate(args: CharterDelegateMandateArgs, context: CharterContext): Promise<IssuedMandate>;
  charterIssueAgentIdentity(args: CharterIssueAgentIdentityArgs, context: CharterContext): Promise<IssuedCredential>;
  charterCreateAgentPresentation(args: CharterCreateAgentPresentationArgs, context: CharterContext): Promise<string>;
  charterRevokeGrant(args: CharterRevokeArgs, context: CharterContext): Promise<boolean>;
  charterRevokeMandate(args: CharterRevokeArgs, context: CharterContext): Promise<boolean>;
  charterCommitSpend(args: CharterSpendArgs, context: CharterContext): Promise<boolean>;
  charterReleaseSpend(args: CharterSpendArgs, context: CharterContext): Promise<boolean>;
}
