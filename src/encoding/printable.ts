/**
 * Characters text from others is never shown or signed with as they are:
 * controls (C0, DEL, C1: newline, carriage return, ESC), format characters
 * (zero-width, bidi marks, overrides and isolates, U+061C, U+FEFF), line and
 * paragraph separators, lone surrogates, default-ignorable characters, and
 * every space but U+0020. Any of them can forge a line of output, hide a word
 * or reorder what a person reads.
 */
const UNPRINTABLE_SOURCE = String.raw`[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\p{Bidi_Control}]|[^\S ]`;

/** Does `s` hold a character of the set above? */
export const hasUnprintable = (s: string): boolean => new RegExp(UNPRINTABLE_SOURCE, 'u').test(s);

/** `\u000a`, or `\u{e0041}` beyond the BMP: visible, and never a character that moves the cursor or reorders the line. */
function escaped(c: string): string {
  const cp = c.codePointAt(0)!;
  return cp <= 0xffff ? `\\u${cp.toString(16).padStart(4, '0')}` : `\\u{${cp.toString(16)}}`;
}

const ALL = new RegExp(UNPRINTABLE_SOURCE, 'gu');
const BUT_NEWLINE_AND_TAB = new RegExp(String.raw`(?![\n\t])(?:${UNPRINTABLE_SOURCE})`, 'gu');

/** `s` on one line: every character of the set above a visible `\uXXXX` escape. */
export const escapeUnprintable = (s: string): string => s.replace(ALL, escaped);

/** A whole document: newlines and tabs kept, every other character of the set escaped. */
export const escapeUnprintableText = (s: string): string => s.replace(BUT_NEWLINE_AND_TAB, escaped);
