import { describe, expect, it } from 'vitest';
import { renderAccessReports } from '../../src/server/access-report-view.js';
import type { AccessUse } from '../../src/audit/index.js';

/** A use a verifier reported outside the grant (kept for an SD-JWT grant, audit/access-report.ts) reads as such to the person. */
describe('a reported use outside the grant on the consent page', () => {
  const use = (o: Partial<AccessUse>): AccessUse => ({
    receiptId: 'urn:uuid:1',
    verifier: 'did:key:zV',
    reporter: 'did:key:zV',
    outcome: 'allow',
    at: '2026-12-01T10:00:00.000Z',
    resource: 'medical/cancer',
    action: 'read',
    receivedAt: '2026-12-01T10:00:01.000Z',
    ...o,
  });
  it('is marked, and never read as a plain use', () => {
    const html = renderAccessReports([use({ outsideGrant: true })]);
    expect(html).toContain('class="outside-grant"');
    expect(html).toContain('says it used it for something the grant does not cover');
    expect(html).not.toMatch(/<\/span> used it:/);
  });
  it('a use inside, and a refusal, read as before', () => {
    expect(renderAccessReports([use({})])).toMatch(/<\/span> used it: read medical\/cancer/);
    expect(renderAccessReports([use({ outcome: 'deny' })])).toMatch(/was refused/);
  });
});
