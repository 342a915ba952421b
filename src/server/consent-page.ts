import type { GrantSummary } from '../grants/index.js';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESC[c]!);

function button(action: string, id: string, token: string, label: string): string {
  return `<form method="post" action="/consent/${action}"><input type="hidden" name="id" value="${escapeHtml(id)}"><input type="hidden" name="token" value="${escapeHtml(token)}"><button type="submit" data-action="${action}" data-id="${escapeHtml(id)}">${label}</button></form>`;
}

/** The consent page: one row per grant the person issued, with its controls; `after` is HTML placed below (the reported uses, access-report-view.ts). */
export function renderConsentPage(grants: GrantSummary[], opts: { token: string; notice?: string | undefined; after?: string }): string {
  const rows = grants
    .map((g) => {
      const controls =
        g.state === 'active'
          ? button('suspend', g.id, opts.token, 'Suspend') + button('revoke', g.id, opts.token, 'Revoke')
          : g.state === 'suspended'
            ? button('resume', g.id, opts.token, 'Resume') + button('revoke', g.id, opts.token, 'Revoke')
            : '';
      return `<tr data-grant="${escapeHtml(g.id)}" data-state="${g.state}"><td title="${escapeHtml(g.grantee)}">${escapeHtml(g.grantee)}</td><td>${escapeHtml(g.resources.join(', '))}</td><td>${escapeHtml(g.actions.join(', '))}</td><td>${escapeHtml(g.purpose)}</td><td>${escapeHtml(g.expires ?? '')}</td><td class="state">${g.state}</td><td>${controls}</td></tr>`;
    })
    .join('\n');
  const notice = opts.notice && /^[a-z]+$/.test(opts.notice) ? `<p class="notice">Grant ${escapeHtml(opts.notice)}.</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Charter: who can see your data</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #ddd;font-size:.9rem;vertical-align:top}td:first-child{max-width:18rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}form{display:inline}button{margin-right:.3rem}.notice{background:#eef7ee;padding:.5rem}</style>
</head><body>
<h1>Your data grants</h1>
<p>Every platform you granted access to. Revoking is permanent; suspending can be undone.</p>
${notice}
<table><thead><tr><th>Grantee</th><th>Data</th><th>Actions</th><th>Purpose</th><th>Expires</th><th>State</th><th></th></tr></thead>
<tbody>
${rows || '<tr><td colspan="7">No grants yet.</td></tr>'}
</tbody></table>
${opts.after ?? ''}
</body></html>`;
}
