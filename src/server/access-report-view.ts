import type { AccessUse } from '../audit/index.js';
import { escapeHtml } from './consent-page.js';

/**
 * One grant's "reported uses" on the consent page (the card's
 * access-report slot): the uses platforms reported back, newest first.
 * What a report proves: the platform's own verifier signed that it decided
 * on a presentation of this grant, then. Reporting is voluntary, so the
 * absence of reports proves nothing, and the page says so.
 */
export function renderAccessReports(uses: readonly AccessUse[], date: (iso: string) => string = (iso) => iso): string {
  if (uses.length === 0) return '<p class="reports-none">No uses reported. Reporting is voluntary: no report does not mean no use.</p>';
  const items = uses.map(
    (u) =>
      `<li data-receipt="${escapeHtml(u.receiptId)}"><span title="${escapeHtml(u.verifier)}">${escapeHtml(u.verifier)}</span> ${u.outcome === 'allow' ? 'used it' : 'was refused'}: ${escapeHtml([u.action, u.resource].filter(Boolean).join(' '))}, <time datetime="${escapeHtml(u.at)}">${escapeHtml(date(u.at))}</time></li>`,
  );
  return `<details><summary>Reported uses (${uses.length})</summary><ul class="uses">${items.join('')}</ul><p>Platforms may send back signed receipts of each use. Reporting is voluntary: no report does not mean no use.</p></details>`;
}
