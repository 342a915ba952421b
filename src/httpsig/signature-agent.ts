import { isInnerList, parseItem, Token } from 'structured-headers';
import type { CharterErrorCode } from '../errors.js';
import { classifyAddress } from '../did/address.js';
import { combinedFieldValue, FieldError, parseUniqueDictionary } from './fields.js';
import type { Component } from './components.js';

/** One `Signature-Agent` member (Web Bot Auth draft, "Signature-Agent"). */
export interface AgentMember {
  /** The Dictionary key (the legacy sf-string form: the signature's label). */
  key: string;
  /** The member's URL as sent. */
  value: string;
  /** Set when the member can be resolved: the https origin of its directory. */
  origin?: string;
  /** Why it cannot be resolved, when it cannot. */
  problem?: { code: CharterErrorCode; message: string };
}

export interface SignatureAgentField {
  form: 'dictionary' | 'legacy';
  members: Map<string, AgentMember>;
}

export class SignatureAgentError extends Error {}

export interface SignatureAgentOptions {
  /** Accept the pre-dictionary sf-string form (draft-meunier-web-bot-auth-architecture-03 and earlier). */
  legacy?: boolean;
  /** Allow http and loopback origins (local testing). */
  allowLoopback?: boolean;
}

/**
 * Parses `Signature-Agent`. The dictionary form is the draft's; the legacy
 * sf-string form (told apart by its leading DQUOTE, as the draft notes) is
 * read only when asked for, as a dictionary of one member keyed by `label`.
 */
export function parseSignatureAgent(lines: readonly string[], label: string, options: SignatureAgentOptions): SignatureAgentField {
  const value = combinedFieldValue(lines);
  if (value.startsWith('"')) {
    if (!options.legacy) throw new SignatureAgentError('Signature-Agent is a bare string (the legacy form); it must be a Dictionary');
    let item;
    try {
      item = parseItem(value);
    } catch {
      throw new SignatureAgentError('Signature-Agent is not a valid sf-string');
    }
    if (typeof item[0] !== 'string') throw new SignatureAgentError('Signature-Agent is not a valid sf-string');
    return { form: 'legacy', members: new Map([[label, member(label, item[0], undefined, options)]]) };
  }
  let dict;
  try {
    dict = parseUniqueDictionary(value, 'Signature-Agent');
  } catch (e) {
    throw new SignatureAgentError(e instanceof FieldError ? e.message : 'Signature-Agent is malformed');
  }
  const members = new Map<string, AgentMember>();
  for (const [key, m] of dict) {
    // The draft: member values are String Items; a `type` parameter names the discovery mechanism.
    if (isInnerList(m) || typeof m[0] !== 'string') {
      members.set(key, { key, value: '', problem: { code: 'SIGNATURE_INVALID', message: `Signature-Agent member ${key} is not a string` } });
      continue;
    }
    const type = m[1].get('type');
    members.set(key, member(key, m[0], type, options));
  }
  return { form: 'dictionary', members };
}

function member(key: string, value: string, type: unknown, options: SignatureAgentOptions): AgentMember {
  const out: AgentMember = { key, value };
  // The draft: a verifier that does not support a `type` ignores the member; only `directory` (the default) is resolved here.
  if (type !== undefined && !(type instanceof Token && type.toString() === 'directory')) {
    out.problem = { code: 'SIGNATURE_KEY_UNKNOWN', message: `Signature-Agent member ${key} uses a discovery type Charter does not resolve` };
    return out;
  }
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    out.problem = { code: 'SIGNATURE_INVALID', message: `Signature-Agent member ${key} is not a URL` };
    return out;
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const loopbackHost = host === 'localhost' || classifyAddress(host) === 'loopback';
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && options.allowLoopback && loopbackHost)) {
    out.problem = { code: 'FORBIDDEN_ADDRESS', message: `Signature-Agent member ${key} is not an https URL` };
  } else if (u.username || u.password || u.search || u.hash || (u.pathname !== '/' && u.pathname !== '')) {
    // The draft, "directory" type: the value is an origin (an empty path "/" may be accepted).
    out.problem = { code: 'SIGNATURE_INVALID', message: `Signature-Agent member ${key} is not an origin` };
  } else out.origin = u.origin;
  return out;
}

/**
 * The member a signature vouches for: the draft requires each signature to
 * cover the member keyed to its own label; Charter accepts any covered
 * member, preferring that one. Covering the whole field covers every member.
 * Returns undefined when the signature covers none.
 */
export function coveredAgentMember(field: SignatureAgentField, components: readonly Component[], label: string): AgentMember | undefined {
  const covered: string[] = [];
  for (const c of components) {
    if (c.name !== 'signature-agent' || c.params.has('req') || c.params.has('bs')) continue;
    const key = c.params.get('key');
    if (typeof key === 'string') covered.push(key);
    else covered.push(...field.members.keys());
  }
  if (covered.includes(label) && field.members.has(label)) return field.members.get(label);
  for (const k of covered) if (field.members.get(k)?.origin) return field.members.get(k);
  return covered.length > 0 ? field.members.get(covered[0]!) : undefined;
}
