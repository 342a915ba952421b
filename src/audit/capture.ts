import type { CharterResolver, DIDDocument } from '../did/types.js';
import type { StatusChecker } from '../credentials/types.js';
import { statusEntriesOf } from '../credentials/index.js';
import type { StatusListSnapshot } from '../status/index.js';

/**
 * What one decision resolved: the DID documents and the status list
 * credentials (signed, as fetched), recorded by wrapping the verifier's
 * resolver and status checker for that one decision, so no call site below
 * changes. Cache hits are recorded too: the evidence is what the decision
 * used, whether fetched now or minutes ago.
 */
export interface Capture {
  readonly resolver: CharterResolver;
  readonly status: StatusChecker;
  /** Waits for the documents being read for the record; then the maps are complete. */
  settle(): Promise<{ dids: Map<string, DIDDocument>; lists: Map<string, StatusListSnapshot> }>;
}

type Snapshotting = StatusChecker & { snapshot?: (url: string) => StatusListSnapshot | undefined };

export function createCapture(resolver: CharterResolver, status: StatusChecker): Capture {
  const dids = new Map<string, DIDDocument>();
  const lists = new Map<string, StatusListSnapshot>();
  const pending: Promise<unknown>[] = [];
  const seen = new Set<string>();
  const record = (did: string) => {
    if (seen.has(did)) return;
    seen.add(did);
    // A cache hit in the resolver: the document the key was just selected from.
    pending.push(
      resolver.resolve(did).then(
        (doc) => dids.set(did, doc),
        () => undefined,
      ),
    );
  };
  const snapshot = (status as Snapshotting).snapshot;
  return {
    resolver: {
      async resolve(did) {
        const doc = await resolver.resolve(did);
        seen.add(did);
        dids.set(did, doc);
        return doc;
      },
      async resolveKey(did, kid, relationship) {
        const key = await resolver.resolveKey(did, kid, relationship);
        record(did);
        return key;
      },
      clear: (did) => resolver.clear(did),
    },
    status: async (credential, ctx) => {
      const reasons = await status(credential, ctx);
      if (typeof snapshot === 'function') {
        for (const e of statusEntriesOf(credential)) {
          const url = (e as { statusListCredential?: unknown }).statusListCredential;
          if (typeof url !== 'string') continue;
          const s = snapshot.call(status, url);
          if (s) lists.set(url, s);
        }
      }
      return reasons;
    },
    async settle() {
      await Promise.all(pending);
      return { dids, lists };
    },
  };
}
