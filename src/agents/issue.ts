import { randomUUID } from 'node:crypto';
import { CharterError } from '../errors.js';
import { isDateTime } from '../encoding/time.js';
import { hasUnprintable } from '../encoding/printable.js';
import { decodeCredential, issueCredential, recordCredential, schemaIdFor, soleSubject } from '../credentials/index.js';
import type { Credential, IssuedCredential, Issuer } from '../credentials/types.js';
import { allocateStatusEntry } from '../status/index.js';
import { partyKey } from '../did/parties.js';
import type { CredentialStore, StatusStore } from '../store/types.js';
import { narrowingReasons } from './attenuation.js';
import { mandateDigest, parseAuthority } from './authority.js';
import { AGENT_AUTHORITY_TYPE, AGENT_IDENTITY_TYPE, type AgentInfo, type Authority } from './types.js';

export interface IssueAgentIdentityInput {
  /** The agent's DID (the credential subject). */
  agent: string;
  name: string;
  software?: { name: string; version: string; digest?: string };
  model?: string;
  homepage?: string;
  /** The origin serving the agent's Web Bot Auth key directory (https, or http on loopback for local testing). */
  directory?: string;
  /** Default: one year from now. */
  validUntil?: Date;
  /**
   * Base URL under which this home's status lists are published: the
   * credential gets a revocation status entry (`revokeAgentIdentity`), so the
   * operator can stop answering for the agent (a stolen agent key). Needs a
   * store that allocates status entries.
   */
  baseUrl?: string;
}

/** How long an agent identity credential lasts when its issuer does not say. */
export const DEFAULT_IDENTITY_DAYS = 365;

export interface IssueMandateInput {
  /** The agent's DID (the credential subject). */
  agent: string;
  /** Without `parent`: a root mandate. */
  authority: Authority;
  validUntil: Date;
  /** Base URL under which this home's status lists are published. */
  baseUrl: string;
}

export interface DelegateMandateInput {
  /** The mandate being delegated, held by `from`. */
  parentJwt: string;
  /** The sub-agent's DID. */
  to: string;
  /** Must narrow the parent's; `parent` is filled in here. */
  authority: Omit<Authority, 'parent'>;
  /** Default: the parent's expiry (a link may not outlive its parent). */
  validUntil?: Date;
  baseUrl: string;
}

export interface IssuedMandate {
  id: string;
  jwt: string;
  credential: Credential;
  /** Index in the issuer's revocation list. */
  statusIndex: number;
  parentId?: string;
}

const second = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);

function checkExpiry(validUntil: unknown, now: Date, what = 'a mandate'): Date {
  if (!(validUntil instanceof Date) || Number.isNaN(validUntil.getTime())) throw new CharterError('INVALID_ARGUMENT', `${what} needs an expiry (validUntil)`);
  if (validUntil.getTime() <= now.getTime()) throw new CharterError('INVALID_ARGUMENT', `${what} must expire in the future`);
  return validUntil;
}

/** A Signature-Agent origin as the Web Bot Auth draft's "directory" type wants it: scheme, host and port, nothing else. */
function directoryOrigin(value: string): string {
  let u: URL | undefined;
  try {
    u = new URL(value);
  } catch {
    u = undefined;
  }
  if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:') || u.username || u.password || u.search || u.hash || u.pathname !== '/') {
    throw new CharterError('INVALID_ARGUMENT', 'directory must be an origin (https://host[:port]) serving /.well-known/http-message-signatures-directory');
  }
  return u.origin;
}

/** The longest agent name, software name or version, or model an operator signs: a label, not a paragraph. */
export const MAX_AGENT_TEXT = 128;

/**
 * The agent's labels (name, software name and version, model) are shown to people verifying it:
 * INVALID_ARGUMENT for one holding a control, format or line-separator character (a newline would
 * print lines of its own under `charter agent verify`) or longer than {@link MAX_AGENT_TEXT}. What is
 * not a string, or empty, is left to the schema (SCHEMA_INVALID). Verifiers do not refuse such
 * credentials from others: they show them escaped.
 */
export function checkAgentText(info: { name?: unknown; software?: { name?: unknown; version?: unknown } | undefined; model?: unknown }): void {
  const fields: [string, unknown][] = [
    ['name', info.name],
    ['software name', info.software?.name],
    ['software version', info.software?.version],
    ['model', info.model],
  ];
  for (const [what, v] of fields) {
    if (typeof v !== 'string') continue;
    if (hasUnprintable(v)) throw new CharterError('INVALID_ARGUMENT', `the agent's ${what} holds a control, invisible or line-separator character: use plain text on one line`);
    if (v.length > MAX_AGENT_TEXT) throw new CharterError('INVALID_ARGUMENT', `the agent's ${what} is ${v.length} characters, over ${MAX_AGENT_TEXT}`);
  }
}

/** An AgentIdentityCredential: the operator vouches for the agent DID and answers for it. Kept in `store` unless it is null. */
export async function issueAgentIdentity(store: CredentialStore | null, operator: Issuer, input: IssueAgentIdentityInput): Promise<IssuedCredential> {
  checkAgentText(input ?? {});
  const agent: AgentInfo = {
    name: input.name,
    operator: operator.did,
    ...(input.software ? { software: input.software } : {}),
    ...(input.model !== undefined ? { model: input.model } : {}),
    ...(input.homepage !== undefined ? { homepage: input.homepage } : {}),
    ...(input.directory !== undefined ? { directory: directoryOrigin(input.directory) } : {}),
  };
  const now = second(new Date());
  // Never open-ended: an operator's word that it answers for an agent ends, and can be revoked before (baseUrl).
  const validUntil = input.validUntil !== undefined ? checkExpiry(input.validUntil, now, 'an agent identity') : new Date(now.getTime() + DEFAULT_IDENTITY_DAYS * 86_400_000);
  if (partyKey(input.agent) === partyKey(operator.did)) throw new CharterError('INVALID_ARGUMENT', 'an agent cannot be its own operator: the operator is who answers for it');
  let revocable: { id: string; status: Awaited<ReturnType<typeof allocateStatusEntry>> } | undefined;
  if (input.baseUrl !== undefined) {
    if (!store || typeof (store as Partial<StatusStore>).allocateStatusIndex !== 'function')
      throw new TypeError('issueAgentIdentity: a revocable identity (baseUrl) needs a store that keeps status lists');
    const id = `urn:uuid:${randomUUID()}`;
    revocable = {
      id,
      status: await allocateStatusEntry(store as CredentialStore & StatusStore, { issuerDid: operator.did, baseUrl: input.baseUrl, purpose: 'revocation', credentialId: id }),
    };
  }
  const issued = await issueCredential({
    issuer: operator,
    ...(revocable ? { id: revocable.id, credentialStatus: revocable.status } : {}),
    subject: input.agent,
    type: AGENT_IDENTITY_TYPE,
    claims: { agent },
    validUntil,
    credentialSchema: { id: schemaIdFor(AGENT_IDENTITY_TYPE)!, type: 'JsonSchema' },
  });
  await recordCredential(store, issued, { direction: 'issued', types: [AGENT_IDENTITY_TYPE] });
  return issued;
}

type MandateStore = CredentialStore & StatusStore;

async function signMandate(st: MandateStore, issuer: Issuer, subject: string, authority: Authority, validFrom: Date, validUntil: Date, baseUrl: string): Promise<IssuedMandate> {
  const id = `urn:uuid:${randomUUID()}`;
  const status = await allocateStatusEntry(st, { issuerDid: issuer.did, baseUrl, purpose: 'revocation', credentialId: id });
  const issued = await issueCredential({
    issuer,
    id,
    subject,
    type: AGENT_AUTHORITY_TYPE,
    claims: { authority },
    validFrom,
    validUntil,
    credentialSchema: { id: schemaIdFor(AGENT_AUTHORITY_TYPE)!, type: 'JsonSchema' },
    credentialStatus: status,
  });
  await recordCredential(st, issued, { direction: 'issued', types: [AGENT_AUTHORITY_TYPE], ...(authority.parent ? { parentId: authority.parent.id } : {}) });
  return { id, jwt: issued.jwt, credential: issued.credential, statusIndex: Number(status.statusListIndex), ...(authority.parent ? { parentId: authority.parent.id } : {}) };
}

/** A root mandate: the principal authorizes the agent, with a revocation status entry. */
export async function issueMandate(st: MandateStore, principal: Issuer, input: IssueMandateInput): Promise<IssuedMandate> {
  const now = second(new Date());
  const validUntil = checkExpiry(input.validUntil, now);
  const authority = parseAuthority(input.authority);
  if (authority.parent) throw new CharterError('INVALID_ARGUMENT', 'a root mandate has no parent; use delegateMandate to delegate one');
  if (partyKey(input.agent) === partyKey(principal.did)) throw new CharterError('DELEGATION_CYCLE', 'a principal cannot be its own agent');
  return signMandate(st, principal, input.agent, authority, now, validUntil, input.baseUrl);
}

/**
 * A delegated mandate: the holder of `parentJwt` hands part of it to a
 * sub-agent. Refuses at issuance what a verifier would refuse: a delegator
 * other than the parent's subject (DELEGATION_BROKEN), a parent that may not
 * be delegated (DELEGATION_DEPTH_EXCEEDED), any widening (AUTHORITY_WIDENED,
 * `details.dimension`). The parent is only decoded here; verifiers check it.
 */
export async function delegateMandate(st: MandateStore, from: Issuer, input: DelegateMandateInput): Promise<IssuedMandate> {
  const parent = decodeCredential(input.parentJwt);
  if (!parent.type.includes(AGENT_AUTHORITY_TYPE) || typeof parent.id !== 'string') {
    throw new CharterError('INVALID_ARGUMENT', 'the parent must be an AgentAuthorityCredential with an id');
  }
  if (soleSubject(parent)?.id !== from.did) {
    throw new CharterError('DELEGATION_BROKEN', 'only the subject of a mandate may delegate it', { details: { parent: parent.id } });
  }
  const parentIssuer = typeof parent.issuer === 'string' ? parent.issuer : parent.issuer.id;
  if (partyKey(input.to) === partyKey(from.did) || partyKey(input.to) === partyKey(parentIssuer)) {
    throw new CharterError('DELEGATION_CYCLE', 'a mandate cannot be delegated back to a party already in its chain', { details: { parent: parent.id } });
  }
  const parentAuthority = parseAuthority(soleSubject(parent)?.authority);
  for (const k of ['validFrom', 'validUntil'] as const) {
    if (parent[k] !== undefined && !isDateTime(parent[k])) {
      throw new CharterError('INVALID_ARGUMENT', `the parent mandate's ${k} is not an RFC 3339 date-time: it cannot be delegated`, { details: { parent: parent.id } });
    }
  }
  if ((input.authority as Partial<Authority>).parent !== undefined) throw new CharterError('INVALID_ARGUMENT', 'authority.parent is set by delegateMandate');
  const now = second(new Date());
  const validUntil = checkExpiry(input.validUntil ?? (parent.validUntil !== undefined ? new Date(parent.validUntil) : undefined), now);
  const child = parseAuthority({ ...input.authority, parent: { id: parent.id, digest: mandateDigest(input.parentJwt) } });
  const reasons = narrowingReasons(
    parentAuthority,
    child,
    { ...(parent.validFrom ? { validFrom: parent.validFrom } : {}), ...(parent.validUntil ? { validUntil: parent.validUntil } : {}) },
    { validFrom: now, validUntil },
  );
  if (reasons.length > 0) {
    // A parent that may not be delegated at all is the clearer refusal.
    const first = reasons.find((r) => r.code === 'DELEGATION_DEPTH_EXCEEDED') ?? reasons[0]!;
    throw new CharterError(first.code, `the delegated mandate would not narrow its parent: ${reasons.map((r) => r.message).join('; ')}`, {
      details: { dimension: first.dimension, dimensions: [...new Set(reasons.map((r) => r.dimension))], parent: parent.id },
    });
  }
  return signMandate(st, from, input.to, child, now, validUntil, input.baseUrl);
}
