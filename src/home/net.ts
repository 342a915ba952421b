import { createResolver } from '../did/index.js';
import { isLoopbackHostname } from '../did/address.js';
import type { CharterResolver } from '../did/types.js';
import type { Credential, StatusChecker } from '../credentials/types.js';
import { createStatusChecker, type StatusListChecker } from '../status/index.js';
import { createTokenStatusChecker, type TokenStatusChecker } from '../status/token-checker.js';

export { isLoopbackHostname };

/** What a verification needs from its surroundings: DID resolution and the two kinds of status check. */
export interface VerifyTools {
  resolver: CharterResolver;
  status: StatusListChecker;
  tokenStatus: TokenStatusChecker;
  /** Loopback and plain-http URLs allowed everywhere (`--allow-loopback`, CHARTER_ALLOW_LOOPBACK=1). */
  readonly allowLoopback: boolean;
  /** The home's own public origin when it is on loopback or plain http, allowed without the flag. */
  readonly ownOrigin?: string;
}

export interface VerifyToolsOptions {
  allowLoopback?: boolean;
  /** The home's public URL: when it is a loopback or http URL, that origin alone is allowed. */
  publicUrl?: string;
}

/**
 * The origin of a public URL that the strict network rules would refuse
 * (loopback, over http or https): a home testing locally (`charter init
 * --public-url http://127.0.0.1:8080`) verifies its own publications there
 * without opening loopback to every other URL. Plain http elsewhere is never
 * opened (did/fetch.ts), so it is no local origin.
 */
export function localOrigin(publicUrl: string | undefined): string | undefined {
  if (publicUrl === undefined || !URL.canParse(publicUrl)) return undefined;
  const u = new URL(publicUrl);
  return isLoopbackHostname(u.hostname) ? u.origin : undefined;
}

/** did:web:<host>[:path] on the origin's host (did:web §3.1: the port is percent-encoded in the host part). */
function didWebOn(did: string, host: string): boolean {
  if (!did.startsWith('did:web:')) return false;
  const first = did.slice('did:web:'.length).split(':')[0] ?? '';
  try {
    return decodeURIComponent(first).toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}

function sameOrigin(url: unknown, origin: string): boolean {
  return typeof url === 'string' && URL.canParse(url) && new URL(url).origin === origin;
}

/** DIDs on the own origin go to `own`, every other DID to `strict`. */
function routedResolver(strict: CharterResolver, own: CharterResolver, host: string): CharterResolver {
  const pick = (did: string) => (didWebOn(did, host) ? own : strict);
  return {
    resolve: (did) => pick(did).resolve(did),
    resolveKey: (did, kid, rel) => pick(did).resolveKey(did, kid, rel),
    clear: (did) => {
      strict.clear(did);
      own.clear(did);
    },
  };
}

/** Status entries on the own origin go to `own`, the others to `strict`; every refusal of both is kept. */
function routedStatus(strict: StatusListChecker, own: StatusListChecker, origin: string): StatusListChecker {
  const check: StatusChecker = async (credential: Credential, ctx) => {
    const entries = credential.credentialStatus === undefined ? [] : Array.isArray(credential.credentialStatus) ? credential.credentialStatus : [credential.credentialStatus];
    const mine = entries.filter((e) => sameOrigin((e as { statusListCredential?: unknown }).statusListCredential, origin));
    if (mine.length === 0) return strict(credential, ctx);
    if (mine.length === entries.length) return own(credential, ctx);
    const others = entries.filter((e) => !mine.includes(e));
    return [...(await own({ ...credential, credentialStatus: mine }, ctx)), ...(await strict({ ...credential, credentialStatus: others }, ctx))];
  };
  return Object.assign(check, {
    refresh: (url: string) => (sameOrigin(url, origin) ? own : strict).refresh(url),
    snapshot: (url: string) => (sameOrigin(url, origin) ? own : strict).snapshot(url),
    clear: () => {
      strict.clear();
      own.clear();
    },
  });
}

function routedTokenStatus(strict: TokenStatusChecker, own: TokenStatusChecker, origin: string): TokenStatusChecker {
  const uriOf = (status: unknown) => (status as { status_list?: { uri?: unknown } } | null)?.status_list?.uri;
  const check = (status: unknown, ctx: Parameters<TokenStatusChecker>[1]) => (sameOrigin(uriOf(status), origin) ? own : strict)(status, ctx);
  return Object.assign(check, {
    refresh: (url: string) => (sameOrigin(url, origin) ? own : strict).refresh(url),
    clear: () => {
      strict.clear();
      own.clear();
    },
  });
}

/**
 * The resolver and status checkers of a home or of a bare verifier: the
 * strict network rules (https only, public addresses), loopback and http
 * allowed everywhere with `allowLoopback`, or only on the home's own local
 * origin otherwise.
 */
export function verifyTools(options: VerifyToolsOptions = {}): VerifyTools {
  const allowLoopback = options.allowLoopback === true;
  const net = { allowLoopback, allowHttp: allowLoopback };
  const strictResolver = createResolver(net);
  const origin = allowLoopback ? undefined : localOrigin(options.publicUrl);
  if (origin === undefined) {
    return {
      resolver: strictResolver,
      status: createStatusChecker({ resolver: strictResolver, ...net }),
      tokenStatus: createTokenStatusChecker({ resolver: strictResolver, ...net }),
      allowLoopback,
    };
  }
  const open = { allowLoopback: true, allowHttp: true };
  const resolver = routedResolver(strictResolver, createResolver(open), new URL(origin).host);
  return {
    resolver,
    status: routedStatus(createStatusChecker({ resolver, ...net }), createStatusChecker({ resolver, ...open }), origin),
    tokenStatus: routedTokenStatus(createTokenStatusChecker({ resolver, ...net }), createTokenStatusChecker({ resolver, ...open }), origin),
    allowLoopback,
    ownOrigin: origin,
  };
}
