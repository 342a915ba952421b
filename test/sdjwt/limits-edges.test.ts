import { describe, expect, it } from 'vitest';
import { processDisclosures } from '../../src/sdjwt/disclosures.js';
import { DEFAULT_MAX_SD_JWT, splitSdJwt } from '../../src/sdjwt/verify.js';

/**
 * The bounds an SD-JWT is read within, at their edges: its size (maxBytes,
 * inclusive), the number of disclosures (1024), how deep claims nest (32
 * levels). And an empty `_sd` array, which digests nothing: it makes no
 * claim selectively disclosable, even inside `cnf` or `status` where a
 * digest is refused.
 */
const code = (f: () => unknown) => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

describe('SD-JWT size and count bounds', () => {
  it('a token of exactly maxBytes is read; one character more is INPUT_TOO_LARGE', () => {
    for (const max of [100, DEFAULT_MAX_SD_JWT]) {
      const token = 'a.b.c~' + 'd'.repeat(max - 7) + '~';
      expect(token.length).toBe(max);
      expect(code(() => splitSdJwt(token, max))).toBe('ok');
      expect(code(() => splitSdJwt(token + 'e', max))).toBe('INPUT_TOO_LARGE');
    }
  });

  it('1024 disclosures are read; 1025 are INPUT_TOO_LARGE', () => {
    const token = (n: number) => ['a.b.c', ...Array.from({ length: n }, () => 'WyJzIiwiYSIsMV0'), ''].join('~');
    expect(splitSdJwt(token(1024)).disclosures).toHaveLength(1024);
    expect(code(() => splitSdJwt(token(1025)))).toBe('INPUT_TOO_LARGE');
  });
});

describe('claims nesting and empty _sd', () => {
  const nested = (levels: number): Record<string, unknown> => {
    let v: Record<string, unknown> = { leaf: 1 };
    for (let i = 1; i < levels; i++) v = { a: v };
    return v;
  };
  it('claims 32 levels deep are read; 33 are refused (DISCLOSURE_INVALID)', () => {
    // The payload is level 0: nested(32) puts `leaf` at level 32.
    expect(code(() => processDisclosures({ x: nested(31) }, []))).toBe('ok');
    expect(code(() => processDisclosures({ x: nested(32) }, []))).toBe('DISCLOSURE_INVALID');
    expect(code(() => processDisclosures({ x: [nested(30)] }, []))).toBe('ok');
    expect(code(() => processDisclosures({ x: [nested(31)] }, []))).toBe('DISCLOSURE_INVALID');
  });

  it('an empty _sd digests nothing: allowed in cnf and status, and no path is reported selective', () => {
    const p = processDisclosures({ cnf: { jwk: { kty: 'OKP' }, _sd: [] }, status: { _sd: [], status_list: { idx: 0, uri: 'https://x.example/l' } }, a: { _sd: [] }, _sd: [] }, []);
    expect(p.selective).toEqual([]);
    expect(p.withheld).toEqual([]);
    expect(p.claims).toEqual({ cnf: { jwk: { kty: 'OKP' } }, status: { status_list: { idx: 0, uri: 'https://x.example/l' } }, a: {} });
    // One digest elsewhere makes its claim selective (withheld, since nothing discloses it); in cnf it is refused.
    const one = processDisclosures({ a: { _sd: ['x'.repeat(43)] } }, []);
    expect([one.selective, one.withheld]).toEqual([['a'], ['a']]);
    expect(code(() => processDisclosures({ cnf: { jwk: { kty: 'OKP' }, _sd: ['x'.repeat(43)] } }, []))).toBe('DISCLOSURE_INVALID');
  });
});
