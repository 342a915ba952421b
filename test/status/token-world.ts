import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import type { Issuer } from '../../src/credentials/types.js';
import { currentStatusListJwt } from '../../src/status/index.js';
import { currentTokenStatusListJwt, STATUS_LIST_MEDIA_TYPE, TOKEN_STATUS_PATH } from '../../src/status/token-issuer.js';
import { makeIssuer, serve, tempDir } from '../helpers.js';

/**
 * A home's status lists on a real HTTP server on 127.0.0.1: the Bitstring
 * credential at /status/<id> and the Status List Token at /statuslists/<id>,
 * both from the same store records. `override(path, body)` serves a fixed
 * body at a path instead (for lists made by hand).
 */
export async function statusWorld() {
  const store: Store = await openSqliteStore(join(tempDir('charter-sdjwt-'), 's.db'));
  const issuers = new Map<string, Issuer>();
  const issuerFor = async (did: string) => {
    const i = issuers.get(did);
    if (!i) throw new Error(`no issuer ${did}`);
    return i;
  };
  const overrides = new Map<string, { body: string | Buffer; type?: string }>();
  let hits = 0;
  const srv = await serve(async (req: IncomingMessage, res: ServerResponse) => {
    hits++;
    const path = req.url ?? '';
    const fixed = overrides.get(path);
    if (fixed) return void res.writeHead(200, { 'content-type': fixed.type ?? STATUS_LIST_MEDIA_TYPE }).end(fixed.body);
    const id = path.split('/').pop()!;
    let body: string;
    let type: string;
    try {
      if (path.startsWith(TOKEN_STATUS_PATH)) [body, type] = [await currentTokenStatusListJwt(store, id, issuerFor), STATUS_LIST_MEDIA_TYPE];
      else if (path.startsWith('/status/')) [body, type] = [await currentStatusListJwt(store, id, issuerFor), 'application/vc+jwt'];
      else return void res.writeHead(404).end();
    } catch {
      return void res.writeHead(404).end();
    }
    res.writeHead(200, { 'content-type': type }).end(body);
  });
  return {
    store,
    url: srv.url,
    issuerFor,
    /** A fresh issuer known to the server (it can sign its lists). */
    issuer(type: Parameters<typeof makeIssuer>[0] = 'Ed25519'): Issuer {
      const i = makeIssuer(type);
      issuers.set(i.did, i);
      return i;
    },
    override(path: string, body: string | Buffer, type?: string) {
      overrides.set(path, { body, ...(type ? { type } : {}) });
      return `${srv.url}${path}`;
    },
    hits: () => hits,
    close: async () => {
      await srv.close();
      await store.close();
    },
  };
}
export type StatusWorld = Awaited<ReturnType<typeof statusWorld>>;
