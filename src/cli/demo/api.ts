import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Guard } from '../../http/guards.js';
import { writeRefusal } from '../../http/refusal.js';
import { verifyNodeRequest, type RequestDecision } from '../../http/request.js';
import { createVerifier, type Verifier } from '../../guard/verifier.js';
import type { Home } from '../../home/home.js';
import { createStatusChecker } from '../../status/index.js';

/** A platform's API the walks run on 127.0.0.1, every request checked by the middleware core. */
export interface DemoApi {
  /** `http://127.0.0.1:PORT`: the origin the verifier binds presentations and signatures to. */
  base: string;
  /** The verifier requests are checked with from now on (a fresh one stands for "after the cached lists' ttl"). */
  use(verifier: Verifier): void;
  close(): Promise<void>;
}

/**
 * Starts the API: each request goes through `guard`; an allowed one is
 * answered by `answer`, a refused one with its problem details. The verifier
 * is given after listening (`use`), since its public origin is the port.
 */
export async function serveDemoApi(guard: Guard<IncomingMessage>, answer: (req: IncomingMessage, res: ServerResponse, decision: RequestDecision) => void): Promise<DemoApi> {
  let verifier: Verifier | undefined;
  const server = createServer((req, res) => {
    verifyNodeRequest(req, verifier!, guard).then(
      (d) => (d.ok ? answer(req, res, d) : writeRefusal(res, d)),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    use: (v) => {
      verifier = v;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * A verifier of the demo's home for the API at `base`, with a status-list
 * cache of its own: a fresh one stands for "after the cached lists' ttl".
 */
export function freshVerifier(home: Home, aud: string, base: string): Verifier {
  return createVerifier({
    aud,
    store: home.store,
    publicOrigin: base,
    resolver: home.resolver,
    status: createStatusChecker({ resolver: home.resolver, allowLoopback: true, allowHttp: true }),
  });
}
