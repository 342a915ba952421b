/**
 * JOSE `typ` / `cty` media types as RFC 7515 §4.1.9-10 has recipients read
 * them: compared case-insensitively (media types are, RFC 2045 §5.1), and a
 * value without a '/' stands for `application/<value>`. So `vc+jwt`,
 * `application/vc+jwt` and `VC+JWT` are one type. Parameters, whitespace and
 * anything else are not normalised away: they do not match.
 */
export function mediaTypeOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 128) return undefined;
  const v = value.toLowerCase();
  return v.includes('/') ? v : `application/${v}`;
}

/** True when `value` names the media type `expected` (given in short form, e.g. `vc+jwt`). */
export function isMediaType(value: unknown, expected: string): boolean {
  return mediaTypeOf(value) === `application/${expected}`;
}
