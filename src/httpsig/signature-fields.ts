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
  if (inputs.size !== sigs.size || [...inputs.keys()].some((l) => !sigs.has(l))) return 'Signature and Signature-Input do not carry the same labels';
  const signatures = new Map<string, Uint8Array>();
  for (const [label, m] of sigs) {
    const v = m[0];
    if (!(v instanceof ArrayBuffer)) return `the signature ${label} is not a Byte Sequence`;
    signatures.set(label, new Uint8Array(v));
  }
  return { inputs, signatures };
}
