import { beforeAll, describe, expect, it } from 'vitest';
import { serializeInnerList, serializeItem, type BareItem } from 'structured-headers';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import type { PublicJwk, Signer } from '../../src/keys/types.js';
import { createSignature, signatureHeaders } from '../../src/httpsig/sign.js';
import { parseComponentId, type MessageContext } from '../../src/httpsig/components.js';
import { contentDigest } from '../../src/httpsig/digest.js';
import { DIRECTORY_MEDIA_TYPE, DIRECTORY_PATH, jwkThumbprint, verifyDirectoryResponse, verifyRequestSignature } from '../../src/httpsig/index.js';
import { isCharterError } from '../../src/errors.js';

/**
 * RFC 9421 / Web Bot Auth verifier edges that mutation testing of
 * src/httpsig (verify.ts, components.ts, directory-verify.ts,
 * signature-agent.ts) found untested. Each case changes one thing in an
 * otherwise accepted request or directory and asserts the refusal, beside
 * the accepted neighbour.
 */
const NOW_MS = Date.UTC(2026, 11, 5, 12, 0, 0);
const NOW = new Date(NOW_MS);
const AUTHORITY = 'agent.example';

let pub: PublicJwk;
let signer: Signer;
let kid: string;
beforeAll(() => {
  const kp = generateKeyPair('Ed25519');
  pub = kp.publicJwk;
  signer = createSigner(kp.privateJwk);
  kid = jwkThumbprint(pub);
});

/**
 * A key directory response for AUTHORITY listing the one key, signed as signDirectory signs it, but with
 * the binding parameters and covered components given (undefined leaves a parameter out).
 */
async function directory(
  o: {
    params?: Record<string, BareItem | undefined>;
    components?: string[];
    digest?: string;
    label?: string;
  } = {},
) {
  const body = JSON.stringify({ keys: [{ ...pub, kid }] });
  const headers: Record<string, string> = { 'content-type': DIRECTORY_MEDIA_TYPE, 'content-digest': o.digest ?? contentDigest(body) };
  const created = Math.floor(NOW_MS / 1000) - 10;
  const all: Record<string, BareItem | undefined> = { created, expires: created + 300, keyid: kid, tag: 'http-message-signatures-directory', ...o.params };
  const params = Object.entries(all).filter((e): e is [string, BareItem] => e[1] !== undefined);
  const request: MessageContext = { kind: 'request', method: 'GET', url: new URL(`https://${AUTHORITY}${DIRECTORY_PATH}`), field: () => undefined };
  const msg: MessageContext = { kind: 'response', status: 200, field: (n) => (headers[n] === undefined ? undefined : [headers[n]!]), request };
  const components = (o.components ?? ['"@authority";req', '"content-digest"']).map(parseComponentId);
  const { innerList, signature } = await createSignature(msg, components, params, signer);
  const label = o.label ?? 'binding';
  headers['signature-input'] = `${label}=${serializeInnerList(innerList)}`;
  headers.signature = `${label}=${serializeItem([signature, new Map()])}`;
  return { url: `https://${AUTHORITY}${DIRECTORY_PATH}`, status: 200, headers, body };
}

/** The code verifyDirectoryResponse refuses with, or 'ok' with the keys it binds. */
function directoryOutcome(res: Awaited<ReturnType<typeof directory>>): string {
  try {
    const d = verifyDirectoryResponse(res, { now: NOW });
    return d.keys.every((k) => k.bound) ? 'ok' : 'unbound';
  } catch (e) {
    return isCharterError(e) ? e.code : `threw ${String(e)}`;
  }
}

describe('key directory binding signatures: every condition of a possession proof holds', () => {
  it('the directory as signDirectory writes it binds its key', async () => {
    expect(directoryOutcome(await directory())).toBe('ok');
    expect(directoryOutcome(await directory({ label: 'binding0' }))).toBe('ok');
  });

  it('another tag, or none: the key is unbound (DIRECTORY_INVALID)', async () => {
    for (const tag of ['web-bot-auth', 'http-message-signatures-directory-x', '', undefined]) {
      expect(directoryOutcome(await directory({ params: { tag } })), String(tag)).toBe('DIRECTORY_INVALID');
    }
  });

  it('no expires, no created, no keyid, or a keyid naming another key: DIRECTORY_INVALID', async () => {
    expect(directoryOutcome(await directory({ params: { expires: undefined } }))).toBe('DIRECTORY_INVALID');
    expect(directoryOutcome(await directory({ params: { created: undefined } }))).toBe('DIRECTORY_INVALID');
    expect(directoryOutcome(await directory({ params: { keyid: undefined } }))).toBe('DIRECTORY_INVALID');
    expect(directoryOutcome(await directory({ params: { keyid: kid.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) } }))).toBe('DIRECTORY_INVALID');
  });

  it('not covering "@authority";req or content-digest, or a Content-Digest not of the body: DIRECTORY_INVALID', async () => {
    expect(directoryOutcome(await directory({ components: ['"content-digest"'] }))).toBe('DIRECTORY_INVALID');
    expect(directoryOutcome(await directory({ components: ['"@authority";req'] }))).toBe('DIRECTORY_INVALID');
    expect(directoryOutcome(await directory({ digest: contentDigest('{"keys":[]}') }))).toBe('DIRECTORY_INVALID');
  });

  it('a label other than binding or binding<digits>: not a binding signature', async () => {
    for (const label of ['sig1', 'bindingx', 'xbinding', 'binding-1']) expect(directoryOutcome(await directory({ label })), label).toBe('DIRECTORY_INVALID');
  });

  it('created in the future beyond the skew, expired at or before now less the skew, expires before created: DIRECTORY_INVALID', async () => {
    const s = Math.floor(NOW_MS / 1000);
    // Skew 60 s (the default): created up to now + 60 passes, now + 61 does not; expires after now - 60 passes, at now - 60 does not.
    expect(directoryOutcome(await directory({ params: { created: s + 60, expires: s + 300 } }))).toBe('ok');
    expect(directoryOutcome(await directory({ params: { created: s + 61, expires: s + 300 } }))).toBe('DIRECTORY_INVALID');
    expect(directoryOutcome(await directory({ params: { created: s - 600, expires: s - 59 } }))).toBe('ok');
    expect(directoryOutcome(await directory({ params: { created: s - 600, expires: s - 60 } }))).toBe('DIRECTORY_INVALID');
    expect(directoryOutcome(await directory({ params: { created: s, expires: s - 1 } }))).toBe('DIRECTORY_INVALID');
    // expires equal to created is a window closed at signing, judged by the skew like the request signature's (V17).
    expect(directoryOutcome(await directory({ params: { created: s - 59, expires: s - 59 } }))).toBe('ok');
    expect(directoryOutcome(await directory({ params: { created: s - 60, expires: s - 60 } }))).toBe('DIRECTORY_INVALID');
  });
});

/** A request signed for AUTHORITY's directory with `signature-agent` as given (a raw field value), covering its member sig1. */
async function agentRequest(agentField: string | undefined, o: { components?: string[] } = {}) {
  const url = 'https://shop.example/checkout?x=1';
  const headers: Record<string, string> = agentField === undefined ? {} : { 'signature-agent': agentField };
  const components = o.components ?? ['@method', '@authority', '@path', ...(agentField === undefined ? [] : ['"signature-agent";key="sig1"'])];
  const h = await signatureHeaders({ method: 'GET', url, headers }, { signer, publicJwk: pub, now: NOW, components, label: 'sig1' });
  return { method: 'GET', url, headers: { ...headers, ...h } };
}
const byDirectory = () => ({ directories: { [`https://${AUTHORITY}`]: { keys: [pub] } }, now: NOW });

describe('Signature-Agent: only a directory member is resolved', () => {
  it('no type, or the token directory: resolved, and the request is attributed to the origin', async () => {
    for (const field of [`sig1="https://${AUTHORITY}"`, `sig1="https://${AUTHORITY}";type=directory`, `sig1="https://${AUTHORITY}/"`]) {
      const d = await verifyRequestSignature(await agentRequest(field), byDirectory());
      expect(d.reasons, field).toEqual([]);
      expect(d.signatureAgent, field).toBe(`https://${AUTHORITY}`);
    }
  });

  it('another discovery type, or directory spelt as a string: SIGNATURE_KEY_UNKNOWN, never resolved as a directory', async () => {
    for (const type of ['jwks', 'jwks_uri', '"directory"', 'Directory', '?1', '1']) {
      const field = `sig1="https://${AUTHORITY}";type=${type}`;
      const d = await verifyRequestSignature(await agentRequest(field), byDirectory());
      expect(d.ok, field).toBe(false);
      expect(
        d.reasons.map((r) => r.code),
        field,
      ).toEqual(['SIGNATURE_KEY_UNKNOWN']);
      expect(d.signatureAgent, field).toBeUndefined();
    }
  });
});

describe('Signature-Agent over http: only a loopback host, and only when allowed', () => {
  it('allowLoopback lets http://127.0.0.1 and http://localhost resolve, never another http host', async () => {
    const at = async (origin: string, allowLoopback: boolean) => {
      const d = await verifyRequestSignature(await agentRequest(`sig1="${origin}"`), { directories: { [origin]: { keys: [pub] } }, now: NOW, allowLoopback });
      return d.ok ? 'ok' : d.reasons.map((r) => r.code).join(',');
    };
    expect(await at('http://127.0.0.1:8080', true)).toBe('ok');
    expect(await at('http://localhost:8080', true)).toBe('ok');
    expect(await at('http://127.0.0.1:8080', false)).toBe('FORBIDDEN_ADDRESS');
    // Not an origin: a query, a fragment, user info or a path after it.
    for (const value of ['https://agent.example/?x=1', 'https://agent.example/#f', 'https://u:p@agent.example', 'https://agent.example/dir']) {
      const d = await verifyRequestSignature(await agentRequest(`sig1="${value}"`), byDirectory());
      expect(
        d.reasons.map((r) => r.code),
        value,
      ).toEqual(['SIGNATURE_INVALID']);
    }
    for (const origin of ['http://agent.example', 'http://10.0.0.1', 'http://localhost.example']) expect(await at(origin, true), origin).toBe('FORBIDDEN_ADDRESS');
  });
});

describe('a signature without a keyid', () => {
  it('is SIGNATURE_INVALID before any key is looked for, even with the signing key held', async () => {
    const url = 'https://shop.example/checkout';
    const created = Math.floor(NOW_MS / 1000);
    const msg: MessageContext = { kind: 'request', method: 'GET', url: new URL(url), field: () => undefined };
    const sign = async (params: Array<[string, BareItem]>) => {
      const { innerList, signature } = await createSignature(msg, ['@method', '@authority'].map(parseComponentId), params, signer);
      return { method: 'GET', url, headers: { 'signature-input': `sig1=${serializeInnerList(innerList)}`, signature: `sig1=${serializeItem([signature, new Map()])}` } };
    };
    const base: Array<[string, BareItem]> = [
      ['created', created],
      ['expires', created + 60],
    ];
    const keys = { keys: [{ ...pub, kid }] };
    expect((await verifyRequestSignature(await sign([...base, ['keyid', kid]]), { keys, now: NOW })).reasons).toEqual([]);
    const d = await verifyRequestSignature(await sign(base), { keys, now: NOW });
    expect(d.ok).toBe(false);
    expect(d.reasons.map((r) => r.code)).toEqual(['SIGNATURE_INVALID']);
    expect(d.reasons[0]!.message).toMatch(/keyid/);
  });
});

describe('@target-uri: the fragment is not part of it (RFC 9421 §2.2.2)', () => {
  it('a request signed without the fragment verifies with one, and the other way round', async () => {
    const sign = (url: string) =>
      signatureHeaders({ method: 'GET', url, headers: {} }, { signer, publicJwk: pub, now: NOW, components: ['@method', '@target-uri'], label: 'sig1' });
    const keys = { keys: [{ ...pub, kid }] };
    const plain = 'https://shop.example/p?q=1';
    const h = { ...(await sign(plain)) } as Record<string, string>;
    expect((await verifyRequestSignature({ method: 'GET', url: `${plain}#top`, headers: h }, { keys, now: NOW })).reasons).toEqual([]);
    const g = { ...(await sign(`${plain}#top`)) } as Record<string, string>;
    expect((await verifyRequestSignature({ method: 'GET', url: plain, headers: g }, { keys, now: NOW })).reasons).toEqual([]);
    // The rest of the URI is covered: another query is refused.
    expect((await verifyRequestSignature({ method: 'GET', url: 'https://shop.example/p?q=2', headers: h }, { keys, now: NOW })).reasons.map((r) => r.code)).toEqual([
      'SIGNATURE_INVALID',
    ]);
  });
});

describe('directory binding alg and the Signature-Agent member a signature vouches for', () => {
  it('a binding signature whose alg names another algorithm than the key: unbound (DIRECTORY_INVALID)', async () => {
    expect(directoryOutcome(await directory({ params: { alg: 'ed25519' } }))).toBe('ok');
    for (const alg of ['ecdsa-p256-sha256', 'rsa-pss-sha512', 'hmac-sha256']) expect(directoryOutcome(await directory({ params: { alg } })), alg).toBe('DIRECTORY_INVALID');
  });

  it('covering the whole field, the member keyed by the signature label is the one the request is attributed to, wherever it stands', async () => {
    const other = 'https://other.example';
    const dirs = { directories: { [`https://${AUTHORITY}`]: { keys: [pub] }, [other]: { keys: [pub] } }, now: NOW };
    for (const field of [`aa="${other}", sig1="https://${AUTHORITY}"`, `sig1="https://${AUTHORITY}", zz="${other}"`]) {
      const d = await verifyRequestSignature(await agentRequest(field, { components: ['@method', '@authority', 'signature-agent'] }), dirs);
      expect(d.reasons, field).toEqual([]);
      expect(d.signatureAgent, field).toBe(`https://${AUTHORITY}`);
    }
  });
});
