import { describe, expect, it } from 'vitest';
import { readEntry } from '../../src/status/entry.js';
import { isCharterError } from '../../src/errors.js';

/**
 * Bitstring Status List §2.1: an entry's `id`, a URL when present, MUST NOT be the URL of the
 * status list. Compared as URLs: another spelling of the list's URL is the
 * list too; a fragment (the usual `…#7`) makes another URL.
 */
const LIST = 'https://lists.example/l/2';
const entry = (id: unknown) => ({ id, type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '7', statusListCredential: LIST });
const codeOf = (id: unknown) => {
  try {
    readEntry(entry(id));
    return 'ok';
  } catch (e) {
    return isCharterError(e) ? e.code : 'thrown';
  }
};

describe('the status entry id is not the list', () => {
  it.each([LIST, 'HTTPS://LISTS.EXAMPLE/l/2', 'https://lists.example:443/l/2', 'https://lists.example/l/./2', 'https://lists.example/x/../l/2', 'https://Lists.Example/l/2'])(
    '%s is the list: refused',
    (id) => expect(codeOf(id)).toBe('STATUS_INVALID'),
  );

  it.each([`${LIST}#7`, 'urn:uuid:5a1e3b3e-0f4a-4c55-9f1b-3b6e2b9f3c11', 'https://lists.example/l/3', 'https://lists.example/l/2/'])('%s is another URL: accepted', (id) =>
    expect(codeOf(id)).toBe('ok'),
  );

  it.each(['', 'x', '7', '#7', '/l/2#7', 'lists.example/l/2#7', ' https://lists.example/l/2#7', 'https://', 'did'])('%j is no URL (VCDM 2.0 §4.4): refused', (id) =>
    expect(codeOf(id)).toBe('STATUS_INVALID'),
  );

  it('an id that is no string is refused', () => {
    for (const id of [5, null, {}, [LIST]]) expect(codeOf(id)).toBe('STATUS_INVALID');
  });
});
