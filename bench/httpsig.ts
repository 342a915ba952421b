import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { httpbis, createVerifier as dhVerifier } from 'http-message-signatures';
import { verify as cfVerify } from 'web-bot-auth';
import { createSigner, generateKeyPair } from '../src/keys/index.js';
import { signRequest, verifyRequestSignature } from '../src/httpsig/index.js';
import { parseSignatureInput, signatureBase } from '../src/httpsig/base.js';
import { requestContext } from '../src/httpsig/sign.js';
import { parseDictionary } from 'structured-headers';
import { opsPerSecond, printTable, ratio } from './measure.js';

/** RFC 9421 request verification (keys given, no directory fetch) against a bare Ed25519 verify and two peers. */
export async function benchHttpsig(ms = 1500): Promise<Record<string, number>> {
  const kp = generateKeyPair('Ed25519');
  const signer = createSigner(kp.privateJwk);
  const keys = { keys: [kp.publicJwk] };
  const req = { method: 'GET', url: 'https://shop.example/items/42?page=2', headers: { accept: 'application/json' } as Record<string, string> };
  // Covers @authority and the whole Signature-Agent field, so every peer computes the same base.
  const signed = await signRequest(req, {
    signer,
    publicJwk: kp.publicJwk,
    signatureAgent: 'https://agent.example',
    expiresInSeconds: 3600,
    components: ['@method', '@authority', '@path', '@query', 'signature-agent'],
  });

  const label = 'sig1';
  const input = parseSignatureInput(parseDictionary(signed.headers['signature-input']!).get(label)!);
  const base = Buffer.from(signatureBase(input, requestContext(signed)), 'ascii');
  const sig = Buffer.from(/:(.*):/.exec(signed.headers.signature!)![1]!, 'base64');
  const keyObject = createPublicKey({ key: { ...kp.publicJwk }, format: 'jwk' });
  if (!nodeVerify(null, base, keyObject, sig)) throw new Error('bench setup: signature does not verify');
  if (!(await verifyRequestSignature(signed, { keys })).ok) throw new Error('bench setup: Charter refuses the request');

  const dhKey = { id: 'k', algs: ['ed25519'], verify: dhVerifier(keyObject, 'ed25519') };
  const dhConfig = { keyLookup: async () => dhKey };
  if ((await httpbis.verifyMessage(dhConfig, signed)) !== true) throw new Error('bench setup: http-message-signatures refuses the request');
  const webKey = await crypto.subtle.importKey('jwk', { ...kp.publicJwk }, { name: 'Ed25519' }, false, ['verify']);
  const cf = () =>
    cfVerify(signed, async (data, s) => {
      if (!(await crypto.subtle.verify('Ed25519', webKey, s as Uint8Array<ArrayBuffer>, new TextEncoder().encode(data)))) throw new Error('invalid');
    });
  await cf();

  const a = await opsPerSecond(() => nodeVerify(null, base, keyObject, sig), ms);
  const c = await opsPerSecond(() => verifyRequestSignature(signed, { keys }), ms);
  const d = await opsPerSecond(() => httpbis.verifyMessage(dhConfig, signed), ms);
  const e = await opsPerSecond(cf, ms);
  printTable('HTTP message signatures (RFC 9421, Ed25519, keys given, no fetch)', [
    { name: '(a) node:crypto Ed25519 verify of the same signature base', opsPerSec: a, note: 'the floor' },
    { name: '(c) Charter verifyRequestSignature', opsPerSec: c },
    { name: '(d) http-message-signatures verifyMessage (node:crypto)', opsPerSec: d },
    { name: '(e) web-bot-auth verify (WebCrypto)', opsPerSec: e },
  ]);
  console.log(`  ratios: c/a = ${ratio(c, a)}, c/d = ${ratio(c, d)}, c/e = ${ratio(c, e)}`);
  return { a, c, d, e };
}
