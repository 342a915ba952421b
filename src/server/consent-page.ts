import { createHash } from 'node:crypto';
import { FILTERS, readable, type ConsentFilter, type ConsentGrant, type PartyName } from './consent-view.js';
import { describeTerms } from '../grants/index.js';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESC[c]!);

/**
 * The page's only style sheet. Its hash is what the CSP allows (no
 * 'unsafe-inline', no script at all). Colours meet WCAG 2.2 AA contrast (the
 * browser test checks them); touch targets are at least 44 px; one column on a
 * phone.
 */
export const CONSENT_CSS = `*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b;background:#f4f5f7}
main{max-width:52rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;line-height:1.25;margin:.5rem 0}
.lead{margin:.25rem 0 1rem;color:#3b3b3b}
a{color:#1a4fb8}
.filters ul{list-style:none;display:flex;flex-wrap:wrap;gap:.5rem;padding:0;margin:0 0 1rem}
.filters a{display:inline-block;min-height:44px;padding:.55rem .9rem;border:1px solid #6b6f76;border-radius:999px;color:#1b1b1b;background:#fff;text-decoration:none}
.filters a[aria-current=page]{background:#1b1b1b;border-color:#1b1b1b;color:#fff}
.grants{list-style:none;padding:0;margin:0;display:grid;gap:1rem}
.grant{background:#fff;border:1px solid #c9cdd3;border-radius:.5rem;padding:1rem}
.grant h2{font-size:1.15rem;line-height:1.35;margin:0 0 .5rem;overflow-wrap:anywhere}
.state{display:inline-block;font-size:.875rem;font-weight:600;padding:.1rem .6rem;border-radius:999px;border:1px solid currentColor}
.state-active{background:#e6f3ea;color:#0a5a26}
.state-suspended{background:#fff3d1;color:#6a4300}
.state-revoked{background:#fbe6e6;color:#8c1616}
.state-expired{background:#eceef1;color:#3d4046}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:.75rem 0}
dt{color:#4a4d52}
dd{margin:0;overflow-wrap:anywhere}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:.75rem}
.actions form{margin:0}
button,.button{font:inherit;display:inline-block;min-height:44px;padding:.55rem 1rem;border-radius:.375rem;border:1px solid #1b1b1b;background:#fff;color:#1b1b1b;cursor:pointer;text-decoration:none;line-height:1.5}
.danger{background:#a3161a;border-color:#a3161a;color:#fff}
:focus-visible{outline:3px solid #1a4fb8;outline-offset:2px}
.notice{background:#e6f3ea;border-left:4px solid #0a5a26;padding:.75rem 1rem;margin:0 0 1rem}
.warning{background:#fbe6e6;border-left:4px solid #8c1616;padding:.75rem 1rem}
details{margin-top:.5rem}
summary{cursor:pointer;color:#3b3b3b;min-height:44px;padding:.55rem 0}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.875rem;overflow-wrap:anywhere}
.empty{padding:1rem;background:#fff;border:1px dashed #6b6f76;border-radius:.5rem}
.vh{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
@media (min-width:40rem){main{padding:2rem}}`;

/** `style-src` for the CSP: the hash of CONSENT_CSS, so no other style can apply. */
export const CONSENT_STYLE_SRC = `'sha256-${createHash('sha256').update(CONSENT_CSS).digest('base64')}'`;

export interface ConsentView {
  grants: ConsentGrant[];
  /** The page's form token; '' on a page opened without the key (read-only: no controls). */
  token: string;
  /** A link to this page (path and query), keeping the page's key when it has one. */
  link: (path: string, params?: Record<string, string>) => string;
  name: (did: string) => PartyName;
  /** Formats an ISO time in the person's locale. */
  date: (iso: string) => string;
  locale: string;
  filter: ConsentFilter;
  notice?: { action: 'revoked' | 'suspended' | 'resumed'; grant?: ConsentGrant | undefined } | undefined;
  /**
   * The per-grant slot for access reports (what a platform says it did with the
   * grant): HTML to show under the grant, already escaped, or undefined. Left
   * empty until reports exist; the slot is always in the page.
   */
  accessReports?: (grant: ConsentGrant) => string | undefined;
}

const STATE_TEXT: Record<ConsentGrant['state'], string> = { active: 'Active', suspended: 'Paused', revoked: 'Revoked', expired: 'Expired' };
const FILTER_TEXT: Record<ConsentFilter, string> = { all: 'All', active: 'Active', suspended: 'Paused', expired: 'Expired', revoked: 'Revoked' };
const DONE_TEXT = { revoked: 'Revoked for good', suspended: 'Paused', resumed: 'Resumed' } as const;

function party(p: PartyName): string {
  return p.kind === 'short' ? `<abbr title="${escapeHtml(p.full)}">${escapeHtml(p.label)}</abbr>` : `<span title="${escapeHtml(p.full)}">${escapeHtml(p.label)}</span>`;
}

function time(v: ConsentView, iso: string | undefined): string {
  return iso ? `<time datetime="${escapeHtml(iso)}" lang="${escapeHtml(v.locale)}">${escapeHtml(v.date(iso))}</time>` : '—';
}

/** "shop.example can read profile/email" ("could", once it ended): the sentence a person scans for. */
function headline(v: ConsentView, g: ConsentGrant): string {
  const modal = g.state === 'revoked' || g.state === 'expired' ? 'could' : 'can';
  return `${party(v.name(g.grantee))} ${modal} ${shown(g.actions.join(', ') || 'use')} ${shown(g.resources.join(', '))}`;
}

/** Text a grant carries, escaped, with nothing in it that reorders or hides what follows. */
const shown = (s: string): string => escapeHtml(readable(s));

/** The grant's terms of use in plain words (retention, onward sharing, processing, compensation), when it has any. */
function terms(g: ConsentGrant): string {
  const lines = describeTerms(g.terms);
  return lines.length ? `<dt>Terms</dt><dd><ul class="terms">${lines.map((t) => `<li>${shown(t)}</li>`).join('')}</ul></dd>` : '';
}

/** What a page opened without its key says instead of its controls. */
const readOnly = (what: string): string => `<p class="lead readonly" role="note">This page is read-only. To ${what}, open the link <code>charter serve</code> printed.</p>`;

function hidden(name: string, value: string): string {
  return `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;
}

function post(action: 'suspend' | 'resume', g: ConsentGrant, v: ConsentView, label: string, target: string): string {
  return `<form method="post" action="/consent/${action}">${hidden('id', g.id)}${hidden('token', v.token)}<button type="submit" data-action="${action}">${label}<span class="vh"> ${target}</span></button></form>`;
}

/** Whether the grant can be paused and resumed: a vc+jwt grant can; an SD-JWT grant (one status bit) can only be revoked. */
export const pausable = (g: Pick<ConsentGrant, 'format'>): boolean => g.format !== 'dc+sd-jwt';

function controls(v: ConsentView, g: ConsentGrant, target: string): string {
  if (g.state !== 'active' && g.state !== 'suspended') return '';
  // A page opened without the key changes nothing: it shows no control (the header says how to get them).
  if (v.token === '') return '';
  // A pool's grant is the members' joint decision: the pool's threshold revokes it, never one person here.
  if (g.pool !== undefined) return `<p class="pool">Decided by the pool's members: <code>charter pool revoke</code> ends it with their votes.</p>`;
  // An SD-JWT grant's Token Status List has one bit (revoked or not): it cannot be paused, so no Pause is offered.
  const pause = !pausable(g) ? '' : g.state === 'active' ? post('suspend', g, v, 'Pause', target) : post('resume', g, v, 'Resume', target);
  // Revoking is permanent, so it leads to a confirmation page first (a link: nothing changes yet).
  const revoke = `<a class="button danger" data-action="revoke" href="${escapeHtml(v.link('/consent/revoke', { id: g.id }))}">Revoke…<span class="vh"> ${target}</span></a>`;
  const note = pausable(g) ? '' : '<p class="no-pause">This grant can only be revoked, not paused (an SD-JWT grant has no paused state).</p>';
  return `<div class="actions">${pause}${revoke}</div>${note}`;
}

function card(v: ConsentView, g: ConsentGrant): string {
  const grantee = v.name(g.grantee);
  const target = escapeHtml(readable(`${grantee.label}'s access to ${g.resources.join(', ')}`));
  const headingId = `g-${createHash('sha256').update(g.id).digest('hex').slice(0, 12)}`;
  const reports = v.accessReports?.(g) ?? '';
  return `<li class="grant" data-grant="${escapeHtml(g.id)}" data-state="${g.state}" aria-labelledby="${headingId}">
<h2 id="${headingId}">${headline(v, g)}</h2>
<span class="state state-${g.state}">${STATE_TEXT[g.state]}</span>
<dl>
<dt>Purpose</dt><dd>${g.purpose ? `<bdi>${shown(g.purpose)}</bdi>` : '—'}</dd>
${terms(g)}
<dt>Given by</dt><dd>${party(v.name(g.grantor))}</dd>
<dt>Given on</dt><dd>${time(v, g.issued)}</dd>
<dt>${g.state === 'expired' ? 'Ended' : 'Until'}</dt><dd>${time(v, g.expires)}</dd>
<dt>Grant id</dt><dd><code>${escapeHtml(g.id)}</code></dd>
</dl>
${controls(v, g, target)}
<div class="reports" data-slot="access-reports">${reports}</div>
<details><summary>Technical details<span class="vh"> of ${target}</span></summary>
<dl><dt>To</dt><dd><code>${escapeHtml(g.grantee)}</code></dd><dt>From</dt><dd><code>${escapeHtml(g.grantor)}</code></dd></dl>
</details>
</li>`;
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CONSENT_CSS}</style>
</head><body><main>
${body}
</main></body></html>`;
}

/** The consent page: every grant the person gave, filterable, each with its controls. */
export function renderConsentPage(v: ConsentView): string {
  const counts = Object.fromEntries(FILTERS.map((f) => [f, f === 'all' ? v.grants.length : v.grants.filter((g) => g.state === f).length])) as Record<ConsentFilter, number>;
  const nav = FILTERS.map(
    (f) =>
      `<li><a href="${escapeHtml(v.link('/consent', f === 'all' ? {} : { show: f }))}"${f === v.filter ? ' aria-current="page"' : ''}>${FILTER_TEXT[f]} <span>(${counts[f]})</span></a></li>`,
  ).join('');
  const shown = v.grants.filter((g) => v.filter === 'all' || g.state === v.filter);
  let notice = '';
  if (v.notice) {
    const what = v.notice.grant ? `: ${v.name(v.notice.grant.grantee).label}'s access to ${v.notice.grant.resources.join(', ')}` : '';
    notice = `<p class="notice" role="status">${DONE_TEXT[v.notice.action]}${escapeHtml(what)}.</p>`;
  }
  const list = shown.length
    ? `<ul class="grants">\n${shown.map((g) => card(v, g)).join('\n')}\n</ul>`
    : `<p class="empty">${v.grants.length ? `No ${FILTER_TEXT[v.filter].toLowerCase()} grants.` : 'You have not given any grants yet. <code>charter grant issue</code> gives one.'}</p>`;
  return layout(
    'Your data grants: Charter',
    `<h1>Who can use your data</h1>
<p class="lead">Every app or service you gave access to, what it may do, and until when. Pausing can be undone; revoking is permanent.</p>
${notice}${v.token === '' ? `\n${readOnly('pause, resume or revoke')}` : ''}
<nav class="filters" aria-label="Show grants"><ul>${nav}</ul></nav>
${list}`,
  );
}

/** The step between Revoke and revoked: says what will happen and that it cannot be undone. */
export function renderRevokeConfirmation(v: Pick<ConsentView, 'token' | 'link' | 'name' | 'date' | 'locale'>, g: ConsentGrant, staleSeconds: number | undefined): string {
  const grantee = v.name(g.grantee);
  const view = { ...v, grants: [], filter: 'all' as const };
  const stale =
    staleSeconds && staleSeconds > 0
      ? ` A service that checked it in the last ${staleSeconds >= 120 ? `${Math.round(staleSeconds / 60)} minutes` : `${staleSeconds} seconds`} may still let ${escapeHtml(grantee.label)} in until its copy of your list runs out.`
      : '';
  return layout(
    'Revoke this grant? Charter',
    `<h1>Revoke this grant?</h1>
<p>${headline(view, g)}${g.purpose ? `, for “<bdi>${shown(g.purpose)}</bdi>”` : ''}, until ${time(view, g.expires)}.</p>
<p class="warning"><strong>This is permanent.</strong> This grant can never be used again, and you cannot undo it: to allow ${escapeHtml(grantee.label)} again later, give a new grant.${stale}</p>
<div class="actions">
${
  // Read-only without the page's key: the question, and how to answer it, but no form.
  v.token === ''
    ? readOnly('revoke')
    : `<form method="post" action="/consent/revoke">${hidden('id', g.id)}${hidden('token', v.token)}${hidden('confirm', 'yes')}<button type="submit" class="danger" data-action="confirm-revoke">Revoke for good</button></form>`
}
<a class="button" href="${escapeHtml(v.link('/consent'))}" data-action="cancel">Cancel, keep it</a>
</div>
${g.state === 'active' && pausable(g) ? '<p>To pause it instead (that can be undone), go back and choose Pause.</p>' : ''}`,
  );
}

/**
 * The answer to a Pause or Resume posted for a grant that cannot be paused (an
 * SD-JWT grant: an old page, a hand-made form): says why, and the way back.
 */
export function renderNotPausable(v: Pick<ConsentView, 'link' | 'name' | 'date' | 'locale'>, g: ConsentGrant): string {
  const view = { ...v, token: '', grants: [], filter: 'all' as const };
  return layout(
    'This grant cannot be paused: Charter',
    `<h1>This grant cannot be paused</h1>
<p>${headline(view, g)}. It was given as an SD-JWT grant, which has no paused state: it stays active until it ends or you revoke it. Nothing was changed.</p>
<div class="actions">
${g.state === 'active' ? `<a class="button danger" data-action="revoke" href="${escapeHtml(v.link('/consent/revoke', { id: g.id }))}">Revoke…</a>` : ''}
<a class="button" href="${escapeHtml(v.link('/consent'))}" data-action="cancel">Back to your grants</a>
</div>`,
  );
}
