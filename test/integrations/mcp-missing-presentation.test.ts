import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { DecisionReceipt } from '../../src/audit/index.js';
import { guardTool, PRESENTATION_META, toolBinding, toolReceipt, toolRefusal, verifyReceipt, type ToolExtra } from '../../src/integrations/mcp/index.js';
import type { Verifier } from '../../src/guard/verifier.js';
import { openWorld, type World } from '../http/world.js';

/**
 * A call without a presentation (none in `_meta`, or one that is not a
 * presentation at all) is refused by the one decision pipeline, as over HTTP
 * and by guardTransaction: the refusal carries a signed receipt, bound to the
 * tool and its arguments, and is in the audit log. The body never runs.
 */
let w: World;
let verifier: Verifier;

beforeAll(async () => {
  w = await openWorld();
  await w.home.createIdentity({ alias: 'mcp-refusal-signer' });
  verifier = w.verifier({ http: false, receipts: { signer: await w.home.issuer('mcp-refusal-signer') } });
});
afterAll(async () => w.close());

type Args = Record<string, unknown>;

/** Each way a call can carry no usable presentation: no _meta, no key, and values of the wrong kind. */
const missing: [string, ToolExtra][] = [
  ['no _meta', {}],
  ['_meta without a presentation', { _meta: {} }],
  ['undefined', { _meta: { [PRESENTATION_META]: undefined } }],
  ['42', { _meta: { [PRESENTATION_META]: 42 } }],
  ['null', { _meta: { [PRESENTATION_META]: null } }],
  ['true', { _meta: { [PRESENTATION_META]: true } }],
];

/** A refusal with a receipt that verifies, says deny 401 for this tool call, and is in the verifier's audit log. */
async function expectLoggedRefusal(r: CallToolResult, tool: string, args: Args): Promise<void> {
  expect(r.isError).toBe(true);
  expect(toolRefusal(r)).toMatchObject({ status: 401, code: 'INVALID_PRESENTATION' });
  const jws = toolReceipt(r);
  expect(jws).toEqual(expect.any(String));
  const v = await verifyReceipt(jws!, { resolver: w.resolver, issuers: [(await w.home.identity('mcp-refusal-signer')).did] });
  expect(v.reasons).toEqual([]);
  expect(v.ok).toBe(true);
  const claims = v.claims as DecisionReceipt;
  expect(claims).toMatchObject({ decision: 'deny', status: 401, request: toolBinding(tool, args) });
  expect(claims.reasons).toContain('INVALID_PRESENTATION');
  expect(await w.apiStore.findAudit(claims.jti)).toBeDefined();
}

describe('MCP guard: a call without a presentation is decided (signed and logged) by the pipeline', () => {
  const runs: string[] = [];
  const args = { item: 'mug', price: 10, currency: 'USD' };

  for (const [label, extra] of missing) {
    it(`agent guard, ${label}: 401 INVALID_PRESENTATION with a verifiable receipt and an audit entry`, async () => {
      const g = guardTool<Args>(
        'purchase',
        { verifier, action: 'purchase', amount: (a) => `${a.price as number} ${a.currency as string}`, trust: { principals: [w.principal.did] } },
        () => {
          runs.push(label);
          return { content: [] };
        },
      );
      await expectLoggedRefusal(await g(args, extra), 'purchase', args);
      expect(runs).toEqual([]);
    });
  }

  it('agent guard, an object (not a JWT string): refused, signed and logged', async () => {
    const g = guardTool<Args>('purchase', { verifier, action: 'purchase', trust: { principals: [w.principal.did] } }, () => ({ content: [] }));
    await expectLoggedRefusal(await g(args, { _meta: { [PRESENTATION_META]: { vp: 'x' } } }), 'purchase', args);
  });

  it('agent guard, arguments it cannot read and no presentation: still the 401 for the missing presentation, signed and logged', async () => {
    const g = guardTool<Args>('purchase', { verifier, action: (a) => a.kind as string, trust: { principals: [w.principal.did] } }, () => ({ content: [] }));
    const odd = { kind: 7 };
    await expectLoggedRefusal(await g(odd, { _meta: {} }), 'purchase', odd);
  });

  it('challenge mode: the refusal carries a fresh nonce and its receipt', async () => {
    const v = w.verifier({ http: false, nonces: 'challenge', receipts: { signer: await w.home.issuer('mcp-refusal-signer') } });
    const g = guardTool<Args>('purchase', { verifier: v, action: 'purchase', trust: { principals: [w.principal.did] } }, () => ({ content: [] }));
    const r = await g(args, { _meta: { [PRESENTATION_META]: 42 } });
    expect(toolRefusal(r)?.nonce).toEqual(expect.any(String));
    await expectLoggedRefusal(r, 'purchase', args);
  });

  it('challenge mode with the store unreachable: a 503 refusal (no receipt: nothing was decided), not a thrown fault', async () => {
    const v = w.verifier({ http: false, nonces: 'challenge', receipts: { signer: await w.home.issuer('mcp-refusal-signer') } });
    const g = guardTool<Args>('purchase', { verifier: v, action: 'purchase', trust: { principals: [w.principal.did] } }, () => ({ content: [] }));
    w.storeDown(true);
    try {
      const r = await g(args, {});
      expect(toolRefusal(r)).toMatchObject({ status: 503, code: 'STORE_UNAVAILABLE' });
    } finally {
      w.storeDown(false);
    }
  });

  describe('the paid guard (options.mandate)', () => {
    const payArgs = { amount: '10' };
    const paidRuns: string[] = [];
    const paid = async () => {
      const { viWorld } = await import('../guard/chains.js');
      const vw = await viWorld(new Date());
      return guardTool<Args>(
        'pay',
        { verifier, mandate: { profile: 'verifiable-intent', trust: { issuers: [vw.issuer.publicJwk] }, payee: 'merchant-uuid-1' }, amount: (a) => `${a.amount as string} USD` },
        () => {
          paidRuns.push('ran');
          return { content: [] };
        },
      );
    };

    for (const [label, extra] of missing) {
      it(`${label}: 401 INVALID_PRESENTATION with a verifiable receipt and an audit entry`, async () => {
        await expectLoggedRefusal(await (await paid())(payArgs, extra), 'pay', payArgs);
        expect(paidRuns).toEqual([]);
      });
    }

    it('an object that is no mandate chain: refused by the pipeline, signed and logged', async () => {
      const r = await (await paid())(payArgs, { _meta: { [PRESENTATION_META]: { nonsense: true } } });
      expect(toolRefusal(r)?.status).toBe(401);
      const v = await verifyReceipt(toolReceipt(r)!, { resolver: w.resolver, issuers: [(await w.home.identity('mcp-refusal-signer')).did] });
      expect(v.ok).toBe(true);
      expect(await w.apiStore.findAudit((v.claims as DecisionReceipt).jti)).toBeDefined();
      expect(paidRuns).toEqual([]);
    });
  });
});
