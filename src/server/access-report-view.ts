import { ACTION_NAME, plainResource, type AccessUse } from '../audit/index.js';
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
  if (uses.length === 0) return '<p class="reports-none">No uses reported. Reporting is voluntary: no report does not mean no use.</p>';
  const date = options.date ?? ((iso: string) => iso);
  const name = options.name ?? plain;
  const items = uses.map((u) => {
    const action = u.action !== undefined && ACTION_NAME.test(u.action) ? u.action : undefined;
    const resource = plainResource(u.resource);
    const what = [
      action ?? (u.action !== undefined ? '(an action not shown)' : undefined),
      resource ?? (u.resource !== undefined ? '(a resource whose name is not a plain path)' : undefined),
    ]
      .filter(Boolean)
      .join(' ');
    const by =
      u.reporter === u.verifier
        ? 'reported by the verifier itself'
        : `reported by ${party(name(u.reporter))}${options.grantee !== undefined && u.reporter === options.grantee ? ' (the grantee itself)' : ''}`;
    return `<li data-receipt="${escapeHtml(u.receiptId)}" data-verifier="${escapeHtml(u.verifier)}">${party(name(u.verifier))} ${u.outcome === 'allow' ? 'used it' : 'was refused'}: ${escapeHtml(what)}, <time datetime="${escapeHtml(u.at)}">${escapeHtml(date(u.at))}</time>; <span class="reporter">${by}</span></li>`;
  });
  return `<details><summary>Reported uses (${uses.length})</summary><ul class="uses">${items.join('')}</ul><p>Platforms may send back signed receipts of each use. Each is the word of the verifier that signed it. Reporting is voluntary: no report does not mean no use.</p></details>`;
}
