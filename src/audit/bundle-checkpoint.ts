import type { Reason } from '../errors.js';
import type { VerificationKey } from '../keys/types.js';
import { jwkThumbprint } from '../httpsig/thumbprint.js';
import { absoluteKid, definedKeys } from '../did/select.js';
import type { CharterResolver, DIDDocument } from '../did/types.js';
import { CHECKPOINT_TYP, checkAuditJws, type CheckedJws } from './jws.js';

/** The failures of a signature by a key the document does not give under that kid (not one it gives and refuses). */
const OTHER_KEY = new Set<Reason['code']>(['VERIFICATION_METHOD_NOT_FOUND', 'INVALID_SIGNATURE', 'ALG_KEY_MISMATCH']);

/** A DID whose document is derived from the DID itself: its key is its identifier, it never rotates. */
export const derived = (did: string): boolean => did.startsWith('did:key:') || did.startsWith('did:jwk:');

/**
 * Does the document say anything of this key: any method it defines, for any use or none, revoked,
 * expired or another controller's? Such a key is held to what the document says of it, pinned or not.
 */
function listed(doc: DIDDocument | undefined, did: string, thumbprint: string): boolean {
  if (doc === undefined) return false;
  try {
    return definedKeys(doc, did).some((k) => jwkThumbprint(k) === thumbprint);
  } catch {
    return false;
  }
}

/**
 * A bundle's checkpoint, signed by the verifier: checked with the verifier's
 * document as the decision recorded it (`resolver`). A checkpoint is often
 * signed long after the decision (`evidence export --as`), and a verifier
 * that rotated its key meanwhile signs it with a key that document never
 * held: offline, nothing in the bundle can say that key is the verifier's,
 * so it stands only on the caller's word, one of `pinned` (the verifier's
 * keys the caller keeps, past and present) that the recorded document does
 * not list. A key that document does list is held to what it says of that
 * key (its `expires` included), pinned or not. Without `pinned`, the
 * refusal says so. A did:key or did:jwk verifier has no other key to rotate
 * to: any other key is someone else's, pinned (for another verifier) or not.
 */
export async function checkBundleCheckpoint(
  jws: string,
  resolver: CharterResolver,
  verifier: { did: string; recorded: DIDDocument | undefined },
  pinned: readonly VerificationKey[] | undefined,
): Promise<CheckedJws> {
  const cp = await checkAuditJws(jws, CHECKPOINT_TYP, resolver, 'EVIDENCE_MISMATCH');
  const only = cp.reasons.length === 1 ? cp.reasons[0]! : undefined;
  const iss = cp.decoded?.payload.iss;
  const kid = cp.decoded?.header.kid;
  // Only the receipt's own verifier's checkpoint: the keys pinned are that verifier's.
  if (only === undefined || !OTHER_KEY.has(only.code) || iss !== verifier.did || derived(iss) || typeof kid !== 'string') return cp;
  const recorded = verifier.recorded;
  let id: string;
  try {
    id = absoluteKid(iss, kid);
  } catch {
    return cp;
  }
  for (const key of pinned ?? []) {
    if (listed(recorded, iss, jwkThumbprint(key.publicJwk))) continue;
    const byPinned: CharterResolver = {
      resolve: (did) => resolver.resolve(did),
      resolveKey: async (did, k, relationship) =>
        did === iss && relationship === 'assertionMethod' ? { ...key, id, controller: iss, did: iss } : resolver.resolveKey(did, k, relationship),
      clear: () => undefined,
    };
    const again = await checkAuditJws(jws, CHECKPOINT_TYP, byPinned, 'EVIDENCE_MISMATCH');
    if (again.reasons.length === 0) return again;
  }
  const why =
    pinned === undefined
      ? `the checkpoint is signed with a key (${kid.slice(0, 120)}) that the verifier's document, as recorded at the decision, does not give: if the verifier changed its key since, pass the keys you trust for it with issuers (verifierKeys, --verifier-key)`
      : `the checkpoint is signed with a key (${kid.slice(0, 120)}) that is neither in the verifier's document as recorded at the decision nor one of the verifier keys you trust`;
  return { ...cp, reasons: [{ code: only.code, message: why }] };
}
