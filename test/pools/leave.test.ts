import { describe, expect, it } from 'vitest';
import { createResolver, didKeyRef } from '../../src/did/index.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { signJwt } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { LEAVE_TYP, signLeave, verifyLeave } from '../../src/pools/index.js';

/*
 * A leave request names the membership's status entry (acceptedStatus): one
 * naming anything else could never withdraw a membership, so neither the
 * library's signer nor the pool's reader takes it (no key material, no store).
 */

const party = (): Issuer => {
  const kp = generateKeyPair();
  return { ...didKeyRef('key', kp.publicJwk), signer: createSigner(kp.privateJwk) };
};
const resolver = createResolver();
const MEMBER = party();
const POOL = party();
const ENTRY = 'https://pool.example/status/abc#123';

const BAD_STATUS: unknown[] = [
  '',
  ' ',
  'x',
  'https://pool.example/status/abc',
  'https://pool.example/status/abc#',
  'https://pool.example/status/abc#01',
  'https://pool.example/status/abc#-1',
  'https://pool.example/status/abc#1.5',
  'https://pool.example/status/abc#12345678901',
  'ftp://pool.example/status/abc#1',
  'https://pool.example/status/abc#1\n',
  'https://pool.example/st atus#1',
  123,
  null,
  undefined,
  ['https://pool.example/status/abc#1'],
];
const BAD_POOL: unknown[] = ['', 'pool', 'did:key:', 'did:key:zNotBase58!', `${POOL.did}#key-1`, ` ${POOL.did}`, 42, null];

describe('pool leave requests: the status entry and the pool are checked where they are signed and read', () => {
  it('signs and reads back a well-formed request', async () => {
    const notice = await signLeave(MEMBER, POOL.did, ENTRY);
    await expect(verifyLeave(notice, POOL.did, resolver)).resolves.toEqual({ member: MEMBER.did, status: ENTRY });
  });

  it.each(BAD_STATUS.map((s) => [JSON.stringify(s) ?? String(s), s]))('signLeave refuses the status %s (INVALID_ARGUMENT)', async (_, status) => {
    await expect(signLeave(MEMBER, POOL.did, status as string)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it.each(BAD_POOL.map((p) => [JSON.stringify(p), p]))('signLeave refuses the pool %s (INVALID_DID)', async (_, pool) => {
    await expect(signLeave(MEMBER, pool as string, ENTRY)).rejects.toMatchObject({ code: 'INVALID_DID' });
  });

  it.each(BAD_STATUS.map((s) => [JSON.stringify(s) ?? String(s), s]))('verifyLeave refuses a request signed by hand with the status %s', async (_, status) => {
    const payload: Record<string, unknown> = { iss: MEMBER.did, sub: POOL.did, iat: Math.floor(Date.now() / 1000) };
    if (status !== undefined) payload.status = status;
    const notice = await signJwt({ typ: LEAVE_TYP }, payload, MEMBER.signer, MEMBER.kid);
    await expect(verifyLeave(notice, POOL.did, resolver)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
