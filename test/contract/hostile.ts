import fc from 'fast-check';
import { CharterError, ERROR_CODES } from '../../src/errors.js';

/**
 * The error contract under hostile input, shared by the files of this folder: what a call may do
 * with a value it did not expect, and the values to try. A call returns its result, or fails with
 * a CharterError whose code is listed; a caller's own misuse of an option may be a TypeError that
 * names it (README "exceptions are for misuse (TypeError) and faults (CharterError)"), never an
 * engine's (`Cannot read properties of…`, a stack overflow), and never a hang.
 */

const CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/** What the engine or Node says when code met a value it never checked: never a message of Charter's own. */
const ENGINE =
  /Cannot (read|convert|create|destructure|set|use 'in')|is not (a function|iterable|a constructor|defined)|Maximum call stack|Invalid (URL|time value|array length|string length)|argument must be|Received (an instance|type)|Spread syntax|circular structure|serialize a BigInt|Symbol value|object null is not|Unexpected token|JSON at position|toISOString/;

export type Outcome =
  | { kind: 'result'; value: unknown }
  | { kind: 'charter'; code: string; message: string }
  | { kind: 'misuse'; message: string }
  | { kind: 'raw'; error: string }
  | { kind: 'own' }
  | { kind: 'hang' };

/** Runs `f` (sync or async) to its outcome within `ms`. */
export async function outcome(f: () => unknown, ms = 3000): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<Outcome>((r) => (timer = setTimeout(() => r({ kind: 'hang' }), ms)));
  const run = (async (): Promise<Outcome> => {
    try {
      return { kind: 'result', value: await f() };
    } catch (e) {
      if (e instanceof CharterError) return CODES.has(e.code) ? { kind: 'charter', code: e.code, message: e.message } : { kind: 'raw', error: `unlisted code ${String(e.code)}` };
      // A caller's own getter or proxy that throws: its error passes through, as it should.
      if (e instanceof Error && e.message === OWN) return { kind: 'own' };
      if (e instanceof TypeError && !ENGINE.test(e.message) && e.message.length > 0) return { kind: 'misuse', message: e.message };
      return { kind: 'raw', error: `${(e as Error)?.constructor?.name}: ${String((e as Error)?.message ?? e).slice(0, 200)}` };
    }
  })();
  try {
    return await Promise.race([run, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** A result that refused: ok false with listed codes only (throws otherwise, naming what came back). */
export function refused(o: Outcome, what: string): void {
  if (o.kind !== 'result') {
    if (o.kind === 'charter' || o.kind === 'own') return;
    throw new Error(`${what}: ${JSON.stringify(o)}`);
  }
  const v = o.value as { ok?: unknown; reasons?: Array<{ code: string }> };
  if (v?.ok !== false) throw new Error(`${what}: resolved ok ${String(v?.ok)}`);
  for (const r of v.reasons ?? []) if (!CODES.has(r.code)) throw new Error(`${what}: unlisted reason code ${r.code}`);
}

/** Anything but an engine error or a hang (a caller's misuse of an option may be a TypeError naming it). */
export function contained(o: Outcome, what: string): void {
  if (o.kind === 'raw' || o.kind === 'hang') throw new Error(`${what}: ${JSON.stringify(o)}`);
  if (o.kind === 'result') {
    const v = o.value as { reasons?: unknown };
    if (v !== null && typeof v === 'object' && Array.isArray(v.reasons))
      for (const r of v.reasons as Array<{ code: string }>) if (!CODES.has(r.code)) throw new Error(`${what}: unlisted reason code ${r.code}`);
  }
}

function nested(depth: number, leaf: unknown, wrap: (inner: unknown) => unknown): unknown {
  let o = leaf;
  for (let i = 0; i < depth; i++) o = wrap(o);
  return o;
}

const OWN = 'thrown by the caller';
const trap = (): never => {
  throw new Error(OWN);
};

/** Values a JS caller (or a JSON body, or a `JSON.parse` of one) can put where a string or object is expected. */
export function hostileConstants(): unknown[] {
  const getters: Record<string | symbol, unknown> = { [fc.toStringMethod]: () => 'an object whose getters throw' };
  for (const k of ['alg', 'typ', 'kid', 'iss', 'sub', 'aud', 'nonce', 'exp', 'iat', 'nbf', 'vc', 'vp', 'url', 'headers', 'method', 'body', 'format', 'then', 'length', '0'])
    Object.defineProperty(getters, k, { get: trap, enumerable: true });
  return [
    null,
    undefined,
    0,
    -0,
    NaN,
    Infinity,
    -Infinity,
    1e308,
    2 ** 53 + 1,
    true,
    '',
    'a'.repeat(3_000_000),
    `${'a'.repeat(40)}.`.repeat(80_000),
    '~'.repeat(200_000),
    '\uD800.\uDFFF.\uD800',
    'a\0.b\0.c',
    '\u202e.\ufeff.\u0000',
    [],
    ['x'],
    {},
    Object.create(null),
    { toString: trap, [fc.toStringMethod]: () => '{ toString: throws }' },
    { valueOf: trap, [fc.toStringMethod]: () => '{ valueOf: throws }' },
    { toJSON: trap, [fc.toStringMethod]: () => '{ toJSON: throws }' },
    { toString: 1, valueOf: 1 },
    getters,
    Symbol('s'),
    10n,
    // Symbols pass (fast-check asks for its print method by one): every name and every listing throws.
    new Proxy(
      { [fc.toStringMethod]: () => 'a proxy whose every trap throws' },
      {
        get: (t, k) => (typeof k === 'symbol' ? Reflect.get(t, k) : trap()),
        has: (t, k) => (typeof k === 'symbol' ? Reflect.has(t, k) : trap()),
        ownKeys: trap,
        getOwnPropertyDescriptor: trap,
        getPrototypeOf: trap,
      },
    ),
    Object.freeze({ a: 1 }),
    () => 1,
    new Date(NaN),
    new Uint8Array(3),
    { then() {} },
    Object.assign(Object.create(null), { __proto__: { ok: true } }),
    nested(20_000, {}, (a) => ({ a })),
    nested(20_000, [], (a) => [a]),
  ];
}

/** Hostile constants, and anything fast-check can make (boxed values, null prototypes, sparse arrays, typed arrays, big ints). */
export const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...hostileConstants()),
  fc.anything({
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withObjectString: true,
    withSparseArray: true,
    withTypedArray: true,
    withUnicodeString: true,
    maxDepth: 3,
  }),
);

/** One change to a compact token: a character changed, cut short, parts swapped or repeated, a segment re-encoded. */
export function mutated(token: string): fc.Arbitrary<string> {
  const b64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  return fc.oneof(
    fc
      .tuple(fc.nat(token.length - 1), fc.constantFrom(...b64, '.', '~', '=', '+', '/', ' ', '\0', '\u00e9', '\uD800'))
      .map(([i, c]) => token.slice(0, i) + (token[i] === c ? (c === 'A' ? 'B' : 'A') : c) + token.slice(i + 1)),
    fc.nat(token.length - 1).map((i) => token.slice(0, i)),
    fc.nat(token.length - 1).map((i) => token.slice(0, i) + token.slice(i + 1)),
    fc.constantFrom(
      token.split('.').reverse().join('.'),
      `${token}.${token.split('.').at(-1)!}`,
      `${token}~`,
      `${token}~~`,
      `~${token}`,
      token.replace(/\./g, '..'),
      token.split('.').slice(0, 2).join('.') + '.',
      ` ${token}`,
      token.toUpperCase(),
    ),
    // The payload re-encoded with one member changed: the old signature stays.
    fc.tuple(fc.constantFrom('iss', 'sub', 'aud', 'nonce', 'exp', 'iat', 'nbf', 'vc', 'vp', 'cnf', '_sd', 'status', 'jti'), fc.jsonValue({ maxDepth: 2 })).map(([k, v]) => {
      const parts = token.split('~')[0]!.split('.');
      try {
        const p = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString()) as Record<string, unknown>;
        p[k] = v === undefined ? null : v;
        parts[1] = Buffer.from(JSON.stringify(p)).toString('base64url');
      } catch {
        parts[1] = 'e30';
      }
      return [parts.join('.'), ...token.split('~').slice(1)].join('~');
    }),
  );
}
