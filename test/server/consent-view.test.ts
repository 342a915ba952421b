import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { dateFormatter, namer, pickLocale, readable, sortGrants, type ConsentGrant } from '../../src/server/consent-view.js';
import { CONSENT_CSS, renderConsentPage, renderRevokeConfirmation } from '../../src/server/consent-page.js';
import { runCli } from '../../src/cli/main.js';
import type { CliContext } from '../../src/cli/io.js';

describe('names on the consent page', () => {
  const name = namer([{ alias: 'alice', did: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK' }]);

  it('reads a home identity as its alias, a did:web as its host and path, anything else as a short form', () => {
    expect(name('did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK')).toEqual({
      label: 'alice',
      full: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK',
      kind: 'alias',
    });
    expect(name('did:web:shop.example').label).toBe('shop.example');
    expect(name('did:web:shop.example%3A8443:users:bob').label).toBe('shop.example:8443/users/bob');
    expect(name('did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH')).toEqual({
      label: 'did:key:z6MkpT…vktH',
      full: 'did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH',
      kind: 'short',
    });
    expect(name('did:web:bad%ZZ').kind).toBe('short');
    expect(name('did:example:abc').label).toBe('did:example:abc');
  });

  it('a name never loses the full DID, whatever the DID looks like', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const n = name(`did:web:${s}`);
        expect(n.full).toBe(`did:web:${s}`);
        expect(n.label.length).toBeGreaterThan(0);
      }),
    );
  });
});

describe('text a grant carries (a purpose a pool member proposed, resources, terms)', () => {
  const tricks = ['\u202E', '\u202D', '\u2066', '\u2067', '\u2068', '\u2069', '\u200E', '\u200F', '\u061C', '\u0007', '\u001b', '\u0000', '\u200B', '\u2028', '\u2029', '\uFEFF'];
  const g: ConsentGrant = {
    id: 'urn:uuid:1',
    grantor: 'did:key:z6MkA',
    format: 'vc+jwt',
    grantee: 'did:web:lab.example',
    resources: ['health/sleep\u202E'],
    actions: ['read'],
    purpose: `study \u202Eevil\u0007\u001b[31m end`,
    expires: '2030-01-02T03:04:05Z',
    state: 'active',
  };
  const view = { token: 't', link: (p: string) => p, name: namer([]), date: (iso: string) => `DATE ${iso}`, locale: 'en', grants: [g], filter: 'all' as const };

  it('shows no control, bidi or invisible character; each as U+FFFD, tabs and new lines as a space; plain text (emoji, Arabic, accents) unchanged', () => {
    for (const c of tricks) expect([c.codePointAt(0), readable(`a${c}b`)]).toEqual([c.codePointAt(0), 'a\uFFFDb']);
    expect(readable('a\tb\nc\r\nd')).toBe('a b c  d');
    for (const plain of ['Schlafstudie für Ärzte', 'دراسة النوم', '睡眠研究', 'study 👩‍🔬 data']) expect(readable(plain)).toBe(plain);
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (x) => !/(?![\u200C\u200D])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|\p{Bidi_Control}/u.test(readable(x))));
  });

  it('the page and the revoke question carry none of them, and the purpose is isolated from the date after it', () => {
    for (const html of [renderConsentPage(view), renderRevokeConfirmation(view, g, 60)]) {
      const body = html.slice(html.indexOf('<main>'));
      for (const c of tricks) expect([c.codePointAt(0), body.includes(c)]).toEqual([c.codePointAt(0), false]);
    }
    expect(renderRevokeConfirmation(view, g, 60)).toContain('for “<bdi>study \uFFFDevil\uFFFD\uFFFD[31m end</bdi>”, until');
  });
});

describe('the locale of the dates', () => {
  it('takes the supported language tag with the highest q, in order of appearance on ties, and English otherwise', () => {
    expect(pickLocale('fr-CH;q=0.2, de-DE, en;q=0.5')).toBe('de-DE');
    expect(pickLocale('ja;q=0.9, fr;q=0.9')).toBe('ja');
    expect(pickLocale('*, x-@@;q=1')).toBe('en');
    expect(pickLocale('de;q=0')).toBe('en');
    expect(pickLocale(undefined)).toBe('en');
    expect(pickLocale('')).toBe('en');
  });

  it('never throws on any header', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 600 }), (h) => {
        expect(typeof pickLocale(h)).toBe('string');
      }),
    );
  });

  it('formats a time in that locale and zone, and leaves a non-date as it is', () => {
    expect(dateFormatter('de-DE', 'Europe/Berlin')('2027-01-01T00:00:00Z')).toBe('1. Jan. 2027, 01:00 MEZ');
    expect(dateFormatter('en-GB', 'UTC')('2027-01-01T00:00:00Z')).toBe('1 Jan 2027, 00:00 UTC');
    expect(dateFormatter('en', 'UTC')('not a date')).toBe('not a date');
  });
});

describe('order of grants', () => {
  it('live grants first (newest first), then paused, expired, revoked', () => {
    const g = (id: string, state: ConsentGrant['state'], issued: string): ConsentGrant => ({
      id,
      format: 'vc+jwt',
      state,
      issued,
      grantor: 'a',
      grantee: 'b',
      resources: [],
      actions: [],
      purpose: '',
    });
    const sorted = sortGrants([
      g('1', 'revoked', '2026-03'),
      g('2', 'active', '2026-01'),
      g('3', 'expired', '2026-05'),
      g('4', 'active', '2026-02'),
      g('5', 'suspended', '2026-01'),
    ]);
    expect(sorted.map((x) => x.id)).toEqual(['4', '2', '5', '3', '1']);
  });
});

/** WCAG 2.2 relative luminance and contrast ratio (§1.4.3, §1.4.11). */
function luminance(hex: string): number {
  const h = hex.length === 4 ? hex.replace(/[0-9a-f]/gi, (c) => c + c).slice(1) : hex.slice(1);
  const [r, g, b] = [0, 2, 4].map((i) => {
    const c = parseInt(h.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
const contrast = (a: string, b: string) => {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p) as [number, number];
  return (x + 0.05) / (y + 0.05);
};

describe('the palette (checked here too, so it holds where no browser runs)', () => {
  const rules = [...CONSENT_CSS.matchAll(/([^{}]+)\{([^{}]*)\}/g)].map((m) => ({ selector: m[1]!.trim(), body: m[2]! }));
  const prop = (body: string, name: string) => new RegExp(`(?:^|;)${name}:(#[0-9a-f]{3,6})`, 'i').exec(body)?.[1];
  const page = prop(rules.find((r) => r.selector === 'body')!.body, 'background')!;

  it('every rule that sets a text colour and a background reaches 4.5:1', () => {
    const pairs = rules.flatMap((r) => {
      const fg = prop(r.body, 'color');
      const bg = prop(r.body, 'background');
      return fg && bg ? [{ selector: r.selector, ratio: contrast(fg, bg) }] : [];
    });
    expect(pairs.length).toBeGreaterThanOrEqual(8);
    for (const p of pairs) expect(p.ratio, p.selector).toBeGreaterThanOrEqual(4.5);
  });

  it('text without its own background reaches 4.5:1 on the page and on a card; the focus ring 3:1', () => {
    for (const r of rules) {
      const fg = prop(r.body, 'color');
      if (!fg || prop(r.body, 'background')) continue;
      expect(contrast(fg, page), r.selector).toBeGreaterThanOrEqual(4.5);
      expect(contrast(fg, '#ffffff'), r.selector).toBeGreaterThanOrEqual(4.5);
    }
    const ring = /:focus-visible\{outline:3px solid (#[0-9a-f]{6})/.exec(CONSENT_CSS)![1]!;
    expect(contrast(ring, page)).toBeGreaterThanOrEqual(3);
  });
});

describe('charter serve --status-max-age', () => {
  const run = async (args: string[]) => {
    let code = 0;
    const err: string[] = [];
    const ctx: CliContext = {
      stdout: () => undefined,
      stderr: (s) => void err.push(s),
      env: {},
      stdin: process.stdin,
      setExitCode: (c) => void (code = c),
      openHome: () => Promise.reject(new Error('not reached')),
    };
    await runCli(args, ctx);
    return { code, err: err.join('\n') };
  };

  it('refuses anything but a whole number of seconds (exit 2), before opening the home', async () => {
    for (const bad of ['-1', '1.5', 'ten', '']) {
      const r = await run(['serve', '--status-max-age', bad]);
      expect(r.code, bad).toBe(2);
      expect(r.err).toMatch(/\[INVALID_ARGUMENT\]/);
    }
  });
});
