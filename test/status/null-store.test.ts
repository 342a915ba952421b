import { describe, expect, it } from 'vitest';
import { issueGrant } from '../../src/grants/index.js';
import { issueAgentIdentity, issueMandate } from '../../src/agents/index.js';
import { makeIssuer } from '../helpers.js';
import { ROOT } from '../agents/setup.js';

/**
 * A revocable credential needs a store for its status entry: `null` (which
 * the non-revocable issue* calls take as "sign without keeping") is a
 * TypeError saying so, never a TypeError from inside the status allocator.
 */
describe('issue* of a revocable credential with no store', () => {
  const owner = makeIssuer();
  const other = makeIssuer();
  const later = new Date(Date.now() + 86_400_000);

  it.each([null, undefined, {}, 'store'])('store %j: issueGrant and issueMandate say a store is needed', async (store) => {
    const needs = /needs a store for its status entry/;
    await expect(
      issueGrant(store as never, owner, { grantee: other.did, resources: ['profile/email'], actions: ['read'], purpose: 'p', validUntil: later, baseUrl: 'https://h.example' }),
    ).rejects.toThrow(needs);
    await expect(issueMandate(store as never, owner, { agent: other.did, authority: ROOT, validUntil: later, baseUrl: 'https://h.example' })).rejects.toThrow(needs);
  });

  it('the control: an agent identity, which is not kept, signs with null', async () => {
    const i = await issueAgentIdentity(null, owner, { agent: other.did, name: 'agent' } as never).catch((e: unknown) => e);
    expect(i).not.toBeInstanceOf(TypeError);
  });
});
