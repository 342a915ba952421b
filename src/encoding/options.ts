/**
 * How a public function reads its options object. `true`: any value (the
 * function checks it); `'boolean'`: true, false or absent; a nested spec: an
 * object read by the same rules (a `trust` object, say).
 */
export type OptionSpec<T> = { readonly [K in keyof Required<T>]-?: true | 'boolean' | OptionSpec<NonNullable<T[K]>> };

/** Edit distance of two short names (for "did you mean"). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

function unknownKey(who: string, path: string, key: string, known: string[]): TypeError {
  const lower = key.toLowerCase();
  const near = known.filter((k) => {
    const n = k.toLowerCase();
    return distance(lower, n) <= Math.max(1, Math.floor(n.length / 5)) || (lower.length >= 4 && (n.startsWith(lower) || lower.startsWith(n)));
  });
  const hint = near.length > 0 ? ` (did you mean ${near.map((k) => `"${path}${k}"`).join(' or ')}?)` : '';
  return new TypeError(`${who}: unknown option "${path}${key.slice(0, 64)}"${hint}: a misspelt option would leave the check it names undone`);
}

/**
 * The options of a public verifier, read once into a plain copy the function
 * uses from then on. Verification fails closed on its options too:
 * - a key the function does not know is a TypeError naming it, since a
 *   misspelt `maxAgeSecond` or `trust.identityIssuer` would otherwise leave
 *   the check it meant at its default (an unknown key whose value is
 *   `undefined` says nothing and is dropped);
 * - a `'boolean'` option (an opt-out such as `allowHolderMismatch`) is a
 *   boolean or absent: the string "false" from a configuration file is a
 *   TypeError, not "on";
 * - each known key is read exactly once (a getter cannot answer one thing to
 *   the option check and another to the decision), arrays are copied, and a
 *   caller changing its object while the call awaits changes nothing.
 * - nothing is read from Object.prototype, and the copy has no prototype, so
 *   an option set there (prototype pollution) never reaches a check.
 * Functions, resolvers and stores are kept by reference. A value that is not
 * an object is returned as it is, for the caller's own "needs options" check.
 */
export function readOptions<T extends object>(who: string, options: T, spec: OptionSpec<T>): T {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return options;
  return readObject(who, '', options as Record<string, unknown>, spec as Record<string, unknown>) as T;
}

function readObject(who: string, path: string, o: Record<string, unknown>, spec: Record<string, unknown>): Record<string, unknown> {
  const known = Object.keys(spec);
  for (const k of Object.keys(o)) {
    if (!Object.hasOwn(spec, k) && o[k] !== undefined) throw unknownKey(who, path, k, known);
  }
  // Into an object with no prototype, and never from Object.prototype: an option set there (prototype
  // pollution elsewhere in the process) is neither read from the caller's object nor inherited by the
  // copy, so it cannot switch on an opt-out (anyPrincipal, allowHolderMismatch, status: …) for a caller
  // who never set it. A class instance's own prototype (a getter) still counts.
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const k of known) {
    const v = defines(o, k) ? o[k] : undefined;
    if (v === undefined) continue;
    const rule = spec[k];
    if (rule === 'boolean') {
      if (typeof v !== 'boolean') throw new TypeError(`${who}: option "${path}${k}" must be true or false`);
      out[k] = v;
    } else if (typeof rule === 'object' && rule !== null && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      out[k] = readObject(who, `${path}${k}.`, v as Record<string, unknown>, rule as Record<string, unknown>);
    } else {
      out[k] = Array.isArray(v) ? [...(v as unknown[])] : v;
    }
  }
  return out;
}

/** Whether `o` or a prototype of its own (a class's, say), short of Object.prototype, defines `k`. */
function defines(o: object, k: string): boolean {
  for (let p: object | null = o; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    if (Object.hasOwn(p, k)) return true;
  }
  return false;
}
