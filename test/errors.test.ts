import { describe, expect, it } from 'vitest';
import { CharterError, ERROR_CODES, HTTP_STATUS, type CharterErrorCode } from '../src/errors.js';

describe('CharterError', () => {
  it('keeps every known code', () => {
    for (const c of ERROR_CODES) expect(new CharterError(c, 'm').code).toBe(c);
  });

  it('a code that is not one of ERROR_CODES (a table looked up by a name from outside) is INTERNAL, never a function or an object', () => {
    for (const odd of [Object, {}, undefined, null, 7, 'NOT_A_CODE', 'constructor', '__proto__', 'toString', 'internal'] as unknown[]) {
      const e = new CharterError(odd as CharterErrorCode, 'm');
      expect([odd, e.code, HTTP_STATUS[e.code], JSON.parse(JSON.stringify(e)).code]).toEqual([odd, 'INTERNAL', 500, 'INTERNAL']);
    }
  });
});
