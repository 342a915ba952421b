import type { Credential, CredentialStatusEntry, CredentialSubject } from './types.js';

/** Every subject of a credential, in order (VCDM 2.0 "Credential Subject": one object or a set of them). */
export function subjectsOf(credential: Pick<Credential, 'credentialSubject'>): CredentialSubject[] {
  const s = credential.credentialSubject;
  return Array.isArray(s) ? s : [s];
}

/**
 * The one subject of a credential, or undefined when it has several (or
 * none). For uses that are about exactly one party (a grant's grantee, a
 * mandate's agent, a receipt's counterparty): a credential about several
 * subjects is then simply not such a credential, and the caller refuses it.
 */
export function soleSubject(credential: Pick<Credential, 'credentialSubject'>): CredentialSubject | undefined {
  const s = credential.credentialSubject;
  if (!Array.isArray(s)) return s;
  return s.length === 1 ? s[0] : undefined;
}

/** The ids of the subjects that have one. */
export function subjectIds(credential: Pick<Credential, 'credentialSubject'>): string[] {
  return subjectsOf(credential).flatMap((s) => (typeof s.id === 'string' ? [s.id] : []));
}

/**
 * A credential's status entries that are objects (VCDM 2.0 §4.10: one
 * object or a set of them). Anything else (null, a string, a number) is no
 * entry: a caller that needs one refuses the credential for lacking it,
 * while the status checker names the malformed value itself.
 */
export function statusEntriesOf(credential: Pick<Credential, 'credentialStatus'>): CredentialStatusEntry[] {
  const s = credential.credentialStatus as unknown;
  const list: unknown[] = s === undefined ? [] : Array.isArray(s) ? s : [s];
  return list.filter((e): e is CredentialStatusEntry => typeof e === 'object' && e !== null && !Array.isArray(e));
}

/**
 * A restriction-bearing credential (a mandate, a grant) whose subject (or
 * claims) carries a member beyond `allowed`: UNKNOWN_CONSTRAINT, or
 * undefined. Charter reads one object for the rules (`authority`, `grant`);
 * a `limits`, `terms` or `notAfter` signed beside it by another issuer would
 * be a restriction no check here reads, so it is refused, never ignored
 * (DESIGN.md: a tighter rule is never silently ignored).
 */
export function unreadMembers(what: string, value: Record<string, unknown> | undefined, allowed: ReadonlySet<string>): { code: 'UNKNOWN_CONSTRAINT'; message: string } | undefined {
  if (value === undefined) return undefined;
  const extra = Object.keys(value).filter((k) => !allowed.has(k));
  if (extra.length === 0) return undefined;
  const names = extra.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 40)));
  return {
    code: 'UNKNOWN_CONSTRAINT',
    message: `the ${what} carries ${names.join(', ')}${extra.length > 5 ? ', …' : ''}, which Charter does not read: a restriction there would be ignored, so it is refused`,
  };
}

/**
 * VCDM 2.0 §5.6: `termsOfUse` is where an issuer states policies (an ODRL
 * prohibition, say). Charter evaluates none, so on a credential that carries
 * restrictions (a mandate, a grant) it is refused rather than ignored.
 */
export function unreadTermsOfUse(what: string, credential: object): { code: 'UNKNOWN_CONSTRAINT'; message: string } | undefined {
  if ((credential as { termsOfUse?: unknown }).termsOfUse === undefined) return undefined;
  return { code: 'UNKNOWN_CONSTRAINT', message: `the ${what} carries termsOfUse, a policy Charter does not evaluate: its restrictions would be ignored, so it is refused` };
}
