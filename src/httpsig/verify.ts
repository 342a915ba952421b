import { readOptions, type OptionSpec } from '../encoding/options.js';
import { isNumericDate, nowOf } from '../credentials/time.js';
import type { InnerList, Item } from 'structured-headers';
import { toReason, type Reason, shown } from '../errors.js';
import type { PublicJwk } from '../keys/types.js';
import { parseSignatureInput, signatureBase, type ParsedSignatureInput } from './base.js';
import { ComponentError, componentId, type MessageContext } from './components.js';
import { createDirectoryResolver, type DirectoryResolver } from './directory-fetch.js';
import { checkKeysOption, keyIndex, type JwkSet, type KeysOption } from './key-sources.js';
import { signatureAlgorithm, unsupportedAlgorithm, verifyBase, type HttpSigAlgorithm, type HttpSigKey, type RsaPublicJwk } from './keys.js';
import { requestContext, WEB_BOT_AUTH_TAG, type RequestLike } from './sign.js';
import { coveredAgentMember, parseSignatureAgent, SignatureAgentError, type AgentMember } from './signature-agent.js';
import { readSignatureFields } from './signature-fields.js';
import { checkSkewSeconds } from './clock.js';
import { PUBLISHED_TEST_KEY_THUMBPRINTS } from './test-keys.js';

/** The one store call a verifier needs: use a nonce once (Charter's Store has it). */
export interface NonceStore {
  consumeNonce(scope: string, value: string, expiresAt: Date): Promise<boolean>;
}

export interface VerifyRequestSignatureOptions {
  /**
   * Where keys named by a covered Signature-Agent member come from: 'fetch'
   * (its well-known directory, fetched and cached), directories the caller
   * already holds by origin, or a resolver from createDirectoryResolver().
   */
  directories?: 'fetch' | Readonly<Record<string, JwkSet>> | DirectoryResolver;
  /** Keys the caller holds, matched by record key, JWK `kid` or thumbprint. Tried before any directory. */
  keys?: KeysOption;
  /**
   * Replay cache: a `nonce` is accepted once. `'caller'`: the caller uses the
   * nonce up itself, after its own further checks, where `signatureNonce()`
   * says (Charter's guard pipeline does, so a refused request uses nothing).
   */
  store?: NonceStore | 'caller';
  /** Refuse a signature without a nonce (needs `store`). */
  requireNonce?: boolean;
  /** Oldest `created` accepted, in seconds. Default 300, at most 86400. */
  maxAgeSeconds?: number;
  /** Only signatures with this `tag` count (`web-bot-auth`, `agent-browser-auth`, `agent-payer-auth`, ...). */
  requiredTag?: string;
  /**
   * Components every accepted signature must cover besides `@authority`
   * (e.g. `['@method', '@path', '@query']`, `content-digest`): the Web Bot Auth
   * draft asks only for `@authority`, which names the agent but not the
   * request, so a signature covering nothing more fits any request to the
   * site. Lower-case names, derived components with their `@`. Default none.
   */
  requiredComponents?: readonly string[];
  /** Verify only the signature with this label. */
  label?: string;
  /** Allow loopback Signature-Agent origins over http (local testing). */
  allowLoopback?: boolean;
  /** Accept the legacy sf-string Signature-Agent (draft-meunier-web-bot-auth-architecture-03 and earlier). */
  legacySignatureAgent?: boolean;
  /** With directories: 'fetch': require directory signatures (default true, Charter's policy). */
  requireDirectorySignature?: boolean;
  now?: Date;
  /** Default 60, at most 300 (DESIGN.md "Time"). */
  skewSeconds?: number;
}

/** The outcome, with every reason; on success, who signed and under which parameters. */
export interface RequestSignatureDecision {
  ok: boolean;
  reasons: Reason[];
  label?: string;
  keyId?: string;
  /** RFC 7638 thumbprint of the verifying key: the identifier when no URL is attributed (draft "When No URL Is Available"). */
  thumbprint?: string;
  /** The Signature-Agent origin the request is attributed to: set only when the key came from that origin's directory. */
  signatureAgent?: string;
  /** The directory URL the key was found in. */
  directory?: string;
  tag?: string;
  alg?: HttpSigAlgorithm;
  created?: Date;
  expires?: Date;
  nonce?: string;
  key?: PublicJwk | RsaPublicJwk;
  /** The covered components, serialised. */
  components?: string[];
}

const defaultResolvers = new Map<string, DirectoryResolver>();
/** A directories record by origin, with the entries it was read from (rebuilt when the record changes in place). */
const recordDirectories = new WeakMap<object, { entries: Array<[string, JwkSet]>; byOrigin: Map<string | undefined, JwkSet> }>();

/** The caps checkVerifyOptions puts on maxAgeSeconds and skewSeconds: no verifier accepts a signature longer. */
const MAX_AGE_CAP_SECONDS = 86400;
const SKEW_CAP_SECONDS = 300;

/** Checks options once (TypeError for misuse), as a middleware does when it is built. */
const OPTIONS: OptionSpec<VerifyRequestSignatureOptions> = {
  directories: true,
  keys: true,
  store: true,
  requireNonce: 'boolean',
  maxAgeSeconds: true,
  requiredTag: true,
  requiredComponents: true,
  label: true,
  allowLoopback: 'boolean',
  legacySignatureAgent: 'boolean',
  requireDirectorySignature: 'boolean',
  now: true,
  skewSeconds: true,
};

export function checkVerifyOptions(o: VerifyRequestSignatureOptions): void {
  if (!o || typeof o !== 'object') throw new TypeError('verifyRequestSignature needs options');
  if (o.keys === undefined && o.directories === undefined) throw new TypeError('verifyRequestSignature needs keys, directories, or both');
  if (o.keys !== undefined) checkKeysOption(o.keys, 'keys');
  const d = o.directories;
  if (d !== undefined && d !== 'fetch' && typeof d !== 'object') throw new TypeError("directories must be 'fetch', a record of JWK Sets by origin, or a DirectoryResolver");
  if (d && typeof d === 'object' && typeof (d as DirectoryResolver).resolve !== 'function') {
    const origins = new Set<string>();
    for (const [origin, set] of Object.entries(d)) {
      const what = `directories[${origin.slice(0, 60)}]`;
      const o = recordOrigin(origin);
      if (o === undefined) throw new TypeError(`${what}: each key must be an http(s) origin such as https://agent.example`);
      if (origins.has(o)) throw new TypeError(`${what}: another key already names the origin ${o}`);
      origins.add(o);
      checkKeysOption(set, what);
    }
  }
  if (o.store !== undefined && o.store !== 'caller' && typeof o.store?.consumeNonce !== 'function')
    throw new TypeError("store must have consumeNonce(scope, value, expiresAt), or be 'caller'");
  if (o.requireNonce && !o.store) throw new TypeError('requireNonce needs a store to use nonces once');
  checkSkewSeconds(o.skewSeconds);
  if (o.maxAgeSeconds !== undefined && !(Number.isInteger(o.maxAgeSeconds) && o.maxAgeSeconds > 0 && o.maxAgeSeconds <= MAX_AGE_CAP_SECONDS))
    throw new TypeError('maxAgeSeconds must be an integer in [1, 86400]');
  if (o.now !== undefined && !(o.now instanceof Date && Number.isFinite(o.now.getTime()))) throw new TypeError('now must be a valid Date');
  if (o.requiredTag !== undefined && typeof o.requiredTag !== 'string') throw new TypeError('requiredTag must be a string');
  if (
    o.requiredComponents !== undefined &&
    (!Array.isArray(o.requiredComponents) || o.requiredComponents.some((c) => typeof c !== 'string' || !/^@?[a-z0-9][a-z0-9_.*-]*$/.test(c)))
  ) {
    throw new TypeError('requiredComponents must be lower-case component names such as @method, @path, @query or content-digest');
  }
}

/** The origin a directories record key names (an http(s) origin, with at most a trailing slash), or undefined. */
function recordOrigin(k: string): string | undefined {
  let u: URL;
  try {
    u = new URL(k);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined;
  const lower = k.toLowerCase();
  return lower === u.origin || lower === `${u.origin}/` ? u.origin : undefined;
}

function refuse(code: Reason['code'], message: string, ref?: string): Reason {
  return ref === undefined ? { code, message } : { code, message, ref };
}

/**
 * Verifies an HTTP message signature on a request (RFC 9421 §3.2) with Web
 * Bot Auth's rules: the signature base rebuilt as §2.5 says, Ed25519 or
 * ECDSA P-256 through Charter's key import, created / expires / age with a
 * clock skew, a future `created` refused, `nonce` used once, `tag` required
 * when asked, `@authority` (or `@target-uri`) and the Signature-Agent member
 * covered. Never throws for a bad request: every refusal is a reason with a
 * stable code. Several signatures are tried in order; the first that
 * verifies wins.
 */
export async function verifyRequestSignature(request: RequestLike, given: VerifyRequestSignatureOptions): Promise<RequestSignatureDecision> {
  // encoding/options.ts: a misspelt `requiredTag` or `requiredComponents` is a TypeError, not a signature that covers less.
  const options = readOptions('verifyRequestSignature', given, OPTIONS);
  checkVerifyOptions(options);
  const msg = requestContext(request);
  const fields = readSignatureFields(msg.field);
  if (fields === 'missing') return { ok: false, reasons: [refuse('SIGNATURE_MISSING', 'the request carries no HTTP message signature')] };
  if (typeof fields === 'string') return { ok: false, reasons: [refuse('SIGNATURE_INVALID', fields)] };
  let labels = [...fields.inputs.keys()];
  if (options.label !== undefined) labels = labels.filter((l) => l === options.label);
  if (labels.length === 0)
    return { ok: false, reasons: [refuse('SIGNATURE_MISSING', options.label ? `no signature labelled ${options.label.slice(0, 40)}` : 'the signature fields are empty')] };

  const failures: RequestSignatureDecision[] = [];
  for (const label of labels) {
    const d = await verifyOne(label, fields.inputs.get(label)!, fields.signatures.get(label)!, msg, options);
    if (d === undefined) continue; // another tag
    if (d.ok) return d;
    failures.push(d);
  }
  if (failures.length === 0) return { ok: false, reasons: [refuse('SIGNATURE_TAG_MISMATCH', `no signature has the tag ${shown(options.requiredTag, 60)}`)] };
  const first = failures[0]!;
  return { ...first, reasons: failures.length === 1 ? first.reasons : failures.flatMap((f) => f.reasons) };
}

async function verifyOne(
  label: string,
  member: Item | InnerList,
  signature: Uint8Array,
  msg: MessageContext,
  o: VerifyRequestSignatureOptions,
): Promise<RequestSignatureDecision | undefined> {
  let input: ParsedSignatureInput;
  try {
    input = parseSignatureInput(member);
  } catch (e) {
    return { ok: false, label, reasons: [refuse('SIGNATURE_INVALID', e instanceof ComponentError ? e.message : 'malformed Signature-Input', label)] };
  }
  const p = input.params;
  if (o.requiredTag !== undefined && p.tag !== o.requiredTag) return undefined;
  const d: RequestSignatureDecision = { ok: false, reasons: [], label, components: input.components.map(componentId) };
  if (p.keyid !== undefined) d.keyId = p.keyid;
  if (p.tag !== undefined) d.tag = p.tag;
  if (p.created !== undefined) d.created = new Date(p.created * 1000);
  if (p.expires !== undefined) d.expires = new Date(p.expires * 1000);
  if (p.nonce !== undefined) d.nonce = p.nonce;
  const no = (code: Reason['code'], message: string) => ({ ...d, reasons: [refuse(code, message, label)] });

  const unsupported = unsupportedAlgorithm(p.alg);
  if (unsupported) return no('UNSUPPORTED_ALG', unsupported);
  if (p.keyid === undefined) return no('SIGNATURE_INVALID', 'the signature names no keyid');

  // Time: created required; skew applies both ways (DESIGN.md "Time").
  const now = nowOf(o.now, 'verifyRequestSignature').getTime();
  const skewMs = (o.skewSeconds ?? 60) * 1000;
  const maxAgeMs = (o.maxAgeSeconds ?? 300) * 1000;
  if (p.created === undefined) return no('SIGNATURE_INVALID', 'the signature has no created time');
  // draft-meunier-webbotauth-httpsig-protocol "Generating HTTP Message Signature": agents MUST include
  // expires. It is the signer's bound on how long a captured signature can be replayed; without it only
  // this verifier's maxAgeSeconds (up to a day) would bound it.
  if (p.tag === WEB_BOT_AUTH_TAG && p.expires === undefined) return no('SIGNATURE_INVALID', 'a web-bot-auth signature must carry expires');
  // A time beyond any date (structured fields allow 15 digits) names no instant: refused, never turned into an Invalid Date.
  if (!isNumericDate(p.created) || (p.expires !== undefined && !isNumericDate(p.expires)))
    return no('SIGNATURE_INVALID', 'the signature created or expires time is beyond the range of a date');
  const created = p.created * 1000;
  if (p.expires !== undefined && p.expires < p.created) return no('SIGNATURE_INVALID', 'the signature expires before it was created');
  if (created > now + skewMs) return no('ISSUED_IN_FUTURE', 'the signature was created in the future');
  if (p.expires !== undefined && now - skewMs >= p.expires * 1000) return no('SIGNATURE_EXPIRED', 'the signature has expired');
  if (now - skewMs > created + maxAgeMs) return no('SIGNATURE_EXPIRED', `the signature is older than ${maxAgeMs / 1000} s`);
  if (o.requireNonce && p.nonce === undefined) return no('SIGNATURE_INVALID', 'the signature carries no nonce');

  // Coverage: the draft requires @authority or @target-uri, and the agent's Signature-Agent member.
  const ids = d.components!;
  if (!ids.includes('"@authority"') && !ids.includes('"@target-uri"')) return no('SIGNATURE_INVALID', 'the signature does not cover @authority');
  // @target-uri covers the whole request URI, so it stands for @authority, @path and @query (RFC 9421 §2.2.2).
  const whole = ids.includes('"@target-uri"');
  const missing = (o.requiredComponents ?? []).filter((c) => !ids.includes(`"${c}"`) && !(whole && (c === '@authority' || c === '@path' || c === '@query')));
  if (missing.length > 0) return no('SIGNATURE_INVALID', `the signature does not cover ${missing.join(', ').slice(0, 100)}, which this verifier requires`);
  let agent: AgentMember | undefined;
  const agentLines = msg.field('signature-agent');
  if (agentLines !== undefined) {
    try {
      const field = parseSignatureAgent(agentLines, label, { legacy: o.legacySignatureAgent === true, allowLoopback: o.allowLoopback === true });
      agent = coveredAgentMember(field, input.components, label);
    } catch (e) {
      return no('SIGNATURE_INVALID', e instanceof SignatureAgentError ? e.message : 'Signature-Agent is malformed');
    }
    if (!agent) return no('SIGNATURE_INVALID', 'the signature does not cover its Signature-Agent member');
  }

  let base: string;
  try {
    base = signatureBase(input, msg);
  } catch (e) {
    return no('SIGNATURE_INVALID', e instanceof ComponentError ? e.message : 'the signature base cannot be built');
  }

  const found = await findKey(p.keyid, agent, o, new Date(now));
  if ('reason' in found) return { ...d, reasons: [{ ...found.reason, ref: label }] };
  const { key } = found;
  // RFC 9421 §3.2 step 6.4: an alg parameter must name an algorithm of the key.
  const chosen = signatureAlgorithm(key, p.alg);
  if ('mismatch' in chosen) return no('ALG_KEY_MISMATCH', chosen.mismatch);
  if (!verifyBase(key, chosen.alg, base, signature)) return no('SIGNATURE_INVALID', 'the signature does not verify');

  const out: RequestSignatureDecision = { ...d, ok: true, thumbprint: key.thumbprint, alg: chosen.alg, key: key.publicJwk };
  const use = o.store !== undefined && o.store !== 'caller' ? signatureNonce(out, o) : undefined;
  if (use) {
    try {
      if (!(await (o.store as NonceStore).consumeNonce(use.scope, use.value, use.expiresAt))) return no('SIGNATURE_REPLAYED', 'the signature nonce was used before');
    } catch (e) {
      return { ...d, reasons: [{ ...toReason(e, 'STORE_UNAVAILABLE'), ref: label }] };
    }
  }
  if (found.origin) out.signatureAgent = found.origin;
  if (found.directory) out.directory = found.directory;
  return out;
}

/**
 * Where a verified signature's nonce is used up, and until when it must be
 * remembered: as long as any verifier sharing the store could accept the
 * signature, whatever its own options (its expires, or at most created +
 * the 86400 s cap on maxAgeSeconds, plus the 300 s cap on the skew). A
 * lifetime from one guard's options would let a short-window guard forget a
 * nonce that a longer-window guard on the same store still accepts.
 * Undefined without a nonce. The options argument is accepted for
 * compatibility and no longer changes the lifetime.
 */
export function signatureNonce(
  d: RequestSignatureDecision,
  _o: Pick<VerifyRequestSignatureOptions, 'maxAgeSeconds' | 'skewSeconds'> = {},
): { scope: string; value: string; expiresAt: Date } | undefined {
  if (!d.ok || d.nonce === undefined || d.thumbprint === undefined || d.created === undefined) return undefined;
  const until = Math.min(d.expires?.getTime() ?? Infinity, d.created.getTime() + MAX_AGE_CAP_SECONDS * 1000) + SKEW_CAP_SECONDS * 1000;
  return { scope: `httpsig-nonce ${d.thumbprint}`, value: d.nonce, expiresAt: new Date(until) };
}

type Found = { key: HttpSigKey; origin?: string; directory?: string } | { reason: Reason };

async function findKey(keyId: string, agent: AgentMember | undefined, o: VerifyRequestSignatureOptions, now: Date): Promise<Found> {
  const own = o.keys ? keyIndex(o.keys).find(keyId) : undefined;
  if (own) return { key: own };
  if (!o.directories || !agent) return { reason: refuse('SIGNATURE_KEY_UNKNOWN', 'the keyid names no key this verifier holds') };
  if (!agent.origin) return { reason: agent.problem ?? refuse('SIGNATURE_INVALID', 'the Signature-Agent member cannot be resolved') };
  const origin = agent.origin;
  const d = o.directories;
  if (d !== 'fetch' && typeof (d as DirectoryResolver).resolve !== 'function') {
    // Directories the caller holds: the caller made the URL-key association itself.
    const record = d as Readonly<Record<string, JwkSet>>;
    const entries = Object.entries(record);
    let held = recordDirectories.get(record);
    // Compared by identity, entry by entry: an origin added, removed or given another JWK Set in place is seen.
    if (!held || held.entries.length !== entries.length || held.entries.some(([k, v], i) => entries[i]![0] !== k || entries[i]![1] !== v)) {
      held = { entries, byOrigin: new Map(entries.map(([k, v]) => [recordOrigin(k), v])) };
      recordDirectories.set(record, held);
    }
    // keyIndex notices a JWK Set changed in place (its keys spliced, replaced or edited).
    const set = held.byOrigin.get(origin);
    const key = set === undefined ? undefined : keyIndex(set).find(keyId);
    return key ? { key, origin } : { reason: refuse('SIGNATURE_KEY_UNKNOWN', `the directory of ${origin} has no key ${keyId.slice(0, 60)}`) };
  }
  const resolver = d === 'fetch' ? defaultResolver(o) : (d as DirectoryResolver);
  let dir;
  try {
    dir = await resolver.resolve(origin, now);
  } catch (e) {
    return { reason: toReason(e, 'DIRECTORY_UNAVAILABLE') };
  }
  // The draft: a directory's keys are selected by thumbprint (its kid is the thumbprint).
  const key = dir.keys.find((k) => k.thumbprint === keyId);
  if (!key) return { reason: refuse('SIGNATURE_KEY_UNKNOWN', `the directory of ${origin} has no key ${keyId.slice(0, 60)}`) };
  // The draft, "Test and Demonstration Keys": RFC 9421's example keys are public; refuse them from a directory.
  if (PUBLISHED_TEST_KEY_THUMBPRINTS.has(key.thumbprint)) return { reason: refuse('INVALID_KEY', `the directory of ${origin} serves a published test key`) };
  return { key, origin, directory: dir.url };
}

function defaultResolver(o: VerifyRequestSignatureOptions): DirectoryResolver {
  const id = `${o.allowLoopback === true} ${o.requireDirectorySignature !== false} ${o.skewSeconds ?? 60}`;
  let r = defaultResolvers.get(id);
  if (!r) {
    r = createDirectoryResolver({ allowLoopback: o.allowLoopback === true, requireSignature: o.requireDirectorySignature !== false, skewSeconds: o.skewSeconds ?? 60 });
    defaultResolvers.set(id, r);
  }
  return r;
}
