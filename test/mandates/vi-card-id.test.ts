import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { issueViIntent, verifyMandateChain } from '../../src/mandates/index.js';
import { INSTRUMENT, MERCHANTS, signCompact, type Party } from './helpers.js';
import { T0, viAutonomous, viPay, viVerifyOptions, viWorld } from './worlds.js';

/*
 * Verifiable Intent: the payment instrument is the card L1 was issued for (its `card_id`). credential-format
 * §3.3 lists card_id among the always-visible claims ("Always visible when present"); an issuer that makes it
 * selectively disclosable anyway still binds the card once the claim is disclosed, so the verifier reads the
 * resolved claims, never the raw payload. A digest left undisclosed is not read as a card binding: under §3.3
 * it is not one, and §3.4 lets the holder withhold the claims that are (email), so refusing any L1 with an
 * undisclosed digest would refuse honest chains.
 */

const codes = (d: { reasons: { code: string }[] }) => d.reasons.map((r) => r.code);
const disclosure = (name: string, value: unknown) => Buffer.from(JSON.stringify([randomBytes(16).toString('base64url'), name, value])).toString('base64url');
const digest = (d: string) => createHash('sha256').update(d).digest('base64url');

/** An L1 with card_id in clear (`clear`), as a presented disclosure (`disclosed`), or as a digest whose disclosure is withheld (`withheld`). */
async function l1With(issuer: Party, user: Party, card: { clear?: unknown; disclosed?: unknown; withheld?: unknown }): Promise<string> {
  const email = disclosure('email', 'user@example.com');
  const shown = 'disclosed' in card ? [disclosure('card_id', card.disclosed)] : [];
  const hidden = 'withheld' in card ? [disclosure('card_id', card.withheld)] : [];
  const payload = {
    iss: 'https://issuer.example.com',
    sub: 'user-1',
    iat: T0 - 86400,
    exp: T0 + 365 * 86400,
    vct: 'https://credentials.mastercard.com/card',
    cnf: { jwk: user.publicJwk },
    pan_last_four: '1234',
    scheme: 'mastercard',
    ...('clear' in card ? { card_id: card.clear } : {}),
    _sd: [email, ...shown, ...hidden].map(digest),
    _sd_alg: 'sha-256',
  };
  return `${await signCompact({ typ: 'sd+jwt' }, payload, issuer)}~${[email, ...shown].map((d) => `${d}~`).join('')}`;
}

/** The whole autonomous chain (L1, the user's L2 paying with INSTRUMENT, the agent's L3 pair) over an L1 binding `card`. */
async function autonomous(card: Parameters<typeof l1With>[2]) {
  const base = await viWorld();
  const w = { ...base, l1: await l1With(base.issuer, base.user, card) };
  const intent = await viAutonomous(w);
  return codes(await verifyMandateChain({ l1: w.l1, l2: intent.l2, ...(await viPay(w, intent)) }, viVerifyOptions(w)));
}

async function immediate(card: Parameters<typeof l1With>[2]) {
  const base = await viWorld();
  const w = { ...base, l1: await l1With(base.issuer, base.user, card) };
  const im = await issueViIntent({
    issuer: w.user.issuer,
    l1: w.l1,
    aud: 'https://network.example.com',
    nonce: 'n-im',
    now: new Date(T0 * 1000),
    immediate: { checkoutJwt: w.co, instrument: INSTRUMENT, payee: MERCHANTS[0]!, amount: { amount: '279.99', currency: 'USD' } },
  });
  return codes(await verifyMandateChain({ l1: w.l1, l2: im.l2 }, viVerifyOptions(w, { aud: 'https://network.example.com', nonce: 'n-im' })));
}

describe('VI: an L1 card_id binds the payment instrument, in clear or disclosed', () => {
  it.each([
    ['autonomous', autonomous],
    ['immediate', immediate],
  ] as const)('%s: a disclosed card_id naming another card is DELEGATION_BROKEN, as one in clear is; naming this card, ok', async (_, run) => {
    expect(await run({ disclosed: 'the-real-card' })).toEqual(['DELEGATION_BROKEN']);
    expect(await run({ clear: 'the-real-card' })).toEqual(['DELEGATION_BROKEN']);
    expect(await run({ disclosed: INSTRUMENT.id })).toEqual([]);
    expect(await run({ clear: INSTRUMENT.id })).toEqual([]);
  });

  it.each([
    ['an empty string', ''],
    ['a number', 1234],
    ['an object', { id: INSTRUMENT.id }],
    ['null', null],
    ['false', false],
  ])('a card_id that is %s (in clear or disclosed) is INVALID_CREDENTIAL, never a skipped check', async (_, value) => {
    expect(await autonomous({ clear: value })).toEqual(['INVALID_CREDENTIAL']);
    expect(await autonomous({ disclosed: value })).toEqual(['INVALID_CREDENTIAL']);
  });

  it('an undisclosed digest is not read as a card binding (§3.3 keeps card_id visible; §3.4 lets the holder withhold email): the chain verifies', async () => {
    expect(await autonomous({ withheld: 'the-real-card' })).toEqual([]);
    // A card_id in clear still binds beside a withheld digest.
    expect(await autonomous({ clear: 'the-real-card', withheld: INSTRUMENT.id })).toEqual(['DELEGATION_BROKEN']);
  });
});
