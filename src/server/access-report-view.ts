import type { GrantSummary } from '../grants/index.js';
import type { AccessUse } from '../audit/index.js';
import { escapeHtml } from './consent-page.js';

/**
 * The consent page's "reported uses" block (kept apart from the page
 * layout): for each grant, the uses platforms reported back, newest first.
 * What a report proves: the platform's own verifier signed that it decided
 * on a presentation of this grant, then. Reporting is voluntary, so the
 * absence of reports proves nothing.
 */
export function renderAccessReports(grants: readonly GrantSummary[], uses: ReadonlyMap<string, readonly AccessUse[]>): string {
  const rows = grants.flatMap((g) =>
    (uses.get(g.id) ?? []).map(
      (u) =>
        `<tr data-grant="${escapeHtml(g.id)}" data-receipt="${escapeHtml(u.receiptId)}"><td title="${escapeHtml(u.verifier)}">${escapeHtml(u.verifier)}</td><td>${escapeHtml(u.at)}</td><td>${escapeHtml([u.action, u.resource].filter(Boolean).join(' '))}</td><td>${escapeHtml(g.purpose)}</td><td>${u.outcome === 'allow' ? 'used' : 'refused'}</td></tr>`,
    ),
  );
  return `<h2>Reported uses</h2>
<p>Platforms may send back signed receipts of each use of a grant. Sending them is voluntary: no report does not mean no use.</p>
<table class="reports"><thead><tr><th>Platform</th><th>When</th><th>What</th><th>Purpose</th><th>Outcome</th></tr></thead>
<tbody>
${rows.join('\n') || '<tr><td colspan="5">No reports yet.</td></tr>'}
</tbody></table>`;
}
