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
