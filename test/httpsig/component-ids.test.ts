import { describe, expect, it } from 'vitest';
import { ComponentError, parseComponentId } from '../../src/httpsig/components.js';

/**
 * Covered component identifiers are checked strictly as Signature-Input is
 * read (RFC 9421 §2, §2.1, §2.2, §2.4; mutation testing of
 * src/httpsig/components.ts found each check below could go with no test
 * failing): a parameter that does not apply, a flag with a value, a field
 * name in upper case or with a space, a @query-param without a name.
 */
describe('component identifiers', () => {
  it('well-formed identifiers parse', () => {
    for (const id of ['"@method"', '"@authority";req', '"@query-param";name="id"', '"content-digest"', '"signature-agent";key="a"', '"x-a";sf', '"x-a";bs', '"x-a";req;sf']) {
      expect(() => parseComponentId(id), id).not.toThrow();
    }
  });

  it('malformed ones are ComponentErrors', () => {
    for (const id of [
      // §2.2: derived components take no field parameters.
      '"@method";sf',
      '"@path";key="a"',
      '"@authority";name="x"',
      // §2.4 / §2.1: req, sf, bs, tr are boolean flags.
      '"@authority";req="x"',
      '"@authority";req=?0',
      '"x-a";sf="yes"',
      '"x-a";bs=1',
      // §2.2.8: @query-param needs its name.
      '"@query-param"',
      // §2.1: a field name is lower case, a token.
      '"X-A"',
      '"x a"',
      '"x-a:"',
      // §2.1.3: bs takes the raw lines; sf and key the parsed structure.
      '"x-a";bs;sf',
      '"x-a";key="k";bs',
      // An unknown component parameter.
      '"x-a";zz',
    ]) {
      expect(() => parseComponentId(id), id).toThrow(ComponentError);
    }
  });
});
