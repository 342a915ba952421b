import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkTermsInput, describeTerms, readTerms, termsReasons, PURPOSES, type GrantTerms } from '../../src/grants/index.js';
import { requireGrant } from '../../src/http/guards.js';
import { renderConsentPage } from '../../src/server/consent-page.js';
import { dateFormatter, namer } from '../../src/server/consent-view.js';

const codes = (r: { reasons: { code: string }[] }) => r.reasons.map((x) => x.code);

describe('grant terms', () => {
  const full: GrantTerms = {
    purpose: ['model-training', 'x-fraud-screening'],
    retention: 'P90D',
    onwardSharing: ['did:web:lab.example'],
    processing: 'on-device',
    compensation: { amount: '0.05', currency: 'EUR', per: 'use' },
  };

  it('reads every documented field', () => {
    expect(readTerms(full)).toEqual({ terms: full, reasons: [] });
    expect(readTerms({ onwardSharing: 'none', compensation: { amount: '10', currency: 'JPY', per: 'P1M', split: { weights: { 'did:key:z6Mkabc': '2' } } } }).reasons).toEqual([]);
  });

  it('an unknown term field fails closed (UNKNOWN_TERM), at the top or inside compensation (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !['purpose', 'retention', 'onwardSharing', 'processing', 'compensation', '__proto__'].includes(k)),
        fc.boolean(),
        (k, nested) => {
          const terms = nested ? { compensation: { amount: '1', currency: 'EUR', per: 'use', [k]: 1 } } : { ...full, [k]: 'anything' };
          if (nested && ['amount', 'currency', 'per', 'split'].includes(k)) return;
          expect(codes(readTerms(terms))).toEqual(['UNKNOWN_TERM']);
        },
      ),
    );
  });

  it('malformed fields are refused, naming nothing but the field', () => {
    for (const bad of [
      { purpose: [] },
      { purpose: ['Model Training'] },
      { purpose: ['analytics', 'analytics'] },
      { retention: '90 days' },
      { onwardSharing: 'everyone' },
      { onwardSharing: ['not-a-did'] },
      { processing: 'cloud' },
      { compensation: { amount: '-1', currency: 'EUR', per: 'use' } },
      { compensation: { amount: '1', currency: 'eur', per: 'use' } },
      { compensation: { amount: '1', currency: 'EUR', per: 'month' } },
      { compensation: { amount: '1', currency: 'EUR', per: 'use', split: { weights: { 'did:key:z6Mkabc': '0' } } } },
      'not an object',
    ]) {
      expect(codes(readTerms(bad))).toEqual(['INVALID_CREDENTIAL']);
    }
  });

  it('issuers write documented purposes or x- names; a split is for pools', () => {
    expect(() => checkTermsInput({ purpose: ['analitics'] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(checkTermsInput({ purpose: [...PURPOSES] }).purpose).toEqual([...PURPOSES]);
    expect(() => checkTermsInput({ compensation: { amount: '1', currency: 'EUR', per: 'use', split: 'equal' } })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(checkTermsInput({ compensation: { amount: '1', currency: 'EUR', per: 'use', split: 'equal' } }, { collective: true }).compensation?.split).toBe('equal');
  });

  it('the verifier checks declared purpose and processing; no terms limit nothing', () => {
    expect(termsReasons(undefined, {})).toEqual([]);
    expect(termsReasons({ retention: 'P1D' }, { purpose: 'marketing' })).toEqual([]);
    expect(codes({ reasons: termsReasons(full, { purpose: 'x-fraud-screening', processing: 'on-device' }) })).toEqual([]);
    expect(codes({ reasons: termsReasons(full, { purpose: 'analytics', processing: 'on-device' }) })).toEqual(['PURPOSE_NOT_ALLOWED']);
    expect(codes({ reasons: termsReasons({ processing: 'any' }, {}) })).toEqual([]);
    expect(codes({ reasons: termsReasons({ processing: 'trusted-execution' }, { processing: 'on-device' }) })).toEqual(['PROCESSING_NOT_ALLOWED']);
  });

  it('plain words for the consent page', () => {
    expect(describeTerms(full)).toEqual([
      'Only for training AI models or fraud screening.',
      'Deleted within 90 days of being obtained.',
      'May be passed on only to did:web:lab.example.',
      'Processed only on your own device.',
      'Pays 0.05 EUR for each use.',
    ]);
    expect(describeTerms({ compensation: { amount: '3', currency: 'EUR', per: 'P1M', split: 'equal' }, onwardSharing: 'none' })).toEqual([
      'Not passed on to anyone else.',
      'Pays 3 EUR for every 1 month, shared equally.',
    ]);
  });

  it("purposes named like Object's own members read as words, never as JavaScript", () => {
    for (const p of ['constructor', 'hasownproperty', 'tostring', 'valueof']) {
      const [line] = describeTerms({ purpose: [p] });
      expect(line).toBe(`Only for ${p}.`);
    }
  });

  it('requireGrant checks the declared use when built', () => {
    expect(() => requireGrant({ resource: 'a', action: 'read', anyOwner: true, purpose: 'Model Training' })).toThrow(TypeError);
    expect(() => requireGrant({ resource: 'a', action: 'read', anyOwner: true, processing: 'cloud' as 'on-device' })).toThrow(TypeError);
    expect(requireGrant({ resource: 'a', action: 'read', anyOwner: true, purpose: 'model-training', processing: 'on-device' })).toMatchObject({
      purpose: 'model-training',
      processing: 'on-device',
    });
  });

  it('the consent page shows terms in plain words, and offers no lone revoke of a pool grant', () => {
    const row = {
      format: 'vc+jwt' as const,
      grantee: 'did:web:lab.example',
      resources: ['health/*'],
      actions: ['read'],
      purpose: 'sleep model',
      expires: '2027-01-01T00:00:00Z',
      state: 'active' as const,
      terms: full,
    };
    const html = renderConsentPage({
      grants: [
        { ...row, id: 'urn:uuid:1', grantor: 'did:key:z6MkA' },
        { ...row, id: 'urn:x:pool', grantor: 'did:key:z6MkPool', pool: 'did:key:z6MkPool' },
      ],
      token: 't',
      link: (path: string) => path,
      name: namer([]),
      date: dateFormatter('en'),
      locale: 'en',
      filter: 'all',
    });
    expect(html).toContain('<li>Only for training AI models or fraud screening.</li>');
    expect(html).toContain('<li>Processed only on your own device.</li>');
    const card = (id: string) => html.split('<li class="grant"').find((c) => c.includes(`data-grant="${id}"`))!;
    expect(card('urn:uuid:1')).toContain('data-action="revoke"');
    expect(card('urn:x:pool')).not.toContain('data-action="revoke"');
    expect(card('urn:x:pool')).toMatch(/Decided by the pool's members/);
  });
});
