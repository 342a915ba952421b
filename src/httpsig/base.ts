import { isInnerList, serializeInnerList, type BareItem, type InnerList, type Item, type Parameters } from 'structured-headers';
import { checkComponent, ComponentError, componentId, componentValue, sameComponent, type Component, type MessageContext, type StructuredType } from './components.js';

/** The signature parameters of RFC 9421 §2.3 that Charter understands. */
export interface SignatureParams {
  created?: number;
  expires?: number;
  nonce?: string;
  alg?: string;
  keyid?: string;
  tag?: string;
}

/** One member of Signature-Input, parsed and checked. */
export interface ParsedSignatureInput {
  components: Component[];
  params: SignatureParams;
  /** The member as parsed: `@signature-params` is its strict re-serialisation (RFC 9421 §3.2 step 7). */
  innerList: InnerList;
}

const INTEGER_PARAMS = new Set(['created', 'expires']);
const STRING_PARAMS = new Set(['nonce', 'alg', 'keyid', 'tag']);

/**
 * Parses one Signature-Input member (RFC 9421 §4.1): an Inner List of
 * sf-strings with parameters. An unknown signature parameter is refused,
 * never ignored: it is signed, so it may carry a rule this verifier would
 * otherwise skip.
 */
/** Most components one signature may cover. */
export const MAX_COMPONENTS = 64;

export function parseSignatureInput(member: Item | InnerList): ParsedSignatureInput {
  if (!isInnerList(member)) throw new ComponentError('a Signature-Input member must be an Inner List');
  const [items, rawParams] = member;
  // A bound on the work an unauthenticated request can cause before any key is found: honest
  // signatures cover a handful of components (Web Bot Auth: 2 to 8), and each costs a derivation.
  if (items.length > MAX_COMPONENTS) throw new ComponentError(`a signature covers at most ${MAX_COMPONENTS} components`);
  const components: Component[] = [];
  for (const item of items) {
    const c = checkComponent(item);
    // RFC 9421 §2 and §2.5 step 2.0: each identifier occurs once.
    if (components.some((d) => sameComponent(c, d))) throw new ComponentError(`${componentId(c)} is covered twice`);
    components.push(c);
  }
  const params: SignatureParams = {};
  for (const [k, v] of rawParams) {
    if (INTEGER_PARAMS.has(k)) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ComponentError(`${k} must be a non-negative Integer`);
      params[k as 'created' | 'expires'] = v;
    } else if (STRING_PARAMS.has(k)) {
      if (typeof v !== 'string') throw new ComponentError(`${k} must be an sf-string`);
      params[k as 'nonce' | 'alg' | 'keyid' | 'tag'] = v;
    } else throw new ComponentError(`unknown signature parameter ${k.slice(0, 20)}`);
  }
  return { components, params, innerList: member };
}

/** Builds the Inner List a signer puts in Signature-Input (RFC 9421 §2.3), parameters in the given order. */
export function signatureInputList(components: readonly Component[], params: ReadonlyArray<readonly [string, BareItem]>): InnerList {
  const p: Parameters = new Map(params.map(([k, v]) => [k, v] as [string, BareItem]));
  return [components.map((c) => [c.name, c.params] as Item), p];
}

/**
 * The signature base of RFC 9421 §2.5: one line per covered component, in
 * order, then `"@signature-params"`. Throws ComponentError when a component
 * cannot be derived (which fails the verification, §2.5).
 */
export function signatureBase(input: Pick<ParsedSignatureInput, 'components' | 'innerList'>, msg: MessageContext, structured?: Readonly<Record<string, StructuredType>>): string {
  const lines: string[] = [];
  const seen: Component[] = [];
  for (const c of input.components) {
    if (seen.some((d) => sameComponent(c, d))) throw new ComponentError(`${componentId(c)} is covered twice`);
    seen.push(c);
    lines.push(`${componentId(c)}: ${componentValue(c, msg, structured)}`);
  }
  lines.push(`"@signature-params": ${serializeInnerList(input.innerList)}`);
  const base = lines.join('\n');
  // RFC 9421 §2.5 step 4: the base is ASCII; field-content allows no control but HTAB.
  if (/[^\x20-\x7e\n\t]/.test(base)) throw new ComponentError('the signature base would contain non-ASCII or control characters');
  return base;
}
