import { describe, expect, it } from 'vitest';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { DIRECTORY_MEDIA_TYPE, DIRECTORY_PATH, contentDigest, signDirectory, signatureHeaders, verifyDirectoryResponse, verifyRequestSignature } from '../../src/httpsig/index.js';
import { signatureGuardOptions } from '../../src/httpsig/guard.js';

/**
 * One key, two RFC 9421 signatures: a Web Bot Auth agent's request signature (tag web-bot-auth,
 * covering the request's @authority) and the same agent's key directory response signature (tag
 * http-message-signatures-directory, covering "@authority";req and content-digest of a response).
 * Either one moved onto the other message is refused with a specific code, and each passes where it
 * belongs (so the refusals are the confusion, nothing else).
 */
const kp = generateKeyPair('Ed25519');
const signer = createSigner(kp.privateJwk);
const SITE = 'https://agent.example';
const codes = (d: { reasons: readonly { code: string }[] }) => d.reasons.map((r) => r.code);

describe('a request signature and a directory signature of the same key are not each other', () => {
  it('each verifies where it belongs', async () => {
    const dir = await signDirectory({ keys: [{ jwk: kp.publicJwk, signer }], authority: 'agent.example' });
    expect(verifyDirectoryResponse({ url: `${SITE}${DIRECTORY_PATH}`, status: 200, headers: dir.headers, body: dir.body }).keys).toHaveLength(1);
    const req = { method: 'GET', url: `${SITE}${DIRECTORY_PATH}`, headers: {} as Record<string, string> };
    const h = await signatureHeaders(req, { signer, publicJwk: kp.publicJwk });
    const d = await verifyRequestSignature({ ...req, headers: { ...h } }, { keys: { keys: [kp.publicJwk] } });
    expect([d.ok, codes(d)]).toEqual([true, []]);
  });

  it("the directory's signature on a request to that very URL: no tag asked, SIGNATURE_INVALID; the guard's default tag, SIGNATURE_TAG_MISMATCH", async () => {
    const dir = await signDirectory({ keys: [{ jwk: kp.publicJwk, signer }], authority: 'agent.example' });
    const req = { method: 'GET', url: `${SITE}${DIRECTORY_PATH}`, headers: { ...dir.headers } };
    const bare = await verifyRequestSignature(req, { keys: { keys: [kp.publicJwk] } });
    expect([bare.ok, codes(bare)]).toEqual([false, ['SIGNATURE_INVALID']]);
    const guarded = await verifyRequestSignature(req, { ...signatureGuardOptions({ keys: { keys: [kp.publicJwk] } }) });
    expect([guarded.ok, codes(guarded)]).toEqual([false, ['SIGNATURE_TAG_MISMATCH']]);
  });

  it("the agent's request signature on a directory response (same key, same body digest covered): DIRECTORY_INVALID", async () => {
    const body = JSON.stringify({ keys: [{ ...kp.publicJwk, use: 'sig' }] });
    const req = { method: 'GET', url: `${SITE}${DIRECTORY_PATH}`, headers: { 'content-digest': contentDigest(body) } as Record<string, string> };
    for (const tag of [undefined, 'http-message-signatures-directory']) {
      const h = await signatureHeaders(req, { signer, publicJwk: kp.publicJwk, components: ['@authority', 'content-digest'], ...(tag ? { tag } : {}) });
      const res = { url: `${SITE}${DIRECTORY_PATH}`, status: 200 as const, headers: { 'content-type': DIRECTORY_MEDIA_TYPE, 'content-digest': contentDigest(body), ...h }, body };
      expect(() => verifyDirectoryResponse(res), String(tag)).toThrow(expect.objectContaining({ code: 'DIRECTORY_INVALID' }));
    }
  });
});
