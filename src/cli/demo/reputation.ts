import { issueAttestation, issueReceipt, scoreAgent } from '../../reputation/index.js';
import { issueAgentIdentity } from '../../agents/index.js';
import type { DemoContext } from './types.js';

/** Feedback that counts, and a fake one that does not, with the reason. */
export async function reputationWalk({ home, step, publicUrl }: DemoContext): Promise<void> {
  const op = await home.createIdentity({ alias: 'rep-operator' });
  const bot = await home.createIdentity({ alias: 'travel-bot', meta: { role: 'agent', operator: op.did } });
  await issueAgentIdentity(home.store, await home.issuer('rep-operator'), { agent: bot.did, name: 'Travel Bot' });
  const hotel = await home.createIdentity({ alias: 'hotel' });
  const airline = await home.createIdentity({ alias: 'airline' });
  const botKey = await home.issuer('travel-bot');
  const atts: string[] = [];
  for (const [who, score, dim] of [['hotel', 0.9, 'delivery'], ['airline', 0.7, 'accuracy']] as const) {
    const party = await home.issuer(who);
    const receipt = await issueReceipt(home.store, botKey, { counterparty: party.did, interactionId: `${who}-booking-1`, amount: { amount: '320', currency: 'EUR' } });
    atts.push((await issueAttestation(home.store, party, { receiptJwt: receipt.jwt, score, dimension: dim, baseUrl: publicUrl })).jwt);
  }
  step({ title: 'travel-bot signs receipts for a hotel and an airline booking; both rate it (0.9, 0.7)', ok: true });
  const selfReceipt = await issueReceipt(home.store, botKey, { counterparty: op.did, interactionId: 'self-1' });
  const fake = await issueAttestation(null, await home.issuer('rep-operator'), { receiptJwt: selfReceipt.jwt, score: 1 });
  const s = await scoreAgent(bot.did, [...atts, fake.jwt, atts[0]!], { resolver: home.resolver, status: home.status, trustedAttesters: [hotel.did, airline.did, op.did], operator: op.did });
  step({ title: 'its operator adds a perfect 1.0 for itself: ignored', ok: s.ignored.some((i) => i.code === 'SELF_ATTESTATION'), code: 'SELF_ATTESTATION' });
  step({ title: `score ${s.score?.toFixed(2)} from ${s.attesters} real counterparties (the fake and a duplicate change nothing)`, ok: s.score !== null && Math.abs(s.score - 0.8) < 1e-9 && s.counted === 2 });
}
