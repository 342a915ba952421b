import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { createDidWeb, didKeyRef, documentResolver, resolveDidJwk, resolveDidKey } from '../../src/did/index.js';
import type { DIDDocument } from '../../src/did/types.js';
import type { Issuer } from '../../src/credentials/types.js';
import { issueAttestation, issueReceipt } from '../../src/reputation/index.js';
import { createStatusChecker } from '../../src/status/index.js';

/**
 * A world of did:key, did:jwk and did:web parties whose documents may list anyone's public key (anyone
 * can: a did:key is its key), for the tests of ties by listed keys between raters and the rated.
 */
export type Kp = ReturnType<typeof generateKeyPair>;

/** A fresh key, as a did:key and as a did:jwk. */
export const mk = () => {
  const kp = generateKeyPair('Ed25519');
  return {
    kp,
    key: { ...didKeyRef('key', kp.publicJwk), signer: createSigner(kp.privateJwk) } as Issuer,
    jwk: { ...didKeyRef('jwk', kp.publicJwk), signer: createSigner(kp.privateJwk) } as Issuer,
  };
};

const docs = new Map<string, DIDDocument>();
const load = async (did: string): Promise<DIDDocument> => {
  const d = docs.get(did);
  if (d) return d;
  if (did.startsWith('did:key:')) return resolveDidKey(did);
  if (did.startsWith('did:jwk:')) return resolveDidJwk(did);
  throw Object.assign(new Error(`no document for ${did}`), { code: 'DID_RESOLUTION_FAILED' });
};
/** Resolves the did:web documents `web` made, and did:key / did:jwk as usual; no cache. */
export const resolver = documentResolver(load, { cacheTtlMs: 0 });
export const status = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });

/** A did:web on `domain` signing with `own`, its document also listing `extra` keys (someone else's) for `relationships`. */
export function web(domain: string, own: Kp, extra: Kp[] = [], relationships: ('assertionMethod' | 'authentication')[] = ['assertionMethod', 'authentication']): Issuer {
  const w = createDidWeb({ domain, publicJwk: own.publicJwk });
  const doc = structuredClone(w.document) as DIDDocument & Record<string, unknown[]>;
  extra.forEach((k, i) => {
    const id = `${w.did}#listed-${i}`;
    doc.verificationMethod!.push({ id, type: 'JsonWebKey2020', controller: w.did, publicKeyJwk: k.publicJwk });
    for (const r of relationships) doc[r]!.push(id);
  });
  docs.set(w.did, doc);
  return { did: w.did, kid: w.kid, keyType: 'Ed25519', publicJwk: own.publicJwk, signer: createSigner(own.privateJwk) } as Issuer;
}

let n = 0;
/** `rater`'s attestation of `score` for `agent`, on a receipt of an interaction of its own. */
export const rate = async (agent: Issuer, rater: Issuer, score: number) =>
  (await issueAttestation(null, rater, { receiptJwt: (await issueReceipt(null, agent, { counterparty: rater.did, interactionId: `listed-${++n}` })).jwt, score })).jwt;
