import { CharterError, shown } from '../../errors.js';
import { documentResolver } from '../../did/index.js';
import type { CharterResolver, DIDDocument } from '../../did/types.js';

/** What the adapter needs of a Veramo agent: `IResolver.resolveDid`. */
export interface DidResolvingAgent {
  resolveDid(args: { didUrl: string }): Promise<unknown>;
}

export interface VeramoResolverOptions {
  /** Cache lifetime in ms for documents and keys. Default 300_000; 0 disables caching. */
  cacheTtlMs?: number;
  cacheMaxEntries?: number;
}

const DID = /^did:[a-z0-9]+:[A-Za-z0-9._%:-]+$/;
const MAX_DID = 4096;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** DID Resolution §7.1.2 error names, as did-resolver and Veramo report them. */
const ERRORS: Record<string, 'DID_NOT_FOUND' | 'INVALID_DID' | 'UNSUPPORTED_DID_METHOD'> = {
  notFound: 'DID_NOT_FOUND',
  invalidDid: 'INVALID_DID',
  unsupportedDidMethod: 'UNSUPPORTED_DID_METHOD',
};

function checkSyntax(did: string): void {
  if (typeof did !== 'string' || did.length > MAX_DID || !DID.test(did)) throw new CharterError('INVALID_DID', `malformed DID: ${shown(did, 80)}`);
}

async function load(agent: DidResolvingAgent, did: string): Promise<DIDDocument> {
  checkSyntax(did);
  let res: unknown;
  try {
    res = await agent.resolveDid({ didUrl: did });
  } catch (e) {
    throw new CharterError('DID_RESOLUTION_FAILED', `the Veramo agent could not resolve ${did.slice(0, 80)}`, { cause: e });
  }
  const meta = isObj(res) && isObj(res.didResolutionMetadata) ? res.didResolutionMetadata : {};
  const doc = isObj(res) ? res.didDocument : undefined;
  if (typeof meta.error === 'string') {
    // Own keys only: an error name from a remote resolver or driver ('constructor') must not pick Object's member as a code.
    const code = Object.hasOwn(ERRORS, meta.error) ? ERRORS[meta.error]! : 'DID_RESOLUTION_FAILED';
    throw new CharterError(code, `resolving ${did.slice(0, 80)} failed (${meta.error.slice(0, 40)})`);
  }
  // DID Core §7.1.3 / DID Resolution: didDocumentMetadata.deactivated is true when the DID has been deactivated. Its
  // document may still come back (so its history can be read), but none of its keys speaks for the DID any more.
  // Anything but true, false or absent is not an answer Charter can read: refused, never taken as "active".
  const docMeta = isObj(res) ? res.didDocumentMetadata : undefined;
  if (docMeta !== undefined && docMeta !== null && !isObj(docMeta)) {
    throw new CharterError('DID_RESOLUTION_FAILED', `the DID document metadata of ${did.slice(0, 80)} is not an object`);
  }
  const deactivated = isObj(docMeta) && Object.hasOwn(docMeta, 'deactivated') ? docMeta.deactivated : undefined;
  if (deactivated === true) throw new CharterError('DID_NOT_FOUND', `${did.slice(0, 80)} has been deactivated`);
  if (deactivated !== undefined && deactivated !== false) {
    throw new CharterError('DID_RESOLUTION_FAILED', `the DID document metadata of ${did.slice(0, 80)} has a "deactivated" that is not a boolean`);
  }
  if (!isObj(doc)) throw new CharterError('DID_NOT_FOUND', `no DID document for ${did.slice(0, 80)}`);
  if (doc.id !== did) throw new CharterError('DID_RESOLUTION_FAILED', `the document for ${did.slice(0, 80)} names another DID`);
  return doc as unknown as DIDDocument;
}

/**
 * A CharterResolver over a Veramo agent's `resolveDid`, so Charter verifies
 * with whatever DID methods the agent is configured for. Documents come back
 * as data from the agent and are checked as Charter checks its own: the
 * document must name the DID, and keys are chosen by the same rules and
 * cached the same way (documentResolver).
 */
export function veramoResolver(agent: DidResolvingAgent, options: VeramoResolverOptions = {}): CharterResolver {
  if (typeof agent?.resolveDid !== 'function') throw new TypeError('veramoResolver needs an agent with resolveDid (the DIDResolverPlugin)');
  return documentResolver((did) => load(agent, did), { ...options, check: checkSyntax });
}

/** DID methods Charter resolves itself: did:key and did:jwk offline, did:web with its SSRF defences. */
const OWN_METHODS = new Set(['key', 'jwk', 'web']);

/**
 * Charter's resolver for the methods it implements (so did:web stays
 * https-only, size-capped and barred from private, loopback and link-local
 * addresses whatever resolver the agent was built with), and the Veramo
 * agent's `resolveDid` for every other method (did:ethr, did:ion, ...).
 */
export function routedResolver(own: CharterResolver, agent: CharterResolver): CharterResolver {
  const pick = (did: string) => (OWN_METHODS.has(typeof did === 'string' ? (did.split(':')[1] ?? '') : '') ? own : agent);
  return {
    resolve: (did) => pick(did).resolve(did),
    resolveKey: (did, kid, relationship) => pick(did).resolveKey(did, kid, relationship),
    clear: (did) => {
      own.clear(did);
      agent.clear(did);
    },
  };
}
