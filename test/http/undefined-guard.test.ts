import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import * as ex from '../../src/http/adapters/express.js';
import * as fa from '../../src/http/adapters/fastify.js';
import * as ho from '../../src/http/adapters/hono.js';
import { verifyNodeRequest, verifyRequest } from '../../src/http/request.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../helpers.js';

/**
 * A guard that is undefined (a misspelt property of a guards object, a
 * configuration switch) is a TypeError wherever guards are given, never
 * skipped: skipped, `charter(verifier, guards.emial)` accepted any authentic
 * presentation, and `charter(verifier, grant, guards.sig)` dropped the
 * signature check. `charter(verifier)` with no guard stays what it says.
 */
describe('an undefined guard is a TypeError, never skipped', async () => {
  const store = await openSqliteStore(`${tempDir()}/v.db`);
  const v = createVerifier({ aud: 'did:web:api.example', store, trustHostHeader: true });
  const adapters = {
    express: { charter: ex.charter, grant: () => ex.requireGrant({ resource: 'r', action: 'read', anyOwner: true }), sig: () => ex.requireSignature({ directories: 'fetch' }) },
    fastify: { charter: fa.charter, grant: () => fa.requireGrant({ resource: 'r', action: 'read', anyOwner: true }), sig: () => fa.requireSignature({ directories: 'fetch' }) },
    hono: { charter: ho.charter, grant: () => ho.requireGrant({ resource: 'r', action: 'read', anyOwner: true }), sig: () => ho.requireSignature({ directories: 'fetch' }) },
  };
  const guards: Record<string, unknown> = {};

  it.each(Object.entries(adapters))('%s: alone, first, last, between', (_, a) => {
    const charter = a.charter as (...x: unknown[]) => unknown;
    expect(() => charter(v, guards.emial)).toThrow(/guard 1 is undefined/);
    expect(() => charter(v, undefined, a.grant())).toThrow(/guard 1 is undefined/);
    expect(() => charter(v, a.grant(), guards.sig)).toThrow(/guard 2 is undefined/);
    expect(() => charter(v, a.sig(), undefined, a.grant())).toThrow(/guard 2 is undefined/);
    expect(() => charter(v, a.grant(), undefined)).toThrow(TypeError);
    // The controls: no guard at all, and real guards, are fine.
    expect(() => charter(v)).not.toThrow();
    expect(() => charter(v, a.sig(), a.grant())).not.toThrow();
  });

  it('null, false, 0 or an empty object are refused as before (not guards)', () => {
    for (const g of [null, false, 0, '', {}]) expect(() => ex.charter(v, g as never)).toThrow(/a guard must come from/);
  });

  it('verifyRequest and verifyNodeRequest refuse it too', async () => {
    const web = new Request('http://127.0.0.1/r');
    // A rejected promise naming the call, never a synchronous throw (a `.then(ok, err)` caller would miss it).
    let web1: Promise<unknown> | undefined;
    expect(() => (web1 = verifyRequest(web, v, guards.emial as never))).not.toThrow();
    await expect(web1).rejects.toThrow(/verifyRequest\(request, verifier, \.\.\.guards\): guard 1 is undefined/);
    const node = new IncomingMessage(new Socket());
    let node1: Promise<unknown> | undefined;
    const grant = ho.requireGrant({ resource: 'r', action: 'read', anyOwner: true }) as never;
    expect(() => (node1 = verifyNodeRequest(node, v, grant, undefined as never))).not.toThrow();
    await expect(node1).rejects.toThrow(/verifyNodeRequest\(req, verifier, \.\.\.guards\): guard 2 is undefined/);
  });
});
