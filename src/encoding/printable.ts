/**
 * Characters text from others is never shown or signed with as they are:
 * controls (C0, DEL, C1: newline, carriage return, ESC, NEL), format
 * characters (zero-width space, bidi marks, overrides and isolates, U+061C,
 * U+FEFF, tags), line and paragraph separators, lone surrogates and other
 * default-ignorable characters (Hangul fillers). Any of them can forge a line
 * of output, hide a word or reorder what a person reads. Spaces other than
 * U+0020 (no-break, narrow) stay: they neither break a line nor hide text.
 * The joiners and variation selectors emoji and scripts need (ZWNJ, ZWJ,
 * VS15, VS16) stay too when they follow a character that stays: `👩‍💻`,
 * `☁️`, Persian `می‌خواهد`; leading, doubled or alone they are escaped.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\p{Bidi_Control}]/u;
const JOINERS = new Set([0x200c, 0x200d, 0xfe0e, 0xfe0f]);

/** `\u000a`, or `\u{e0041}` beyond the BMP: visible, and never a character that moves the cursor or reorders the line. */
function escaped(c: string): string {
  const cp = c.codePointAt(0)!;
  return cp <= 0xffff ? `\\u${cp.toString(16).padStart(4, '0')}` : `\\u{${cp.toString(16)}}`;
}

/** `s` with each character of the set above replaced by `unsafe(c)` (newline and tab kept when asked). */
function scan(s: string, keepNewlineAndTab: boolean, unsafe: (c: string) => string): string {
  let out = '';
  let prevShown = false;
  for (const c of s) {
    const cp = c.codePointAt(0)!;
    const joiner = JOINERS.has(cp);
    const ok: boolean = keepNewlineAndTab && (c === '\n' || c === '\t') ? true : joiner ? prevShown : !UNPRINTABLE.test(c);
    out += ok ? c : unsafe(c);
    // A joiner joins what follows to a shown character; two in a row are not a sequence any script writes.
    prevShown = ok && !joiner && c !== '\n' && c !== '\t';
  }
  return out;
}

/** Does `s` hold a character of the set above? */
export function hasUnprintable(s: string): boolean {
  let found = false;
  scan(s, false, (c) => ((found = true), c));
  return found;
}

/** `s` on one line: every character of the set above a visible `\uXXXX` escape. */
export const escapeUnprintable = (s: string): string => scan(s, false, escaped);

/** A whole document: newlines and tabs kept, every other character of the set escaped. */
export const escapeUnprintableText = (s: string): string => scan(s, true, escaped);
