import { CharterError } from '../errors.js';
import type { PublicJwk } from '../keys/types.js';
import { didKeyFromJwk } from './key.js';
import { didJwkFromJwk } from './jwk.js';
import { createDidWeb } from './web.js';
import type { DIDDocument, DidKeyRef } from './types.js';

/** The DID and signing method id for a new key under a DID method. */
export function didKeyRef(method: 'key' | 'jwk' | 'web', publicJwk: PublicJwk, domain?: string): DidKeyRef & { document?: DIDDocument } {
  const keyType = publicJwk.crv;
  if (method === 'key') {
    const did = didKeyFromJwk(publicJwk);
    return { did, kid: `${did}#${did.slice('did:key:'.length)}`, keyType, publicJwk };
  }
  if (method === 'jwk') {
    const did = didJwkFromJwk(publicJwk);
    return { did, kid: `${did}#0`, keyType, publicJwk };
  }
  if (!domain) throw new CharterError('INVALID_ARGUMENT', 'did:web needs a domain');
  const web = createDidWeb({ domain, publicJwk });
  return { did: web.did, kid: web.kid, keyType, publicJwk, document: web.document };
}
