import { plainResource, type AccessUse } from '../audit/index.js';
import { escapeHtml } from './consent-page.js';
import type { PartyName } from './consent-view.js';

export interface AccessReportViewOptions {
  /** Formats an ISO time in the person's locale. */
  date?: (iso: string) => string;
  /** How a DID reads on the page (the consent page's namer). */
  name?: (did: string) => PartyName;
  /** The grant's grantee: a use it reported itself is marked so. */
  grantee?: string;
}

/** Uses listed one by one; older ones are counted per verifier. */
const SHOWN_USES = 20;
const plain = (did: string): PartyName => ({ label: did, full: did, kind: 'short' });
const party = (p: PartyName) => `<span title="${escapeHtml(p.full)}">${escapeHtml(p.label)}</span>`;

/**
 * One grant's "reported uses" on the consent page (the card's
 * access-report slot): the uses platforms reported back, newest first, each
 * naming the verifier that decided and who reported it (marked when that is
 * the grantee itself, which reports on its own behalf).
 * What a report proves: the verifier signed that it decided on a
 * presentation of this grant, then. Reporting is voluntary, so the absence of
 * reports proves nothing, and the page says so.
 */
export function renderAccessReports(uses: readonly AccessUse[], options: AccessReportViewOptions = {}): string {
  // `uses` come from accessReports, which keeps a resource or action only as a plain path and an action name.
  if (uses.length === 0) return '<p class="reports-none">No uses reported. Reporting is voluntary: no report does not mean no use.</p>';
  const date = options.date ?? ((iso: string) => iso);
  const name = options.name ?? plain;
  // The newest few in full; the rest counted per verifier, so no verifier is hidden by many reports of others.
  const items = uses.slice(0, SHOWN_USES).map((u) => {
    const what = [u.action, plainResource(u.resource)].filter(Boolean).join(' ');
    const by =
      u.reporter === u.verifier
        ? 'reported by the verifier itself'
        : `reported by ${party(name(u.reporter))}${options.grantee !== undefined && u.reporter === options.grantee ? ' (the grantee itself)' : ''}`;
    const outcome = u.outcome === 'deny' ? 'was refused' : u.outsideGrant ? 'says it used it for something the grant does not cover' : 'used it';
    return `<li data-receipt="${escapeHtml(u.receiptId)}" data-verifier="${escapeHtml(u.verifier)}"${u.outsideGrant ? ' class="outside-grant"' : ''}>${party(name(u.verifier))} ${outcome}: ${escapeHtml(what)}, <time datetime="${escapeHtml(u.at)}">${escapeHtml(date(u.at))}</time>; <span class="reporter">${by}</span></li>`;
  });
  const rest = new Map<string, number>();
  for (const u of uses.slice(SHOWN_USES)) rest.set(u.verifier, (rest.get(u.verifier) ?? 0) + 1);
  const more =
    rest.size === 0
      ? ''
      : `<p class="uses-more">${uses.length - SHOWN_USES} earlier: ${[...rest]
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
          .map(([verifier, n]) => `${party(name(verifier))} (${n})`)
          .join(', ')}.</p>`;
  return `<details><summary>Reported uses (${uses.length})</summary><ul class="uses">${items.join('')}</ul>${more}<p>Platforms may send back signed receipts of each use. Each is the word of the verifier that signed it. Reporting is voluntary: no report does not mean no use.</p></details>`;
}
