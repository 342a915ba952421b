import { canonicalJson } from '../encoding/json.js';
import type { CharterResolver, DIDDocument, ResolvedKey, VerificationRelationship } from '../did/types.js';
import { absoluteKid, selectKey } from '../did/select.js';
import type { StatusChecker } from '../credentials/types.js';
import type { StatusListSnapshot, StatusListUseContext } from '../status/checker.js';
import type { TokenStatusContext } from '../status/token-checker.js';
import type { Reason } from '../errors.js';

/** An IETF Token Status List check, as SD-JWT grants use (a TokenStatusChecker, or any function of its shape). */
export type TokenStatusCheck = (status: unknown, ctx: TokenStatusContext) => Promise<Reason[]>;

/**
 * What one decision resolved: the DID documents and the status list
 * credentials (signed, as fetched), recorded by wrapping the verifier's
 * resolver and status checker for that one decision, so no call site below
 * changes. Cache hits are recorded too: the evidence is what the decision
 * used, whether fetched now or minutes ago.
 *
 * Only what the decision used is recorded, never what a cache holds a moment
 * later: a status list is the one the checker hands to the context's
 * `usedList` as it reads it (a refresh racing the decision, exactly when a
 * revocation notice arrives, would otherwise put the newer list, or none, in
 * the receipt of a correct allow), and a DID document is recorded for a key
 * only if that key is the one the document yields.
 */
export interface Capture {
  readonly resolver: CharterResolver;
  readonly status: StatusChecker;
  /** The Token Status List check of SD-JWT grants, recording its lists in the same map (keyed by URL). */
  readonly tokenStatus: TokenStatusCheck;
  /** The documents and lists recorded so far (complete once the decision is made). */
  settle(): Promise<{ dids: Map<string, DIDDocument>; lists: Map<string, StatusListSnapshot> }>;
}

/** Attempts at reading a key and its document from one version of the document (each is a cache hit but for a racing refresh). */
const KEY_ATTEMPTS = 3;

/**
 * Pairs of a document and a key already found to agree. A resolver hands back
 * the same cached document and key objects decision after decision, so the
 * check (a key import: 40 us for Ed25519, 250 for P-256) is made once per
 * pair, not once per decision.
 */
const agreeing = new WeakMap<object, WeakSet<object>>();

/** Does `doc` yield `key` for this kid and relationship, by the resolvers' own selection rules? */
function yields(doc: DIDDocument, did: string, kid: string | undefined, relationship: VerificationRelationship, key: ResolvedKey): boolean {
  if (agreeing.get(doc)?.has(key)) return true;
  let k: ResolvedKey;
  try {
    k = selectKey(doc, did, kid === undefined ? undefined : absoluteKid(did, kid), relationship);
  } catch {
    return false;
  }
  if (k.id !== key.id || canonicalJson(k.publicJwk) !== canonicalJson(key.publicJwk)) return false;
  let set = agreeing.get(doc);
  if (!set) agreeing.set(doc, (set = new WeakSet()));
  set.add(key);
  return true;
}

/** Without a Token Status List checker, an SD-JWT's status is unavailable (fail closed). */
const noTokenStatus: TokenStatusCheck = async () => [{ code: 'STATUS_UNAVAILABLE', message: 'no Token Status List checker is configured' }];

export function createCapture(resolver: CharterResolver, status: StatusChecker, tokenStatus: TokenStatusCheck = noTokenStatus): Capture {
  const dids = new Map<string, DIDDocument>();
  const lists = new Map<string, StatusListSnapshot>();
  const capture: Capture = {
    resolver: {
      async resolve(did) {
        const doc = await resolver.resolve(did);
        dids.set(did, doc);
        return doc;
      },
      async resolveKey(did, kid, relationship) {
        // The key first (its errors are the decision's), then the document it came from: normally the same
        // cached one. A document replaced in between (a cache expiry, or clear() after a rotation notice) may
        // no longer hold the key: then the key is read again, from the document now recorded.
        let key = await resolver.resolveKey(did, kid, relationship);
        for (let i = 1; ; i++) {
          const recorded = dids.get(did);
          if (recorded && yields(recorded, did, kid, relationship, key)) return key;
          const doc = await resolver.resolve(did).catch(() => undefined);
          if (doc && yields(doc, did, kid, relationship, key)) {
            dids.set(did, doc);
            return key;
          }
          // No document yields this key (a resolver whose keys do not come from its documents): nothing is
          // recorded for it rather than a document the decision did not use.
          if (i >= KEY_ATTEMPTS || !doc) return key;
          key = await resolver.resolveKey(did, kid, relationship);
        }
      },
      clear: (did) => resolver.clear(did),
    },
    status: (credential, ctx) => {
      const outer = (ctx as StatusListUseContext).usedList;
      const mine: StatusListUseContext = {
        ...ctx,
        usedList: (list) => {
          lists.set(list.url, list);
          outer?.(list);
        },
      };
      return status(credential, mine);
    },
    tokenStatus: async (st, ctx) => {
      const outer = ctx.usedList;
      const used: StatusListSnapshot[] = [];
      const reasons = await tokenStatus(st, {
        ...ctx,
        usedList: (list) => {
          lists.set(list.url, list);
          used.push(list);
          outer?.(list);
        },
      });
      // A list a status provider signed (trustedListSigners): its document is evidence too. The checker
      // resolved it when it loaded the list (so this is a cache hit), but through its own resolver.
      for (const { signer } of used) {
        if (signer !== undefined && signer !== ctx.issuer && !dids.has(signer)) await capture.resolver.resolve(signer).catch(() => undefined);
      }
      return reasons;
    },
    async settle() {
      return { dids, lists };
    },
  };
  return capture;
}
