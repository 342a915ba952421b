import { describe, expect, it } from 'vitest';
import { isCharterError } from '../../src/errors.js';
import { issueAp2OpenMandate, issueViIntent } from '../../src/mandates/index.js';
import { freshParty, INSTRUMENT, makeL1, MERCHANTS } from './helpers.js';

/** A caller's `now` that is no valid Date would sign iat and exp as null: a mandate that never expires. */
const BAD_NOWS: unknown[] = [new Date(NaN), new Date('nope'), 1_800_000_000, '2026-12-02T00:00:00Z', {}, new Date(Date.UTC(10000, 0, 1)), new Date(Date.UTC(-1, 11, 31))];
const T0 = 1_800_000_000;

describe('mandate issuers refuse a now that is not a valid Date', () => {
  it('issueAp2OpenMandate', async () => {
    const root = freshParty('root');
    const agent = freshParty();
    for (const now of BAD_NOWS) {
      const p = issueAp2OpenMandate({ issuer: root.issuer, kind: 'checkout', agent: { jwk: agent.publicJwk }, constraints: [], now: now as Date });
      await expect(p, String(now)).rejects.toSatisfy((e) => isCharterError(e, 'INVALID_ARGUMENT'));
    }
  });

  it('issueViIntent', async () => {
    const [issuer, user, agent] = [freshParty('issuer-key-1'), freshParty(), freshParty('agent-key-1')];
    const l1 = await makeL1(issuer, user.publicJwk, { iat: T0 - 86_400, exp: T0 + 365 * 86_400, cardId: INSTRUMENT.id });
    for (const now of BAD_NOWS) {
      const p = issueViIntent({
        issuer: user.issuer,
        l1,
        aud: 'https://agent.example.com',
        nonce: 'n-l2',
        now: now as Date,
        autonomous: {
          agent: { jwk: agent.publicJwk, kid: agent.kid },
          instrument: INSTRUMENT,
          maxAmount: { amount: '400', currency: 'USD' },
          payees: [MERCHANTS[0]!],
          merchants: MERCHANTS,
          lineItems: [{ id: 'line-1', acceptable: [{ id: 'BAB86345', title: 'Babolat Pure Aero' }], quantity: 1 }],
        },
      });
      await expect(p, String(now)).rejects.toSatisfy((e) => isCharterError(e, 'INVALID_ARGUMENT'));
    }
  });
});
