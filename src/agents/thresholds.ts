/**
 * Reputation thresholds, checked where they are given: a NaN or negative
 * minReputation would compare false with every score, and a minAttesters of
 * "two" or NaN would ask for no attester at all, turning the gate off
 * without a word (TypeError, a caller's mistake).
 */
export function checkReputationThresholds(who: string, t: { minReputation?: unknown; minAttesters?: unknown }): void {
  const r = t.minReputation;
  if (r !== undefined && !(typeof r === 'number' && r >= 0 && r <= 1)) throw new TypeError(`${who}.minReputation must be a number from 0 to 1`);
  const n = t.minAttesters;
  if (n !== undefined && !(Number.isSafeInteger(n) && (n as number) >= 0)) throw new TypeError(`${who}.minAttesters must be a whole number of attesters`);
}
