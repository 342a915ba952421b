import { CharterError } from '../errors.js';

/**
 * Mandate actions are exact names (`payments:card`) or prefix patterns: a
 * single trailing `*` matches every action starting with what precedes it
 * (`payments:*`), and `*` alone matches every action. A `*` anywhere else is
 * refused, so containment between patterns stays a plain prefix test.
 */
const PATTERN = /^(?:\*|[A-Za-z0-9:._-]{1,63}\*?)$/;
const ACTION = /^[A-Za-z0-9:._-]{1,64}$/;

export function isActionPattern(s: unknown): s is string {
  return typeof s === 'string' && PATTERN.test(s);
}

/** A concrete action a request names (no wildcard). */
export function isAction(s: unknown): s is string {
  return typeof s === 'string' && ACTION.test(s);
}

export function assertAction(s: unknown): string {
  if (!isAction(s)) throw new CharterError('INVALID_ARGUMENT', 'a requested action is a name such as payments:card (letters, digits, : . _ -; no wildcard)');
  return s;
}

const prefixOf = (p: string): string | undefined => (p.endsWith('*') ? p.slice(0, -1) : undefined);

/** Does `pattern` allow the concrete `action`? */
export function actionMatches(pattern: string, action: string): boolean {
  const prefix = prefixOf(pattern);
  return prefix === undefined ? pattern === action : action.startsWith(prefix);
}

/**
 * Does `parent` allow everything `child` allows? Equal, or parent is a
 * prefix pattern whose prefix starts the child (exact or pattern): every
 * action the child matches then starts with the parent's prefix.
 */
export function actionCovers(parent: string, child: string): boolean {
  if (parent === child) return true;
  const prefix = prefixOf(parent);
  return prefix !== undefined && child.startsWith(prefix);
}

/** Is `action` allowed by any pattern in `patterns`? */
export function actionAllowed(patterns: readonly string[], action: string): boolean {
  return patterns.some((p) => actionMatches(p, action));
}
