import { issueAttestation, issueReceipt, scoreAgent } from '../../reputation/index.js';
import { issueAgentIdentity } from '../../agents/index.js';
import type { DemoContext } from './types.js';

/** Ratings that count, and two that do not (a self-rating, a second rating for one booking), with the reason. */
export async function reputationWalk({ home, step, publicUrl }: DemoContext): Promise<void> {
  const op = await home.createIdentity({ alias: 'rep-operator' });
  const bot = await home.createIdentity({ alias: 'travel-bot', meta: { role: 'agent', operator: op.did } });
  await issueAgentIdentity(home.store, await home.issuer('rep-operator'), { agent: bot.did, name: 'Travel Bot' });
  const hotel = await home.createIdentity({ alias: 'hotel' });
  const airline = await home.createIdentity({ alias: 'airline' });
  const botKey = await home.issuer('travel-bot');
  const atts: string[] = [];
  const receipts: Record<string, string> = {};
  for (const [who, score, dim] of [
    ['hotel', 0.9, 'delivery'],
    ['airline', 0.7, 'accuracy'],
  ] as const) {
    const party = await home.issuer(who);
    const receipt = await issueReceipt(home.store, botKey, { counterparty: party.did, interactionId: `${who}-booking-1`, amount: { amount: '320', currency: 'EUR' } });
    receipts[who] = receipt.jwt;
    atts.push((await issueAttestation(home.store, party, { receiptJwt: receipt.jwt, score, dimension: dim, baseUrl: publicUrl })).jwt);
  }
  step({
    title: 'travel-bot, an AI agent, books a hotel and a flight; each rates it afterwards (0.9 and 0.7)',
    ok: true,
    detail: 'the agent signs an InteractionReceipt naming each counterparty (its consent to be rated); each signs a ReputationAttestation carrying it',
  });
  const selfReceipt = await issueReceipt(home.store, botKey, { counterparty: op.did, interactionId: 'self-1' });
  const fake = await issueAttestation(null, await home.issuer('rep-operator'), { receiptJwt: selfReceipt.jwt, score: 1 });
  // The same score as the first, so the result does not depend on which of the two counts.
  const again = await issueAttestation(null, await home.issuer('hotel'), { receiptJwt: receipts.hotel!, score: 0.9, dimension: 'delivery' });
  const s = await scoreAgent(bot.did, [...atts, fake.jwt, again.jwt], {
    resolver: home.resolver,
    status: home.status,
    trustedAttesters: [hotel.did, airline.did, op.did],
    operator: op.did,
  });
  const ignored = (code: string) => s.ignored.some((i) => i.code === code);
  step({
    title: 'the company running travel-bot rates it a perfect 1.0 itself',
    expect: 'refused',
    ok: ignored('SELF_ATTESTATION'),
    code: 'SELF_ATTESTATION',
    detail: 'a rating by the agent or its operator does not count',
  });
  step({ title: 'the hotel rates the same stay a second time', expect: 'refused', ok: ignored('RECEIPT_REUSED'), code: 'RECEIPT_REUSED', detail: 'each receipt counts once' });
  step({
    title: `travel-bot's score: ${s.score?.toFixed(2)}, from its ${s.attesters} real customers only`,
    ok: s.score !== null && Math.abs(s.score - 0.8) < 1e-9 && s.counted === 2,
    detail: `${s.counted} ratings counted; ignored: ${s.ignored.map((i) => i.code).join(', ')}`,
  });
}
