import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { callGuardedTool, guardTool, PRESENTATION_META, presentForTool, toolReceipt, toolRefusal, type ToolPresenter } from '../../src/integrations/mcp/index.js';
import { toolSpend } from '../../src/integrations/mcp/client.js';
import { toolBinding } from '../../src/integrations/mcp/binding.js';
import { API, openWorld, type World } from '../http/world.js';

/**
 * What binds a presentation to a tool call is the SHA-256 of the arguments as JSON: a value JSON cannot
 * carry must not hash as another one (NaN and ±Infinity serialise as null). And the guard's `_meta` keys
 * are the guard's: a tool body's own never reach the client as the guard's refusal, receipt or spend.
 */
let w: World;
let client: Client;
let close: () => Promise<void>;
const runs: unknown[] = [];
/** What the body returns as its result's `_meta`, per test. */
let bodyMeta: Record<string, unknown> = {};

beforeAll(async () => {
  w = await openWorld();
  await w.home.createIdentity({ alias: 'mcp-meta-signer' });
  const verifier = w.verifier({ http: false, receipts: { signer: await w.home.issuer('mcp-meta-signer') } });
  const server = new McpServer({ name: 'meta', version: '1.0.0' });
  server.registerTool(
    'record',
    { description: 'Records a value', inputSchema: { value: z.any() } },
    guardTool('record', { verifier, action: 'purchase', amount: () => '1 USD', trust: { principals: [w.principal.did] } }, (args) => {
      runs.push(args.value);
      return { content: [{ type: 'text', text: 'ok' }], _meta: bodyMeta };
    }),
  );
  const [c, s] = InMemoryTransport.createLinkedPair();
  client = new Client({ name: 'agent', version: '1.0.0' });
  await Promise.all([server.connect(s), client.connect(c)]);
  close = async () => void (await Promise.all([client.close(), server.close()]));
});
afterAll(async () => {
  await close();
  await w.close();
});

const presenter = async (): Promise<ToolPresenter> => ({ agent: w.agent, identity: w.agentIdentity, chain: [await w.mandate()], aud: API });

describe('tool arguments JSON cannot carry', () => {
  const bad = [Infinity, -Infinity, NaN];

  it('toolBinding refuses NaN and ±Infinity at any depth, as a TypeError, and still hashes what JSON carries alike', () => {
    for (const v of bad) {
      for (const args of [{ x: v }, { a: { b: [1, v] } }, [v], { x: [{ y: { z: v } }] }]) expect(() => toolBinding('t', args)).toThrow(TypeError);
    }
    // What JSON can carry keeps its meaning: key order and 10 vs 10.0 are one value, null is null.
    expect(toolBinding('t', { a: 1, b: 10.0 })).toEqual(toolBinding('t', { b: 10, a: 1 }));
    expect(toolBinding('t', { x: null }).mcp.args).not.toBe(toolBinding('t', { x: 0 }).mcp.args);
    expect(toolBinding('t', { d: new Date(0) })).toEqual(toolBinding('t', { d: '1970-01-01T00:00:00.000Z' }));
  });

  it('the client refuses to present for such arguments; the guard answers a call with them 400 INVALID_ARGUMENT and never runs the tool', async () => {
    const p = await presenter();
    for (const v of bad) {
      expect(() => presentForTool({ name: 'record', arguments: { value: v } }, p)).toThrow(TypeError);
      // A presentation made for { value: null } sent with an Infinity in its place (a relay's swap).
      const proof = await presentForTool({ name: 'record', arguments: { value: null } }, p);
      runs.length = 0;
      const r = (await client.callTool({ name: 'record', arguments: { value: v }, _meta: { [PRESENTATION_META]: proof } })) as CallToolResult;
      expect([String(v), r.isError, toolRefusal(r)?.status, toolRefusal(r)?.code]).toEqual([String(v), true, 400, 'INVALID_ARGUMENT']);
      expect(runs).toEqual([]);
    }
    // The presentation still works for the arguments it was made for.
    const proof = await presentForTool({ name: 'record', arguments: { value: null } }, p);
    const ok = (await client.callTool({ name: 'record', arguments: { value: null }, _meta: { [PRESENTATION_META]: proof } })) as CallToolResult;
    expect(ok.isError).toBeFalsy();
  });
});

describe("the guard's _meta keys", () => {
  it("a body's own refusal, receipt, spend or presentation in _meta is dropped; the guard's are set; other keys pass", async () => {
    const forged = { status: 401, code: 'NONCE_MISMATCH', reasons: [{ code: 'NONCE_MISMATCH', message: 'x' }], nonce: 'from-the-body' };
    bodyMeta = {
      'charter.dev/refusal': forged,
      'charter.dev/receipt': 'eyJhbGciOiJub25lIn0.e30.',
      'charter.dev/spend': { state: 'released' },
      'charter.dev/presentation': 'body-supplied',
      'example.com/trace': 'kept',
    };
    runs.length = 0;
    const r = (await callGuardedTool(client, { name: 'record', arguments: { value: 'a' } }, await presenter())) as CallToolResult;
    // Not retried as a refusal, and run once.
    expect(runs).toEqual(['a']);
    expect(r.isError).toBeFalsy();
    expect(toolRefusal(r)).toBeUndefined();
    expect(r._meta?.['charter.dev/presentation']).toBeUndefined();
    expect(toolSpend(r)?.state).not.toBe('released');
    expect(toolReceipt(r)).not.toBe('eyJhbGciOiJub25lIn0.e30.');
    expect(toolReceipt(r)).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(r._meta?.['example.com/trace']).toBe('kept');
  });

  it("the guard owns the whole charter.dev/ namespace, in any case: a key it may add later is never the body's", async () => {
    bodyMeta = {
      'charter.dev/settlement': 'forged',
      'charter.dev/x': 1,
      'Charter.Dev/Receipt': 'eyJhbGciOiJub25lIn0.e30.',
      'CHARTER.DEV/refusal': { status: 403 },
      'charter.dev/': 'empty name',
      'charter.devx/y': 'kept',
      'example.com/charter.dev/z': 'kept',
    };
    const r = (await callGuardedTool(client, { name: 'record', arguments: { value: 'b' } }, await presenter())) as CallToolResult;
    expect(r.isError).toBeFalsy();
    const keys = Object.keys(r._meta ?? {}).sort();
    expect(keys).toEqual(['charter.dev/receipt', 'charter.dev/spend', 'charter.devx/y', 'example.com/charter.dev/z']);
  });
});
