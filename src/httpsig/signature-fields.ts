import type { InnerList, Item } from 'structured-headers';
import { combinedFieldValue, FieldError, parseUniqueDictionary, type FieldGetter } from './fields.js';

export interface SignatureFields {
  /** Signature-Input members by label, in field order. */
  inputs: Map<string, Item | InnerList>;
  /** Signature values by label. */
  signatures: Map<string, Uint8Array>;
}

/** More labels than any honest message carries; refused before any work is spent on them. */
export const MAX_LABELS = 8;

/**
 * Reads Signature-Input and Signature (RFC 9421 §4.1, §4.2): both
 * Dictionaries, labels unique across all field lines, the same labels in
 * both ("the presence of a label in one field but not in the other is an
 * error", §4), each signature a Byte Sequence. Returns 'missing' when neither
 * field is there, a message when they are malformed.
 */
export function readSignatureFields(field: FieldGetter): SignatureFields | 'missing' | string {
  const inputLines = field('signature-input');
  const sigLines = field('signature');
  if (inputLines === undefined && sigLines === undefined) return 'missing';
  if (inputLines === undefined || sigLines === undefined) return 'Signature and Signature-Input must both be present';
  let inputs;
  let sigs;
  try {
    inputs = parseUniqueDictionary(combinedFieldValue(inputLines), 'Signature-Input');
    sigs = parseUniqueDictionary(combinedFieldValue(sigLines), 'Signature');
  } catch (e) {
    return e instanceof FieldError ? e.message : 'malformed signature fields';
  }
  if (inputs.size > MAX_LABELS) return `more than ${MAX_LABELS} signatures`;
  const noncanonical = parameterProblem(combinedFieldValue(inputLines));
  if (noncanonical !== undefined) return noncanonical;
  if (inputs.size !== sigs.size || [...inputs.keys()].some((l) => !sigs.has(l))) return 'Signature and Signature-Input do not carry the same labels';
  const signatures = new Map<string, Uint8Array>();
  for (const [label, m] of sigs) {
    const v = m[0];
    if (!(v instanceof ArrayBuffer)) return `the signature ${label} is not a Byte Sequence`;
    signatures.set(label, new Uint8Array(v));
  }
  return { inputs, signatures };
}

/** RFC 9421 §2.3: the signature parameters that are Integers. */
const INTEGER_PARAMS = new Set(['created', 'expires']);

/** The index just past the sf-string that starts at `i` (the value already parsed, so it is closed). */
function skipString(value: string, i: number): number {
  for (i++; i < value.length; i++) {
    if (value[i] === '\\') i++;
    else if (value[i] === '"') return i + 1;
  }
  return i;
}

/**
 * What the parsed Dictionary no longer shows, read from the raw Signature-Input
 * (already known to parse): a parameter key repeated on one item or inner list
 * (RFC 9651 §4.2.3.2 lets the last win, so `;tag="evil";tag="web-bot-auth"` or
 * `;created=0;created=…` would verify as the re-serialised last value), and a
 * Decimal where RFC 9421 §2.3 wants an Integer (`created=1772366400.0`; RFC
 * 9651 keeps the two types distinct, the parser maps both to a number).
 */
export function parameterProblem(value: string): string | undefined {
  let depth = 0;
  let group: Set<string> | undefined;
  let signatureParams = false;
  let i = 0;
  while (i < value.length) {
    const c = value[i]!;
    if (c === ';') {
      i++;
      while (value[i] === ' ') i++;
      const key = /^[a-z*][a-z0-9_.*-]*/.exec(value.slice(i, i + 80))?.[0] ?? '';
      i += key.length;
      if (group === undefined) {
        group = new Set();
        signatureParams = depth === 0;
      }
      if (group.has(key)) return `the parameter ${key.slice(0, 20)} is repeated`;
      group.add(key);
      if (value[i] === '=') {
        i++;
        if (value[i] === '"') i = skipString(value, i);
        // A Display String (RFC 9651 §3.3.8, %"…") is a string too: read as a token, a ";" inside it
        // would turn what is inside and outside a string around for the rest of the field.
        else if (value[i] === '%' && value[i + 1] === '"') i = skipString(value, i + 1);
        else {
          const start = i;
          while (i < value.length && !/[;\s(),]/.test(value[i]!)) i++;
          if (signatureParams && INTEGER_PARAMS.has(key) && !/^-?\d+$/.test(value.slice(start, i))) return `${key} must be an Integer`;
        }
      }
      continue;
    }
    group = undefined;
    if (c === '"') {
      i = skipString(value, i);
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') depth--;
    i++;
  }
  return undefined;
}
