/**
 * A list of identifiers (DIDs, key ids) from a caller's options, as a Set, or
 * undefined when not given. TypeError unless an array of non-empty strings: a
 * string where a list belongs would be matched by substring wherever it is
 * read with `includes` ("did:web:acme.com.au" would let did:web:acme.com in),
 * and a non-string item is a misuse, never a wildcard.
 */
export function identifierSet(name: string, list: unknown, what = 'DIDs'): ReadonlySet<string> | undefined {
  if (list === undefined) return undefined;
  if (!(Array.isArray(list) && list.every((d) => typeof d === 'string' && d.length > 0))) throw new TypeError(`${name} must be a list of ${what} (an array of non-empty strings)`);
  return new Set(list as string[]);
}
