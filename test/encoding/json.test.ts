import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalJson, findDuplicateKey, jsonTextProblem, MAX_JSON_DEPTH, scanJson, sha256Digest } from '../../src/encoding/json.js';
import { toolBinding } from '../../src/integrations/mcp/binding.js';

describe('canonical JSON (RFC 8785)', () => {
  it('sorts keys by UTF-16 code units at every level, drops undefined members, keeps array order', () => {
    expect(canonicalJson({ b: 1, a: [3, { d: true, c: null }], é: 'x', A: undefined })).toBe('{"a":[3,{"c":null,"d":true}],"b":1,"é":"x"}');
    // RFC 8785 §3.2.3: "\\u20ac" (€) sorts after "\\r" and "1" by code unit.
    expect(canonicalJson({ '€': 1, '\r': 2, '1': 3 })).toBe('{"\\r":2,"1":3,"€":1}');
  });
  it('refuses what JSON.parse cannot produce instead of collapsing it to {}', () => {
    for (const v of [new Date(0), new URL('https://a.example/'), new Map(), { nested: new Date(1) }]) expect(() => canonicalJson(v)).toThrow(TypeError);
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(canonicalJson(Object.create(null) as object)).toBe('{}');
  });
  it('sha256Digest of an object is the digest of its canonical form', () => {
    expect(sha256Digest({ b: 1, a: 2 })).toBe(sha256Digest('{"a":2,"b":1}'));
  });
});

describe('MCP tool binding', () => {
  it('hashes the arguments as JSON carries them: a Date binds as its ISO string, distinct values never collide', () => {
    const at = new Date('2026-12-02T00:00:00.000Z');
    expect(toolBinding('t', { when: at })).toEqual(toolBinding('t', { when: '2026-12-02T00:00:00.000Z' }));
    expect(toolBinding('t', { when: at })).not.toEqual(toolBinding('t', { when: new Date(0) }));
    expect(toolBinding('t', { url: new URL('https://a.example/pay') })).not.toEqual(toolBinding('t', { url: new URL('https://evil.example/steal') }));
    expect(toolBinding('t', { a: 1, b: 2 })).toEqual(toolBinding('t', { b: 2, a: 1 }));
    expect(toolBinding('t', {})).not.toEqual(toolBinding('u', {}));
    expect(() => toolBinding('t', { n: 1n })).toThrow(TypeError);
  });
});

describe('scanJson: nesting depth', () => {
  const nested = (n: number, open = '[', close = ']') => open.repeat(n) + close.repeat(n);
  it('refuses JSON nested beyond MAX_JSON_DEPTH, in objects, arrays or both, and not brackets inside strings', () => {
    expect(scanJson(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(scanJson(nested(MAX_JSON_DEPTH + 1))).toEqual({ tooDeep: true });
    expect(scanJson(nested(20_000))).toEqual({ tooDeep: true });
    const objects = (n: number) => '{"a":'.repeat(n - 1) + '{}' + '}'.repeat(n - 1);
    expect(scanJson(objects(MAX_JSON_DEPTH))).toBeUndefined();
    expect(scanJson(objects(MAX_JSON_DEPTH + 1))).toEqual({ tooDeep: true });
    const mixed = (n: number) =>
      Array.from({ length: n }, (_, i) => (i % 2 ? '[' : '{"k":')).join('') +
      '1' +
      Array.from({ length: n }, (_, i) => (i % 2 ? ']' : '}'))
        .reverse()
        .join('');
    expect(JSON.parse(mixed(MAX_JSON_DEPTH + 1))).toBeTruthy();
    expect(scanJson(mixed(MAX_JSON_DEPTH + 1))).toEqual({ tooDeep: true });
    expect(scanJson(`{"s":"${'['.repeat(500)}"}`)).toBeUndefined();
    // Depth is counted along one path: many siblings at depth 2 are shallow.
    expect(scanJson(`[${Array(500).fill('[1]').join(',')}]`)).toBeUndefined();
    expect(scanJson(nested(5), 4)).toEqual({ tooDeep: true });
  });
});

describe('findDuplicateKey', () => {
  it('finds a name repeated in one object, at any depth, escaped or not', () => {
    expect(findDuplicateKey('{"exp":1,"exp":"x"}')).toBe('exp');
    expect(findDuplicateKey('{"exp":1,"\\u0065xp":2}')).toBe('exp');
    expect(findDuplicateKey('{"a":{"id":"x","id":"y"}}')).toBe('id');
    expect(findDuplicateKey('{"a":[{"k":1},{"k":1,"k":2}]}')).toBe('k');
    expect(findDuplicateKey(' { "a" : 1 , "a" : 2 } ')).toBe('a');
  });
  it('does not confuse values, strings with quotes or braces, or sibling objects with names', () => {
    for (const t of [
      '{"a":"a","b":"a"}',
      '{"a":{"x":1},"b":{"x":1}}',
      '["a","a"]',
      '{"s":"\\"a\\":1,\\"a\\"","a":2}',
      '{"a":"{\\"b\\":1}","b":"}"}',
      '{}',
      '[]',
      '"x"',
      '1',
      '{"a":[1,{"a":2}],"b":null}',
    ]) {
      expect([t, findDuplicateKey(t)]).toEqual([t, undefined]);
    }
  });
  it('agrees with a reference on random JSON (property)', () => {
    // Reference: re-serialise each object from its entries; a duplicate shows up as fewer keys than the text names.
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (v, dup) => {
        const text = JSON.stringify(v);
        if (!dup || typeof v !== 'object' || v === null || Array.isArray(v) || Object.keys(v).length === 0) {
          expect(findDuplicateKey(text)).toBeUndefined();
          return;
        }
        const first = Object.keys(v)[0]!;
        const withDup = `{${JSON.stringify(first)}:0,${text.slice(1)}`;
        expect(findDuplicateKey(withDup)).toBe(first);
      }),
      { numRuns: 500 },
    );
  });
});

describe('jsonTextProblem: one wording for every reader of outside JSON', () => {
  it('names a duplicate member, also when escapes spell it differently, and over-deep nesting', () => {
    expect(jsonTextProblem('{"a":1,"a":2}')).toBe('names "a" twice');
    expect(jsonTextProblem('{"a":1,"\\u0061":2}')).toBe('names "a" twice');
    expect(jsonTextProblem('{"x":{"k":1,"k":1}}')).toBe('names "k" twice');
    expect(jsonTextProblem('['.repeat(65) + ']'.repeat(65))).toBe('nests JSON deeper than 64 levels');
    expect(jsonTextProblem(`{"${'n'.repeat(100)}":1,"${'n'.repeat(100)}":2}`)).toBe(`names "${'n'.repeat(40)}" twice`);
  });
  it('passes what differs only in value or in object, and 64 levels', () => {
    expect(jsonTextProblem('{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}')).toBeUndefined();
    expect(jsonTextProblem('['.repeat(64) + ']'.repeat(64))).toBeUndefined();
    expect(jsonTextProblem('"a"')).toBeUndefined();
  });
});
