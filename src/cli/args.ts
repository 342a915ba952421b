import { Option, type Command } from 'commander';
import { CharterError } from '../errors.js';
import { isCurrency } from '../encoding/currency.js';
import { parseExpiry } from '../encoding/duration.js';
import { decodeCredential, decodeJwt } from '../credentials/index.js';
import { parseBudget, parseMoney } from '../agents/index.js';
import type { Budget, Money } from '../agents/types.js';
import type { StatusChange, StatusPropagation } from '../status/index.js';
import type { Home } from '../home/home.js';
import { checkedPartyDid } from '../did/parties.js';
import { scanJson } from '../encoding/json.js';
import { deprecated, notA, parseJsonArg, readTextArg, readTextSource, type CliContext } from './io.js';

/*
 * Arguments shared by the nouns: who acts (`--as`), who else is named (role
 * flags), money, ids. Parsing and naming only; the rules are in the library.
 */

/** A repeatable option's values in order (commander's option parser): `--action a --action b` → [a, b]. */
export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** A repeatable option whose values may also be comma-separated: `--disclose a,b --disclose c` → [a, b, c]. */
export const commaList = (v: string, prev: string[] = []): string[] => [
  ...prev,
  ...v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
];

/** `--old` spellings of the acting identity that still work, per command (README "Upgrading from 0.1"). */
export type ActorAlias = `--${string}`;

const camel = (flag: string) => flag.replace(/^--/, '').replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/**
 * `--as <alias|did>`: the identity of this home that signs. Not a commander
 * required option, so that the deprecated spellings (hidden from --help)
 * can stand in for it.
 */
export function asOption(cmd: Command, what: string, old: ActorAlias[] = []): Command {
  cmd.option('--as <alias|did>', `${what}: an identity of this home, by alias or DID`);
  for (const o of old) cmd.addOption(new Option(`${o} <alias|did>`, `deprecated: use --as`).hideHelp());
  return cmd;
}

/** The acting identity: `--as`, else a deprecated spelling (with a notice), else a usage error. */
export function actingAs(ctx: CliContext, opts: object, old: ActorAlias[] = []): string {
  const o = opts as Record<string, unknown>;
  const as = typeof o.as === 'string' ? o.as : undefined;
  for (const flag of old) {
    const v = o[camel(flag)];
    if (typeof v !== 'string') continue;
    deprecated(ctx, flag, '--as');
    if (as !== undefined && as !== v) throw new CharterError('INVALID_ARGUMENT', `--as ${as.slice(0, 80)} and ${flag} ${v.slice(0, 80)} name different identities: give --as only`);
    return as ?? v;
  }
  if (as === undefined) throw new CharterError('INVALID_ARGUMENT', 'name the identity that signs with --as <alias|did> (see `charter id list`)');
  return as;
}

/**
 * Another party, named by a role flag (`--to`, `--agent`, `--counterparty`,
 * ...): a DID as given, or the alias of an identity of this home. A party
 * outside the home is named by its DID.
 */
export async function partyDid(home: Home | undefined, value: string, flag: string): Promise<string> {
  if (value.startsWith('did:')) return checkedPartyDid(value, flag);
  if (home === undefined) throw new CharterError('INVALID_ARGUMENT', `${flag} ${value.slice(0, 80)} is not a DID (an alias names an identity of a home, and there is none here)`);
  const rec = await home.store.getIdentity(value);
  if (!rec) throw new CharterError('NOT_FOUND', `${flag} ${value.slice(0, 80)}: no identity by that alias in this home (name a party outside it by its DID)`);
  return rec.did;
}

export async function partyDids(home: Home | undefined, values: readonly string[] | undefined, flag: string): Promise<string[]> {
  return Promise.all((values ?? []).map((v) => partyDid(home, v, flag)));
}

/**
 * Options a verifier matches exactly (`--aud`, `--nonce`, …): given empty or
 * blank they are a mistake, not "not given" (the library would throw a
 * TypeError, or skip the check). INVALID_ARGUMENT before anything runs.
 */
export function refuseBlank(opts: object, flags: readonly `--${string}`[]): void {
  const o = opts as Record<string, unknown>;
  for (const flag of flags) {
    const v = o[camel(flag)];
    if (typeof v === 'string' && v.trim() === '') throw new CharterError('INVALID_ARGUMENT', `${flag} is empty: give the value it is checked against`);
  }
}

/** `--limit` of the listings (`audit list`, `agent reservations`): the most rows one prints (README). */
export const MAX_LIST_LIMIT = 10_000;

/**
 * A whole number within [min, max]: digits only, so `1e20`, `0x10` or a
 * number past 2^53 is refused (exit 2), never rounded into something else.
 */
export function wholeNumberFlag(value: string, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new CharterError('INVALID_ARGUMENT', `${flag} must be a whole number from ${min} to ${max}`);
  }
  return n;
}

// ---- money: ISO 4217 codes only ----

const MONEY_FLAG = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]{3})\s*$/;

/** `50USD` or `50 USD`: an amount and an ISO 4217 code, in capitals (`usd`, `US$` are refused). */
export function moneyFlag(value: string, flag: string): Money {
  const m = MONEY_FLAG.exec(value);
  if (!m) throw new CharterError('INVALID_ARGUMENT', `${flag} ${value.slice(0, 40)} is not an amount with a currency such as 50USD`);
  if (!isCurrency(m[2])) throw new CharterError('INVALID_ARGUMENT', `${flag} ${value.slice(0, 40)}: "${m[2]}" is not an ISO 4217 currency code such as USD or EUR (capitals)`);
  return parseMoney(`${m[1]} ${m[2]}`);
}

/** `500USD/P30D` (rolling) or `500EUR/month@Europe/Paris` (calendar): moneyFlag over a period. */
export function budgetFlag(value: string, flag: string): Budget {
  // The first "/": a calendar budget's time zone has its own (Europe/Paris).
  const i = value.indexOf('/');
  if (i < 0) throw new CharterError('INVALID_ARGUMENT', `${flag} ${value.slice(0, 40)} is not a budget such as 500USD/P30D or 500EUR/month@Europe/Paris`);
  const m = moneyFlag(value.slice(0, i), flag);
  return parseBudget(`${m.amount} ${m.currency}/${value.slice(i + 1)}`);
}

/** A time span: `300s`, `5m`, `2h`, `1d`, `PT5M`, or whole seconds. */
export function secondsFlag(value: string, flag: string): number {
  if (/^\d+$/.test(value)) {
    if (!Number.isSafeInteger(Number(value))) throw new CharterError('INVALID_ARGUMENT', `${flag} ${value.slice(0, 40)} is too large a number of seconds`);
    return Number(value);
  }
  // A span may be zero (parseExpiry refuses a zero expiry): `0s` is 0.
  if (/^0+[smhdw]$/.test(value)) return 0;
  try {
    return Math.round(parseExpiry(value, new Date(0)).getTime() / 1000);
  } catch {
    throw new CharterError('INVALID_ARGUMENT', `${flag} ${value.slice(0, 40)} is not a duration such as 300s, 5m or PT5M`);
  }
}

// ---- claims ----

/**
 * `--claims`: a JSON object given inline, as a file or `-`, refused before
 * anything is signed when it nests deeper than `maxDepth` levels (the object
 * itself is one): the depth past which the credential's verifiers, Charter's
 * own first, refuse what it would carry.
 */
export async function claimsArg(ctx: CliContext, arg: string, maxDepth: number): Promise<Record<string, unknown>> {
  const text = await readTextArg(ctx, arg, 'claims');
  // Parsed first (V8's JSON.parse is iterative; malformed text is INVALID_ARGUMENT), then scanned for depth,
  // before the code that walks parsed claims (recursive) sees them. scanJson reads only text JSON.parse accepted.
  const claims = parseJsonArg(text, 'claims');
  if (scanJson(text, maxDepth)?.tooDeep) {
    throw new CharterError('INVALID_ARGUMENT', `claims nest deeper than ${maxDepth} levels: verifiers refuse a credential nested deeper, so none was issued`);
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new CharterError('INVALID_ARGUMENT', 'claims must be a JSON object');
  return claims as Record<string, unknown>;
}

/** How many bytes the base64url encoding of a value's JSON takes. */
export function encodedSize(value: unknown): number {
  return Math.ceil((Buffer.byteLength(JSON.stringify(value)) * 4) / 3);
}

// ---- credential ids ----

const ID_SHAPE = /^[^\s~]+$/;

/**
 * The id of a credential named by its id, its JWT (or SD-JWT), a file
 * holding it, or `-` for stdin: whatever `issue` printed can be passed back.
 */
export async function credentialIdArg(ctx: CliContext, arg: string, what: string): Promise<string> {
  const read = await readTextSource(ctx, arg, what);
  // Pasted ids and tokens often carry the spaces they were aligned with.
  const text = read.text.trim();
  const source = read.source;
  const token = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*(~[A-Za-z0-9_.~-]*)?$/.test(text);
  if (!token) {
    if (source !== 'inline') throw notA(source, arg, what, 'a credential JWT', 'an id');
    if (!ID_SHAPE.test(text)) throw new CharterError('INVALID_ARGUMENT', `${what} argument is neither an id, a credential JWT, an existing file, nor "-" for stdin`);
    return text;
  }
  let id: unknown;
  try {
    const compact = text.split('~')[0]!;
    id = text.includes('~') ? decodeJwt(compact).payload.jti : decodeCredential(compact).id;
  } catch {
    if (source !== 'inline') throw notA(source, arg, what, 'a credential JWT', 'an id');
    throw new CharterError('INVALID_ARGUMENT', `the ${what} argument has the shape of a JWT but is not a credential`);
  }
  if (typeof id !== 'string' || id.length === 0) throw new CharterError('INVALID_ARGUMENT', `that ${what} carries no id`);
  return id;
}

// ---- revocation that bites fast ----

/** What revoke, suspend and resume print: the ids changed and, when something changed, how soon verifiers see it. */
export interface StatusChangeView {
  revoked?: string[];
  suspended?: string[];
  resumed?: string[];
  /** The longest any change here takes to reach verifiers that check status (seconds). */
  visibleWithinSeconds?: number;
  propagation?: StatusPropagation;
}

export type ChangeKey = 'revoked' | 'suspended' | 'resumed';

export function statusChangeView(key: ChangeKey, changes: readonly StatusChange[]): StatusChangeView {
  const view: StatusChangeView = { [key]: changes.map((c) => c.credentialId) };
  if (changes.length === 0) return view;
  // The slowest of the changes (they usually share one list ttl).
  const slowest = changes.reduce((a, b) => (b.propagation.visibleWithinSeconds > a.propagation.visibleWithinSeconds ? b : a));
  return { ...view, visibleWithinSeconds: slowest.propagation.visibleWithinSeconds, propagation: slowest.propagation };
}

/** The lines a person reads: each id, then exactly what was computed, and from what. */
export function renderStatusChange(key: ChangeKey, verb: string, v: StatusChangeView): string {
  const ids = v[key] ?? [];
  if (ids.length === 0) return `nothing to ${verb}`;
  const lines = ids.map((i) => `${key} ${i}`);
  const p = v.propagation;
  if (p) {
    lines.push(
      `verifiers that check status see this within ${p.visibleWithinSeconds} s ` +
        `(the list's ttl ${p.ttlSeconds} s, for which an HTTP cache may still serve the old list, ` +
        `plus up to ${p.verifierCacheSeconds} s a verifier keeps its copy: the ttl, capped at ${p.maxStalenessSeconds} s by default), ` +
        'once the list is served: at once by `charter serve`, at the next `charter status publish` for a static host',
    );
  }
  return lines.join('\n');
}
