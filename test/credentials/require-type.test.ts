import { describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { issueCredential, verifyCredential } from '../../src/credentials/index.js';
import { makeIssuer } from '../helpers.js';

/**
 * `requireType` is how a caller says what a credential must be (a status list
 * credential, a receipt, a vote): a credential of another type is refused
 * with INVALID_CREDENTIAL, whatever else about it is right. Types are
 * compared whole, never as substrings or case-folded.
 */
const resolver = createResolver();
const alice = makeIssuer();
const codes = async (jwt: string, requireType: string) => (await verifyCredential(jwt, { resolver, requireType })).reasons.map((r) => r.code);

describe('verifyCredential requireType', () => {
  it.each(['vc+jwt', 'vc-jwt-1.1'] as const)('%s: its own types pass, any other type is INVALID_CREDENTIAL', async (format) => {
    const vc = await issueCredential({ issuer: alice, subject: alice.did, type: 'EmailCredential', claims: { email: 'a@example.com' }, format });
    expect(await codes(vc.jwt, 'EmailCredential')).toEqual([]);
    expect(await codes(vc.jwt, 'VerifiableCredential')).toEqual([]);
    for (const other of ['BitstringStatusListCredential', 'Email', 'emailcredential', 'EmailCredential ', 'Credential', '']) {
      expect([other, await codes(vc.jwt, other)]).toEqual([other, ['INVALID_CREDENTIAL']]);
    }
  });
});
