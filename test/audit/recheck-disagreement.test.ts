import { describe, expect, it } from 'vitest';
import { disagreement, type Recheck } from '../../src/audit/recheck.js';
import type { DecisionReceipt } from '../../src/audit/receipt.js';

/**
 * The decision part of `charter evidence verify`: the offline re-run compared with what the signed
 * receipt records. Each comparison alone, on receipts as a verifier writes them and re-checks as the
 * evidence could show them (found by mutation testing of src/audit/recheck.ts: any one of these
 * comparisons could be dropped with every earlier test still passing).
 */
const HOLDER = 'did:key:z6MkholderAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const GRANTOR = 'did:key:z6MkgrantorAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const grant = { id: 'urn:uuid:00000000-0000-4000-8000-000000000001', iss: GRANTOR };

function receipt(over: Partial<DecisionReceipt> = {}): DecisionReceipt {
  return {
    iss: 'did:web:api.example',
    jti: 'urn:uuid:00000000-0000-7000-8000-000000000001',
    iat: 1_700_000_000,
    time: '2023-11-14T22:13:20.000Z',
    kind: 'decision',
    verifier: 'did:web:api.example',
    decision: 'allow',
    status: 200,
    reasons: [],
    sub: HOLDER,
    request: { htm: 'GET', htu: 'https://api.example/profile/email' },
    policy: { kind: 'grant', resource: 'profile/email', action: 'read', owner: GRANTOR },
    credentials: [],
    chain: [grant],
    log: { chain: 'urn:uuid:00000000-0000-4000-8000-000000000002', seq: 1, prev: null },
    ...over,
  } as DecisionReceipt;
}
const shows = (codes: string[], over: Partial<Recheck> = {}): Recheck => ({
  reasons: codes.map((code) => ({ code, message: code }) as Recheck['reasons'][number]),
  holder: HOLDER,
  chain: [grant],
  ...over,
});

describe('an allow the evidence must show as an allow', () => {
  it('agrees when the evidence shows no refusal, the same holder and the same chain', () => {
    expect(disagreement(receipt(), shows([]))).toBeUndefined();
  });

  it('a refusal the evidence shows is named', () => {
    expect(disagreement(receipt(), shows(['GRANT_EXPIRED']))).toBe('the receipt says allow, but the evidence shows GRANT_EXPIRED');
  });

  it('another holder than the receipt names', () => {
    expect(disagreement(receipt(), shows([], { holder: 'did:key:z6MksomeoneelseAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }))).toBe('the evidence names another holder than the receipt');
  });

  it('another chain of authority: another grant, another grantor, or none', () => {
    for (const chain of [[{ ...grant, id: 'urn:uuid:00000000-0000-4000-8000-000000000009' }], [{ ...grant, iss: HOLDER }], []]) {
      expect(disagreement(receipt(), shows([], { chain }))).toBe('the evidence shows another chain of authority than the receipt');
    }
  });

  it('a mandate chain rooted in another principal', () => {
    const r = receipt({ policy: { kind: 'agent', action: 'purchase', counterparty: 'did:web:shop.example' }, principal: GRANTOR });
    expect(disagreement(r, shows([], { principal: GRANTOR }))).toBeUndefined();
    expect(disagreement(r, shows([], { principal: HOLDER }))).toBe('the evidence roots the mandate chain in another principal than the receipt');
  });
});

describe('a refusal the evidence must show', () => {
  const deny = (reasons: string[], over: Partial<DecisionReceipt> = {}) => receipt({ decision: 'deny', status: 403, reasons, ...over });

  it('a refusal on the evidence (GRANT_SCOPE) the re-run does not find is named', () => {
    expect(disagreement(deny(['GRANT_SCOPE']), shows([]))).toBe('the receipt refuses for GRANT_SCOPE, which the evidence does not show');
    expect(disagreement(deny(['GRANT_SCOPE']), shows(['GRANT_SCOPE']))).toBeUndefined();
  });

  it("a refusal from the verifier's own store or configuration (a replay, a budget) is taken as recorded", () => {
    for (const code of ['REPLAY_DETECTED', 'BUDGET_EXCEEDED', 'UNTRUSTED_PRINCIPAL', 'PRESENTATION_STALE']) {
      expect(disagreement(deny([code]), shows([])), code).toBeUndefined();
    }
    // ...but not when it comes with a refusal on the evidence that is not there.
    expect(disagreement(deny(['REPLAY_DETECTED', 'GRANT_SCOPE']), shows([]))).toBe('the receipt refuses for GRANT_SCOPE, which the evidence does not show');
  });

  it("the owner's own codes are excused only when the receipt withholds the owner", () => {
    const named = deny(['GRANT_NOT_OWNER']);
    expect(disagreement(named, shows([]))).toBe('the receipt refuses for GRANT_NOT_OWNER, which the evidence does not show');
    const withheld = deny(['GRANT_NOT_OWNER'], { policy: { kind: 'grant', resource: 'profile/email', action: 'read', ownerWithheld: true } });
    expect(disagreement(withheld, shows([]))).toBeUndefined();
  });

  it('REQUEST_MISMATCH is excused only for a binding recorded by digest, not for an HTTP request the receipt records', () => {
    expect(disagreement(deny(['REQUEST_MISMATCH']), shows([]))).toBe('the receipt refuses for REQUEST_MISMATCH, which the evidence does not show');
    expect(disagreement(deny(['REQUEST_MISMATCH'], { request: { claims: 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } }), shows([]))).toBeUndefined();
  });

  it('an unresolved DID is one failure whichever code recorded it, but only when the evidence shows one', () => {
    expect(disagreement(deny(['DID_RESOLUTION_FAILED']), shows(['DID_NOT_FOUND']))).toBeUndefined();
    expect(disagreement(deny(['DID_RESOLUTION_FAILED']), shows([]))).toBe('the receipt refuses for DID_RESOLUTION_FAILED, which the evidence does not show');
  });
});
