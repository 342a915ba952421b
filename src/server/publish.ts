import { join } from 'node:path';
import type { Home } from '../home/home.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import { currentStatusListJwt } from '../status/index.js';
import { publishTokenStatusLists } from '../status/token-publish.js';
import { TOKEN_STATUS_PATH } from '../status/token-issuer.js';
import { assertOutsideHome } from '../home/out-path.js';
import { didWebPath } from './did-web-path.js';

export interface PublishedHome {
  dir: string;
  /** Every file written, status lists first. */
  files: string[];
}

/**
 * Writes what `charter serve` serves, as static files under `dir` for any web
 * host: each status list credential at `status/<id>` (re-signed first when
 * its bits changed since it was last signed, which also repairs a crash
 * between commit and re-sign), each revocation list as an IETF Status List
 * Token at `statuslists/<id>`, and each did:web document at its did:web path
 * (under a folder per host when the home has did:web identities of several hosts).
 * Each file is written atomically (a reader never sees half a list). A file
 * that would land inside the home is INVALID_ARGUMENT, before any is written.
 */
export async function publishHome(home: Home, dir: string): Promise<PublishedHome> {
  // did:web documents at their paths. Two hosts' documents can share a path (both at
  // /.well-known/did.json), so when the home holds did:web identities of more than one host,
  // each host's documents go under a folder named for it (its DID's host segment: a.example,
  // localhost%3A8080), to be copied to that host; one host's stay at the top, as before.
  const lists = await home.store.listStatusLists();
  const web = (await home.store.listIdentities()).filter((r) => r.method === 'web' && r.document);
  const hostOf = (did: string) => did.split(':')[2]!;
  const perHost = new Set(web.map((r) => hostOf(r.did))).size > 1;
  const listFile = (id: string) => join(dir, 'status', id);
  const docFile = (did: string) => join(dir, ...(perHost ? [hostOf(did)] : []), ...didWebPath(did).split('/').filter(Boolean));
  // Every file it will write is checked before the first is: a web root inside the home (or a folder of
  // it linked there) is refused with nothing written, not after half the lists.
  const planned = [
    ...lists.map((l) => listFile(l.id)),
    ...lists.filter((l) => l.purpose === 'revocation').map((l) => join(dir, ...TOKEN_STATUS_PATH.split('/').filter(Boolean), l.id)),
    ...web.map((r) => docFile(r.did)),
  ];
  for (const file of [dir, ...planned]) assertOutsideHome(file, home.dir);
  const files: string[] = [];
  for (const list of lists) {
    const jwt = await currentStatusListJwt(home.store, list.id, (did) => home.issuer(did));
    const file = listFile(list.id);
    writeFileAtomic(file, jwt, 0o644);
    files.push(file);
  }
  // The revocation lists again as IETF Status List Tokens, where SD-JWT VCs point (statuslists/<id>).
  files.push(...(await publishTokenStatusLists(home.store, dir, (did) => home.issuer(did))));
  for (const rec of web) {
    const file = docFile(rec.did);
    writeFileAtomic(file, JSON.stringify(rec.document, null, 2) + '\n', 0o644);
    files.push(file);
  }
  return { dir, files };
}
