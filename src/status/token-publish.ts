import { join } from 'node:path';
import { writeFileAtomic } from '../store/atomic-file.js';
import type { Store } from '../store/types.js';
import type { IssuerFor } from './issuer.js';
import { currentTokenStatusListJwt, TOKEN_STATUS_PATH, type SignTokenStatusListOptions } from './token-issuer.js';

/**
 * Writes every revocation list of the store as a Status List Token
 * (`application/statuslist+jwt`) at `<dir>/statuslists/<id>`, the path
 * `charter serve` answers and SD-JWT VCs name in `status.status_list.uri`,
 * so any static web host can publish them. Suspension lists are skipped: one
 * bit cannot say SUSPENDED (Token Status List §7.1). Each file is replaced
 * atomically (a reader sees the old token or the new one). Returns the files
 * written. The token's `exp` is a day by default: republish well within it.
 */
export async function publishTokenStatusLists(store: Store, dir: string, issuerFor: IssuerFor, options: SignTokenStatusListOptions = {}): Promise<string[]> {
  const files: string[] = [];
  for (const list of await store.listStatusLists({ purpose: 'revocation' })) {
    const jwt = await currentTokenStatusListJwt(store, list.id, issuerFor, options);
    const file = join(dir, ...TOKEN_STATUS_PATH.split('/').filter(Boolean), list.id);
    writeFileAtomic(file, jwt, 0o644);
    files.push(file);
  }
  return files;
}
