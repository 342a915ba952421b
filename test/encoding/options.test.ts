import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readOptions, type OptionSpec } from '../../src/encoding/options.js';

interface Opts {
  resolver: { resolveKey(): void };
  maxAgeSeconds?: number;
  allowHolderMismatch?: boolean;
  list?: string[];
  trust?: { principals?: string[]; anyPrincipal?: boolean };
}
const SPEC: OptionSpec<Opts> = { resolver: true, maxAgeSeconds: true, allowHolderMismatch: 'boolean', list: true, trust: { principals: true, anyPrincipal: 'boolean' } };
const resolver = { resolveKey() {} };
const read = (o: unknown) => readOptions('f', o as Opts, SPEC);

describe('readOptions: a public function reads its options once, and fails closed on what it does not know', () => {
  it('an unknown key is a TypeError naming it, with the nearest known names, at every depth', () => {
    expect(() => read({ resolver, maxAgeSecond: 1 })).toThrow(/unknown option "maxAgeSecond" \(did you mean "maxAgeSeconds"\?\)/);
    expect(() => read({ resolver, trust: { principal: ['did:x:a'] } })).toThrow(/unknown option "trust\.principal" \(did you mean "trust\.principals"\?\)/);
    expect(() => read({ resolver, allowholdermismatch: true })).toThrow(/did you mean "allowHolderMismatch"/);
    expect(() => read({ resolver, zzz: 1 })).toThrow(TypeError);
    expect(() => read({ resolver, zzz: 1 })).not.toThrow(/did you mean/);
    // Prototype-named keys are keys like any other.
    expect(() => read(JSON.parse('{"__proto__": {"x": 1}}'))).toThrow(/unknown option "__proto__"/);
    expect(() => read({ resolver, constructor: 1 })).toThrow(/unknown option "constructor"/);
  });

  it('an unknown key whose value is undefined says nothing and is dropped', () => {
    expect(read({ resolver, extra: undefined })).toEqual({ resolver });
  });

  it('a boolean option is true, false or absent: "false", 1, "true", null are TypeErrors', () => {
    for (const v of ['false', 'true', 1, 0, null, {}, [], new Boolean(false)]) {
      expect(() => read({ resolver, allowHolderMismatch: v }), String(v)).toThrow(/"allowHolderMismatch" must be true or false/);
      expect(() => read({ resolver, trust: { anyPrincipal: v } }), String(v)).toThrow(/"trust\.anyPrincipal" must be true or false/);
    }
    expect(read({ resolver, allowHolderMismatch: false }).allowHolderMismatch).toBe(false);
    expect(read({ resolver, allowHolderMismatch: true }).allowHolderMismatch).toBe(true);
  });

  it('each key is read once, also through getters and inherited properties; the copy does not follow later changes', () => {
    let reads = 0;
    const o = {
      resolver,
      get maxAgeSeconds() {
        reads++;
        return reads === 1 ? 5 : 500;
      },
    };
    const r = read(o);
    expect(reads).toBe(1);
    expect(r.maxAgeSeconds).toBe(5);
    expect(r.maxAgeSeconds).toBe(5);
    // Options given as a class instance keep what its prototype defines.
    class Config {
      get resolver() {
        return resolver;
      }
      maxAgeSeconds = 7;
    }
    expect(read(new Config())).toEqual({ resolver, maxAgeSeconds: 7 });
    // Arrays and nested objects are copies: emptying the caller's list afterwards changes nothing.
    const list = ['a'];
    const trust = { principals: ['did:x:p'] };
    const c = read({ resolver, list, trust });
    list.length = 0;
    trust.principals.push('did:x:q');
    (trust as { anyPrincipal?: boolean }).anyPrincipal = true;
    expect(c.list).toEqual(['a']);
    expect(c.trust).toEqual({ principals: ['did:x:p'] });
    // Functions and objects a function only calls are kept by reference.
    expect(c.resolver).toBe(resolver);
  });

  it('a value that is not an options object is handed back for the caller to refuse; a nested value of the wrong type is kept for its own check', () => {
    for (const v of [undefined, null, 'x', 1, [1]]) expect(read(v)).toBe(v);
    expect(read({ resolver, trust: 'did:x:p' }).trust).toBe('did:x:p');
  });

  it('property: the copy holds exactly the known keys that were defined, with the same values', () => {
    const known = ['resolver', 'maxAgeSeconds', 'list'] as const;
    fc.assert(
      fc.property(
        fc.record({ resolver: fc.constant(resolver), maxAgeSeconds: fc.option(fc.integer(), { nil: undefined }), list: fc.option(fc.array(fc.string()), { nil: undefined }) }),
        fc.string(),
        (o, junk) => {
          const r = read(o) as unknown as Record<string, unknown>;
          for (const k of known) expect(r[k]).toEqual((o as Record<string, unknown>)[k]);
          expect(Object.keys(r).sort()).toEqual(known.filter((k) => (o as Record<string, unknown>)[k] !== undefined).sort());
          if (!Object.hasOwn(SPEC, junk)) expect(() => read({ ...o, [junk]: 0 })).toThrow(TypeError);
        },
      ),
    );
  });
});
