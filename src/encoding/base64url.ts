import { CharterError } from '../errors.js';

const B64U = /^[A-Za-z0-9_-]*$/;

export function b64uEncode(data: Uint8Array | string): string {
  return (typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength)).toString('base64url');
}

/** Strict: only the base64url alphabet, no padding (RFC 7515 §2). */
export function b64uDecode(s: string): Uint8Array {
  if (typeof s !== 'string' || !B64U.test(s) || s.length % 4 === 1) {
    throw new CharterError('INVALID_ARGUMENT', 'not base64url');
  }
  return new Uint8Array(Buffer.from(s, 'base64url'));
}
