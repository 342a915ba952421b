import { randomBytes } from 'node:crypto';
import { serializeInnerList, serializeItem, type BareItem, type InnerList } from 'structured-headers';
import type { PublicJwk, Signer } from '../keys/types.js';
import { signatureBase, signatureInputList } from './base.js';
import { ComponentError, parseComponentId, type Component, type MessageContext } from './components.js';
import { combinedFieldValue, fieldGetter, parseUniqueDictionary, type FieldGetter, type HeaderSource } from './fields.js';
import { algorithmOfSigner } from './keys.js';
import { jwkThumbprint } from './thumbprint.js';
import { nowMsOf } from './clock.js';

export const WEB_BOT_AUTH_TAG = 'web-bot-auth';

/** A request to sign or verify: a web `Request`, or its method, absolute URL and header fields. */
export type RequestLike = Request | { method: string; url: string | URL; headers?: HeaderSource };

export interface SignRequestOptions {
  signer: Signer;
  /** `keyid`; default the RFC 7638 thumbprint of `publicJwk` (what Web Bot Auth requires). */
  keyId?: string;
  publicJwk?: PublicJwk;
  /** The agent's origin: sent as `Signature-Agent: <label>="<origin>"` and covered as `"signature-agent";key="<label>"`. */
  signatureAgent?: string;
  /** Default `sig1`. */
  label?: string;
  /** Default `web-bot-auth`; Visa's Trusted Agent Protocol uses `agent-browser-auth` / `agent-payer-auth`; null for none. */
  tag?: string | null;
  /** Default 60; at most 3600. */
  expiresInSeconds?: number;
  /** Default a fresh random nonce; false for none. */
  nonce?: string | false;
  /**
   * Covered components, as identifiers (`@method`, `content-digest`,
   * `"@query-param";name="id"`). Default: `@method @authority @path @query`,
   * then `content-digest` when the request carries one, then the
   * Signature-Agent member.
   */
  components?: readonly string[];
  /** The signing time, a valid Date; default the current time. */
  now?: Date;
}

/** The fields a signature adds, names in lower case. */
export interface SignatureHeaders {
  signature: string;
  'signature-input': string;
  'signature-agent'?: string;
}

const LABEL = /^[a-z*][a-z0-9_\-.*]*$/;

/** RFC 9421 §3.1: builds the base over the covered components and signs it; the signer may be remote (a promise). */
export async function createSignature(
  msg: MessageContext,
  components: readonly Component[],
  params: ReadonlyArray<readonly [string, BareItem]>,
  signer: Signer,
): Promise<{ innerList: InnerList; signature: Uint8Array<ArrayBuffer> }> {
  const innerList = signatureInputList(components, params);
  let base: string;
  try {
    base = signatureBase({ components: [...components], innerList }, msg);
  } catch (e) {
    throw new TypeError(`cannot sign: ${e instanceof ComponentError ? e.message : String(e)}`, { cause: e });
  }
  const signature = await signer.sign(Buffer.from(base, 'ascii'));
  return { innerList, signature: new Uint8Array(signature) };
}

/** The request as RFC 9421 sees it. */
export function requestContext(request: RequestLike): MessageContext {
  if (!request || typeof request !== 'object' || typeof request.method !== 'string') throw new TypeError('a request needs a method, an absolute url and headers');
  let url: URL;
  try {
    url = new URL(String(request.url));
  } catch {
    throw new TypeError('the request url must be absolute');
  }
  return { kind: 'request', method: request.method, url, field: fieldGetter(request.headers ?? {}) };
}

/** Adds `member` under `label` to a Dictionary field, refusing a label already there. */
function addMember(field: FieldGetter, name: string, label: string, member: string): string {
  const lines = field(name);
  if (lines === undefined) return `${label}=${member}`;
  const existing = combinedFieldValue(lines);
  if (parseUniqueDictionary(existing, name).has(label)) throw new TypeError(`the request already has a ${name} member labelled ${label}`);
  return `${existing}, ${label}=${member}`;
}

function agentOrigin(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new TypeError('signatureAgent must be an https origin');
  }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.username || u.password || u.search || u.hash || u.pathname !== '/') {
    throw new TypeError('signatureAgent must be an origin (https://host[:port]): the directory is served at /.well-known/http-message-signatures-directory');
  }
  return u.origin;
}

/**
 * Signs a request (RFC 9421 §3.1) as a Web Bot Auth agent and returns the
 * fields to add. Only the dictionary form of Signature-Agent is sent, its
 * member keyed by this signature's label (Web Bot Auth draft,
 * "Signature-Agent").
 */
export async function signatureHeaders(request: RequestLike, options: SignRequestOptions): Promise<SignatureHeaders> {
  if (!options || typeof options.signer?.sign !== 'function') throw new TypeError('signRequest needs a Charter signer');
  const alg = algorithmOfSigner(options.signer);
  const label = options.label ?? 'sig1';
  if (!LABEL.test(label)) throw new TypeError('label must be a structured-field key (lower case)');
  const keyId = options.keyId ?? (options.publicJwk ? jwkThumbprint(options.publicJwk) : undefined);
  if (typeof keyId !== 'string' || keyId.length === 0) throw new TypeError('signRequest needs keyId or publicJwk (the keyid is its RFC 7638 thumbprint)');
  const expiresIn = options.expiresInSeconds ?? 60;
  if (!Number.isInteger(expiresIn) || expiresIn <= 0 || expiresIn > 3600) throw new TypeError('expiresInSeconds must be an integer in [1, 3600]');
  // An Invalid Date would sign `created` and `expires` as NaN (no structured-field integer); a number has no getTime.
  const nowMs = nowMsOf(options.now, 'signRequest');
  const tag = options.tag === undefined ? WEB_BOT_AUTH_TAG : options.tag;
  const nonce = options.nonce === undefined ? randomBytes(32).toString('base64url') : options.nonce;

  const msg = requestContext(request);
  const out: Partial<SignatureHeaders> = {};
  let field = msg.field;
  if (options.signatureAgent !== undefined) {
    const agent = addMember(field, 'signature-agent', label, serializeItem(agentOrigin(options.signatureAgent)));
    out['signature-agent'] = agent;
    const base = field;
    field = (name) => (name === 'signature-agent' ? [agent] : base(name));
  }
  const ids = options.components ?? ['@method', '@authority', '@path', '@query', ...(field('content-digest') ? ['content-digest'] : [])];
  const components = ids.map((id) => {
    try {
      return parseComponentId(id);
    } catch (e) {
      throw new TypeError(e instanceof Error ? e.message : String(e), { cause: e });
    }
  });
  if (options.signatureAgent !== undefined && !components.some((c) => c.name === 'signature-agent')) {
    components.push(parseComponentId(`"signature-agent";key=${serializeItem(label)}`));
  }
  const created = Math.floor(nowMs / 1000);
  // Parameter order of the draft's examples: created, keyid, alg, expires, nonce, tag.
  const params: Array<[string, BareItem]> = [
    ['created', created],
    ['keyid', keyId],
    ['alg', alg],
    ['expires', created + expiresIn],
  ];
  if (nonce !== false) params.push(['nonce', nonce]);
  if (tag !== null) params.push(['tag', tag]);

  const { innerList, signature } = await createSignature({ ...msg, field }, components, params, options.signer);
  out['signature-input'] = addMember(msg.field, 'signature-input', label, serializeInnerList(innerList));
  out.signature = addMember(msg.field, 'signature', label, serializeItem([signature, new Map()]));
  return out as SignatureHeaders;
}

/**
 * Signs a request and returns it with Signature, Signature-Input (and
 * Signature-Agent): a new `Request` for a `Request`, a copy with new headers
 * otherwise. The caller's object is not changed.
 */
export async function signRequest<T extends RequestLike>(request: T, options: SignRequestOptions): Promise<T> {
  const added = await signatureHeaders(request, options);
  if (typeof Request !== 'undefined' && request instanceof Request) {
    const headers = new Headers(request.headers);
    for (const [k, v] of Object.entries(added)) headers.set(k, v);
    return new Request(request, { headers }) as T;
  }
  const plain = request as Exclude<RequestLike, Request>;
  const src = plain.headers;
  if (src instanceof Headers) {
    const headers = new Headers(src);
    for (const [k, v] of Object.entries(added)) headers.set(k, v);
    return { ...plain, headers } as T;
  }
  if (typeof src === 'function') {
    const get = src;
    const extra: Record<string, string | undefined> = { ...added };
    return { ...plain, headers: (name: string) => extra[name] ?? get(name) } as T;
  }
  const headers: Record<string, string | readonly string[] | number | undefined> = {};
  for (const [k, v] of Object.entries(src ?? {})) if (!(k.toLowerCase() in added)) headers[k] = v;
  Object.assign(headers, added);
  return { ...plain, headers } as T;
}
