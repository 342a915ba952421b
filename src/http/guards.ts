import type { AgentTrust } from '../agents/types.js';
import type { AmountInput } from '../agents/limits.js';
import type { MandateProfile, MandateTrust } from '../mandates/types.js';
import {
  AGENT_POLICY_SPEC,
  checkMandatePolicy,
  checkOwnerRule,
  checkTrust,
  MANDATE_POLICY_SPEC,
  namedPayee,
  syncValue,
  type Policy,
  type ReputationSource,
} from '../guard/policy.js';
import { acceptSignature, signatureGuardOptions, type SignatureGuardOptions as VerifyOptions, type VerifyRequestSignatureOptions } from '../httpsig/index.js';
import { CharterError } from '../errors.js';
import { checkDeclaredUse, type DeclaredProcessing } from '../grants/index.js';
import { readOptions, type OptionSpec } from '../encoding/options.js';

/**
 * What a route requires beyond an authentic, bound presentation. Guards are
 * plain data, the same for every framework; `R` is the request type the
 * functions receive (the web Request in the core, the framework's request in
 * an adapter). Built once, checked when built; turned into the pipeline's
 * Policy per request.
 */

/** A value fixed at build time, or computed from the request. */
export type FromRequest<R, T> = T | ((req: R) => T);

export interface GrantGuardOptions<R> {
  /** The resource asked for, e.g. `profile/email` or `(req) => \`photos/${req.params.id}\`` (normalised before matching). */
  resource: FromRequest<R, string>;
  action: FromRequest<R, string>;
  /**
   * Who owns the resource: a grant allows access only to its issuer's own
   * data, so the route says whose data it serves, e.g.
   * `owner: (req) => didOf(req.params.user)`. A grant from anyone else is
   * refused (GRANT_NOT_OWNER).
   */
  owner?: FromRequest<R, string>;
  /** Explicit opt-out: the route's data belongs to no one person, so a grant from any issuer will do. */
  anyOwner?: true;
  /**
   * What the route uses the data for, e.g. `'model-training'`: a grant whose
   * terms limit purposes must name it (PURPOSE_NOT_ALLOWED otherwise).
   */
  purpose?: FromRequest<R, string>;
  /** Where the route processes the data (`on-device` or `trusted-execution`), checked against the grant's terms. */
  processing?: DeclaredProcessing;
}

export interface GrantGuard<R> extends GrantGuardOptions<R> {
  readonly kind: 'grant';
}

export interface AgentGuardOptions<R> {
  action: FromRequest<R, string>;
  /** The amount this request spends, e.g. `(req) => req.body.amount` ("20 USD" or { amount, currency }). Required by a money-limited mandate. */
  amount?: (req: R) => AmountInput | undefined;
  /** The DID the agent deals with. Default: the verifier's `aud`. */
  counterparty?: string;
  trust: AgentTrust;
  /** For `trust.minReputation`: the agent's reputation. */
  reputation?: ReputationSource;
}

export interface AgentGuard<R> extends AgentGuardOptions<R> {
  readonly kind: 'agent';
}

/**
 * A payment authorized by a Verifiable Intent or AP2 chain. By default the
 * chain travels as `Authorization: Bearer <token>`: the AP2 payment chain as
 * its SDK writes it (`~~`-joined SD-JWTs), a Verifiable Intent chain as
 * base64url of the reference verifier's JSON input (`mandateToken()` from charter/mandates writes
 * either). Chains outgrow header limits (Node's default is 16 KiB for all
 * headers): read them from the body with `chain`.
 */
export interface MandateGuardOptions<R> {
  profile: MandateProfile;
  /** The pinned roots (VI card issuers, AP2 root signers), and merchants whose checkout signatures to check. */
  trust: MandateTrust;
  /** Where the chain is, e.g. `(req) => req.body.mandate` (after a JSON body parser). Default: the Bearer token. */
  chain?: (req: R) => unknown;
  /** What the route charges, e.g. `(req) => req.body.amount`: the chain's payment must be exactly this. */
  amount?: (req: R) => AmountInput | undefined;
  /** The payee the route takes payments for (merchant id or website). */
  payee?: FromRequest<R, string>;
  /** AP2 payment chain without its checkout chain: the checkout JWT hash being paid for. */
  checkoutHash?: (req: R) => string | undefined;
  openCheckoutHash?: (req: R) => string | undefined;
  /** Time zone of VI `payment.cumulative` periods. Default "UTC". */
  calendarTimeZone?: string;
  l1Vct?: string;
  /** VI: refuse a card credential (L1) with no `status` in clear (STATUS_INVALID); a status it names is always checked. */
  requireStatus?: boolean;
}

export interface MandateGuard<R> extends MandateGuardOptions<R> {
  readonly kind: 'mandate';
}

/**
 * Options of `requireSignature`: where keys come from (`keys` the platform
 * holds, `directories`: 'fetch' for the Signature-Agent's well-known
 * directory), the required `tag` (default `web-bot-auth`; null for any),
 * `requireNonce` (default true: every signature carries a nonce, used once
 * in the verifier's store), `maxAgeSeconds`, `skewSeconds` (default the
 * verifier's), `allowLoopback` (local testing). The nonce store is always
 * the verifier's.
 */
export type SignatureGuardOptions = Omit<VerifyOptions, 'store'>;

export interface SignatureGuard {
  readonly kind: 'signature';
  /** The verification options, checked when the guard was built. */
  readonly options: VerifyRequestSignatureOptions;
  /** RFC 9421 §5.1 `Accept-Signature`: the signature a refusal asks for. */
  readonly acceptSignature: string;
}

/** A proof guard (requireGrant, requireAgent, requireMandate) or the signature guard (requireSignature). */
export type Guard<R> = GrantGuard<R> | AgentGuard<R> | MandateGuard<R> | SignatureGuard;

/** The guards of one route, combined: at most one proof guard and at most one signature guard. */
export interface GuardSet<R> {
  presentation?: GrantGuard<R> | AgentGuard<R> | MandateGuard<R>;
  signature?: SignatureGuard;
}

// Every guard reads its options once, refusing keys it does not know (a misspelt `trust.identityIssuer`
// or `purposes` would otherwise build a guard that checks less than the route says): encoding/options.ts.
const GRANT_SPEC: OptionSpec<GrantGuardOptions<unknown>> = { resource: true, action: true, owner: true, anyOwner: true, purpose: true, processing: true };
const AGENT_SPEC: OptionSpec<AgentGuardOptions<unknown>> = AGENT_POLICY_SPEC;
const MANDATE_SPEC: OptionSpec<MandateGuardOptions<unknown>> = { ...MANDATE_POLICY_SPEC, chain: true, amount: true };
const SIGNATURE_SPEC: OptionSpec<SignatureGuardOptions> = {
  tag: true,
  cover: true,
  directories: true,
  keys: true,
  allowLoopback: 'boolean',
  requireNonce: 'boolean',
  maxAgeSeconds: true,
  skewSeconds: true,
  legacySignatureAgent: 'boolean',
  requireDirectorySignature: 'boolean',
};

const fromRequest = (v: unknown) => typeof v === 'function' || (typeof v === 'string' && v.length > 0);

/** The caller must hold an unrevoked DataAccessGrant from the resource's owner covering `action` on `resource`. */
export function requireGrant<R = Request>(given: GrantGuardOptions<R>): GrantGuard<R> {
  const options = readOptions('requireGrant', given, GRANT_SPEC as OptionSpec<GrantGuardOptions<R>>);
  if (!options || !fromRequest(options.resource)) throw new TypeError('requireGrant: resource must be a non-empty string or a function of the request');
  if (!fromRequest(options.action)) throw new TypeError('requireGrant: action must be a non-empty string or a function of the request');
  checkOwnerRule('requireGrant', options);
  checkDeclaredUse('requireGrant', options, true);
  return Object.freeze({
    kind: 'grant',
    resource: options.resource,
    action: options.action,
    ...(options.owner !== undefined ? { owner: options.owner } : { anyOwner: true as const }),
    ...(options.purpose !== undefined ? { purpose: options.purpose } : {}),
    ...(options.processing !== undefined ? { processing: options.processing } : {}),
  });
}

/** The caller must be an agent whose identity and mandate chain allow this request (the KYA decision). */
export function requireAgent<R = Request>(given: AgentGuardOptions<R>): AgentGuard<R> {
  if ((given as { record?: unknown } | undefined)?.record !== undefined) {
    throw new TypeError('requireAgent: "record" is gone: the spend of a chain with a budget or rate is always reserved, and settled when the response ends');
  }
  const options = readOptions('requireAgent', given, AGENT_SPEC as OptionSpec<AgentGuardOptions<R>>);
  if (!options || !fromRequest(options.action)) throw new TypeError('requireAgent: action must be a non-empty string or a function of the request');
  if (options.amount !== undefined && typeof options.amount !== 'function') throw new TypeError('requireAgent: amount must be a function of the request');
  if (options.counterparty !== undefined && (typeof options.counterparty !== 'string' || !options.counterparty.startsWith('did:'))) {
    throw new TypeError('requireAgent: counterparty must be a DID');
  }
  checkTrust('requireAgent', options.trust, options.reputation);
  return Object.freeze({ ...options, kind: 'agent' as const });
}

/**
 * The caller pays with an external agent payment mandate chain (Verifiable
 * Intent or AP2) whose closing layer names this verifier (`aud`), is recent
 * and carries a nonce used once; its payment is reserved on every cumulative
 * limit of the chain and committed when the response succeeds.
 */
export function requireMandate<R = Request>(given: MandateGuardOptions<R>): MandateGuard<R> {
  const options = readOptions('requireMandate', given, MANDATE_SPEC as OptionSpec<MandateGuardOptions<R>>);
  if (!options || typeof options !== 'object') throw new TypeError('requireMandate needs options');
  checkMandatePolicy('requireMandate', options);
  for (const k of ['chain', 'amount', 'checkoutHash', 'openCheckoutHash'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'function') throw new TypeError(`requireMandate: ${k} must be a function of the request`);
  }
  if (options.payee !== undefined && !fromRequest(options.payee)) throw new TypeError('requireMandate: payee must be a non-empty string or a function of the request');
  return Object.freeze({ ...options, kind: 'mandate' as const });
}

/**
 * The request must carry an RFC 9421 HTTP message signature (Web Bot Auth)
 * covering at least its authority (the verifier's public origin) and its
 * Signature-Agent member, with a fresh `created`, the required tag and a
 * nonce used once; with `cover: 'request'`, its method, path and query too
 * (the draft's minimum names the agent, not the request). Alone, it is the
 * only proof (no presentation is read); next to requireGrant or
 * requireAgent, the request must carry both and be signed by the
 * presenting holder (SIGNER_NOT_HOLDER otherwise).
 */
export function requireSignature(given: SignatureGuardOptions): SignatureGuard {
  if (given && typeof given === 'object' && (given as { store?: unknown }).store !== undefined) {
    throw new TypeError("requireSignature: signature nonces are used once in the verifier's store; give no store here");
  }
  const options = readOptions('requireSignature', given, SIGNATURE_SPEC);
  if (!options || typeof options !== 'object' || (options.keys === undefined && options.directories === undefined)) {
    throw new TypeError(
      "requireSignature: say where keys come from: keys (a JWK Set or a record you hold), directories: 'fetch' (the Signature-Agent's well-known directory), or both",
    );
  }
  // A key present with the value undefined (`requireNonce: cfg.requireNonce`) means the default, not "off".
  const verify = signatureGuardOptions({ ...options, requireNonce: options.requireNonce ?? true, store: 'caller' });
  return Object.freeze({
    kind: 'signature' as const,
    options: Object.freeze(verify),
    acceptSignature: acceptSignature({ tag: options.tag, ...(options.cover !== undefined ? { cover: options.cover } : {}) }),
  });
}

const GUARD_KINDS = new Set(['grant', 'agent', 'mandate', 'signature']);

/** Combines a route's guards, checked when the middleware is built: at most one presentation guard, at most one signature guard. */
export function guardSet<R>(guards: ReadonlyArray<Guard<R> | undefined>, who = 'charter(verifier, ...guards)'): GuardSet<R> {
  const set: GuardSet<R> = {};
  for (const [i, g] of guards.entries()) {
    // Never skipped: `charter(verifier, guards.emial)` would leave the route checking only that a
    // presentation is authentic, and `charter(verifier, grant, guards.sig)` would drop the signature.
    if (g === undefined) {
      throw new TypeError(
        `${who}: guard ${i + 1} is undefined (a misspelt name?), so its check would be left undone; leave it out instead (charter(verifier) alone checks only the presentation)`,
      );
    }
    if (!g || typeof g !== 'object' || !GUARD_KINDS.has((g as { kind?: unknown }).kind as string)) {
      throw new TypeError(`${who}: a guard must come from requireGrant, requireAgent, requireMandate or requireSignature`);
    }
    if (g.kind === 'signature') {
      if (set.signature) throw new TypeError(`${who}: give requireSignature once`);
      set.signature = g;
    } else {
      if (set.presentation) throw new TypeError(`${who}: give one proof guard (requireGrant, requireAgent or requireMandate), not two`);
      set.presentation = g;
    }
  }
  return set;
}

export function valueOf<R, T>(v: FromRequest<R, T>, req: R): T {
  return typeof v === 'function' ? syncValue((v as (req: R) => T)(req)) : v;
}

/**
 * The purpose a route computed from the request: none (undefined or null:
 * nothing declared, so a grant limiting purposes refuses), or one a grant's
 * terms can name. Anything else came from a malformed request: a 400
 * (INVALID_ARGUMENT), not the TypeError verifyGrant throws for a caller's
 * mistake (a 500), and not a string like "undefined" declared as a purpose.
 */
function declaredPurpose(v: unknown): { purpose?: string } {
  if (v === undefined || v === null) return {};
  let ok = typeof v === 'string';
  try {
    if (ok) checkDeclaredUse('requireGrant', { purpose: v });
  } catch {
    ok = false;
  }
  if (!ok) throw new CharterError('INVALID_ARGUMENT', 'the purpose this request declares is not a purpose such as model-training (or x-own-name)');
  return { purpose: v as string };
}

/** An action a route computed from the request (a query field, say): one that is not a non-empty string is the request's fault (400). */
function requestAction(v: unknown): string {
  if (typeof v !== 'string' || v.length === 0) throw new CharterError('INVALID_ARGUMENT', 'the action this request names is not an action such as read (a non-empty string)');
  return v;
}

/** The pipeline's policy for this request. Throws what the route's functions throw (a malformed request). */
export function policyFor<R>(guard: GrantGuard<R> | AgentGuard<R> | MandateGuard<R> | undefined, req: R): Policy {
  if (guard === undefined) return { kind: 'presentation' };
  if (guard.kind === 'grant') {
    return {
      kind: 'grant',
      resource: valueOf(guard.resource, req),
      action: requestAction(valueOf(guard.action, req)),
      // An owner the route cannot name (an unknown user) is "" : no grant can be its.
      ...(guard.owner !== undefined ? { owner: String(valueOf(guard.owner, req) ?? '') } : { anyOwner: true }),
      ...(guard.purpose !== undefined ? declaredPurpose(valueOf(guard.purpose, req)) : {}),
      ...(guard.processing !== undefined ? { processing: guard.processing } : {}),
    };
  }
  if (guard.kind === 'mandate') {
    const amount = syncValue(guard.amount?.(req));
    const checkoutHash = syncValue(guard.checkoutHash?.(req));
    const openCheckoutHash = syncValue(guard.openCheckoutHash?.(req));
    return {
      kind: 'mandate',
      profile: guard.profile,
      trust: guard.trust,
      ...(amount !== undefined ? { amount } : {}),
      ...(guard.payee !== undefined ? { payee: namedPayee(valueOf(guard.payee, req)) } : {}),
      ...(checkoutHash !== undefined ? { checkoutHash } : {}),
      ...(openCheckoutHash !== undefined ? { openCheckoutHash } : {}),
      ...(guard.calendarTimeZone !== undefined ? { calendarTimeZone: guard.calendarTimeZone } : {}),
      ...(guard.l1Vct !== undefined ? { l1Vct: guard.l1Vct } : {}),
      ...(guard.requireStatus !== undefined ? { requireStatus: guard.requireStatus } : {}),
    };
  }
  const amount = syncValue(guard.amount?.(req));
  return {
    kind: 'agent',
    action: requestAction(valueOf(guard.action, req)),
    ...(amount !== undefined ? { amount } : {}),
    ...(guard.counterparty !== undefined ? { counterparty: guard.counterparty } : {}),
    trust: guard.trust,
    ...(guard.reputation ? { reputation: guard.reputation } : {}),
  };
}
