import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CharterVeramoPlugin } from '../../src/integrations/veramo/index.js';
import { presentForTool } from '../../src/integrations/mcp/index.js';
import { createPresentation } from '../../src/credentials/index.js';
import { API, openWorld, type World } from '../http/world.js';
import { bound } from '../http/present.js';

/**
 * charterVerifyAgent has no request to compare a presentation's transport
 * claims with: one bound to an HTTP request or an MCP call (htm, htu, mcp)
 * is for that call only, and is refused here (REQUEST_MISMATCH), as the
 * guards refuse it anywhere else. An unbound one is judged as before.
 */
describe('Veramo charterVerifyAgent: a presentation bound to another request is refused', () => {
  let w: World;
  let plugin: CharterVeramoPlugin;
  beforeAll(async () => {
    w = await openWorld();
    plugin = new CharterVeramoPlugin({ resolver: w.resolver, status: w.status, aud: API, trust: { principals: [w.principal.did] } });
  });
  afterAll(async () => w.close());
  const ctx = {} as never;
  const check = (presentation: string) =>
    plugin.methods.charterVerifyAgent({ presentation, action: 'purchase', amount: '50 USD', counterparty: API, allowMissingNonce: true }, ctx);

  it('bound to an MCP tool call, or to an HTTP request (either method), or carrying any one of htm, htu, mcp: REQUEST_MISMATCH', async () => {
    const m = await w.mandate();
    const creds = [w.agentIdentity, m];
    const cases: [string, string][] = [
      [
        'mcp call',
        await presentForTool({ name: 'purchase', arguments: { item: 'mug', price: 10, currency: 'USD' } }, { agent: w.agent, identity: w.agentIdentity, chain: [m], aud: API }),
      ],
      ['POST /orders', await bound(w.agent, creds, { url: 'https://api.example/orders', method: 'POST' })],
      ['GET /orders', await bound(w.agent, creds, { url: 'https://api.example/orders' })],
      ['htm alone', await createPresentation({ holder: w.agent, credentials: creds, aud: API, claims: { htm: 'POST' } })],
      ['htu alone', await createPresentation({ holder: w.agent, credentials: creds, aud: API, claims: { htu: 'https://api.example/orders' } })],
      ['mcp alone', await createPresentation({ holder: w.agent, credentials: creds, aud: API, claims: { mcp: { tool: 'purchase', args: 'sha256-x' } } })],
    ];
    for (const [what, vp] of cases) {
      const d = await check(vp);
      expect([what, d.ok, d.reasons.map((r) => r.code)]).toEqual([what, false, expect.arrayContaining(['REQUEST_MISMATCH'])]);
    }
    // Unbound: allowed, as before.
    const plain = await check(await createPresentation({ holder: w.agent, credentials: creds, aud: API }));
    expect([plain.ok, plain.reasons]).toEqual([true, []]);
  });
});

describe('Veramo charterVerifyGrant: a presentation bound to another request is refused', () => {
  let w: World;
  let plugin: CharterVeramoPlugin;
  beforeAll(async () => {
    w = await openWorld();
    plugin = new CharterVeramoPlugin({ resolver: w.resolver, status: w.status, aud: API, trust: { principals: [w.principal.did] } });
  });
  afterAll(async () => w.close());
  const ctx = {} as never;
  const check = (grant: string, resource = 'photos/2') => plugin.methods.charterVerifyGrant({ grant, resource, action: 'read', owner: w.alice.did, allowMissingNonce: true }, ctx);

  it('bound to GET photos/1, to an MCP call, or carrying htm, htu or mcp alone: REQUEST_MISMATCH; unbound: allowed', async () => {
    const g = await w.grant();
    const cases: [string, string][] = [
      ['GET photos/1', await bound(w.app, [g.jwt], { url: 'https://api.example/photos/1' })],
      ['htm alone', await createPresentation({ holder: w.app, credentials: [g.jwt], aud: API, claims: { htm: 'GET' } })],
      ['htu alone', await createPresentation({ holder: w.app, credentials: [g.jwt], aud: API, claims: { htu: 'https://api.example/photos/2' } })],
      ['mcp alone', await createPresentation({ holder: w.app, credentials: [g.jwt], aud: API, claims: { mcp: { tool: 'read_photo', args: 'sha256-x' } } })],
    ];
    for (const [what, vp] of cases) {
      const d = await check(vp);
      expect([what, d.ok, d.reasons.map((r) => r.code)]).toEqual([what, false, expect.arrayContaining(['REQUEST_MISMATCH'])]);
    }
    const plain = await check(await createPresentation({ holder: w.app, credentials: [g.jwt], aud: API }));
    expect([plain.ok, plain.reasons]).toEqual([true, []]);
  });
});
