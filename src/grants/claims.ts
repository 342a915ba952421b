import type { Reason } from '../errors.js';
import { isObj } from '../encoding/json.js';
import { normalizeGrantResource } from './scope.js';
import { readTerms, type GrantTerms } from './terms.js';

/** `credentialSubject.grant` of a DataAccessGrant, as checked (resources normalised). */
export interface GrantClaims {
  resources: string[];
  actions: string[];
  purpose: string;
  constraints?: Record<string, unknown>;
  /** Terms of use (purposes, retention, onward sharing, processing, compensation). */
  terms?: GrantTerms;
}

/** An action name as a grant writes one. */
export const ACTION = /^[A-Za-z0-9:._-]{1,64}$/;

/** The refusal of a grant naming constraints: Charter enforces none, so the grant cannot be honoured as signed. */
export function unenforcedConstraints(constraints: Record<string, unknown>): Reason {
  const names = Object.keys(constraints)
    .slice(0, 5)
    .map((k) => JSON.stringify(k.slice(0, 40)));
  return {
    code: 'UNKNOWN_CONSTRAINT',
    message: `the grant's constraints (${names.join(', ')}) are not a vocabulary Charter enforces: state restrictions as terms (purpose, processing, retention, onward sharing)`,
  };
}
const MAX_ITEMS = 256;

/**
 * Shape-checks a grant's claims whether or not the credential names its
 * schema: arrays of strings, never a string that `includes` or `startsWith`
 * could half-match; every resource normalised (a grant naming "a/../b" is
 * refused, not matched). Returns the claims, or the reasons they cannot be used.
 */
export function readGrantClaims(value: unknown): { grant?: GrantClaims; reasons: Reason[] } {
  const bad = (message: string) => ({ reasons: [{ code: 'INVALID_CREDENTIAL' as const, message }] });
  if (!isObj(value)) return bad('a DataAccessGrant needs credentialSubject.grant, an object');
  const { resources, actions, purpose, constraints, terms } = value;
  if (!Array.isArray(resources) || resources.length === 0 || resources.length > MAX_ITEMS || !resources.every((r) => typeof r === 'string')) {
    return bad(`grant.resources must be a list of 1 to ${MAX_ITEMS} strings`);
  }
  if (!Array.isArray(actions) || actions.length === 0 || actions.length > MAX_ITEMS || !actions.every((a) => typeof a === 'string' && ACTION.test(a))) {
    return bad(`grant.actions must be a list of 1 to ${MAX_ITEMS} action names such as read`);
  }
  if (typeof purpose !== 'string') return bad('grant.purpose must be a string');
  if (constraints !== undefined && !isObj(constraints)) return bad('grant.constraints must be an object');
  // Charter defines no constraint vocabulary, so a named constraint is one no verifier here enforces: refused,
  // never read as "no restriction" (DESIGN.md: a tighter rule is never silently ignored). Terms say it.
  if (isObj(constraints) && Object.keys(constraints).length > 0) return { reasons: [unenforcedConstraints(constraints)] };
  const read = terms === undefined ? undefined : readTerms(terms);
  if (read && !read.terms) return { reasons: read.reasons };
  let normalised: string[];
  try {
    normalised = (resources as string[]).map(normalizeGrantResource);
  } catch (e) {
    return bad(`grant.resources: ${(e as Error).message}`);
  }
  return {
    grant: {
      resources: normalised,
      actions: [...(actions as string[])],
      purpose,
      ...(constraints !== undefined ? { constraints: constraints as Record<string, unknown> } : {}),
      ...(read?.terms ? { terms: read.terms } : {}),
    },
    reasons: [],
  };
}
