import { describe, expect, it } from 'vitest';
import { documentResolver } from '../../src/did/index.js';
import { canonicalJson, MAX_JSON_DEPTH } from '../../src/encoding/json.js';
import { generateKeyPair } from '../../src/keys/index.js';

/**
 * What documentResolver hands out is a DID document as JSON carries it (DID Core §6.2), nested no
 * deeper than any Charter reader takes (MAX_JSON_DEPTH, as did:web's reader refuses): receipts
 * record each document by its RFC 8785 form (audit/receipts.ts), and a document canonicalJson
 * refuses made every logged decision touching that DID a 503 "try again", for as long as the
 * document stayed so.
 */
const DID = 'did:web:loaded.example';
const KEY = generateKeyPair('Ed25519').publicJwk;
const doc = (extra: Record<string, unknown>) => ({
  id: DID,
  verificationMethod: [{ id: `${DID}#k`, type: 'JsonWebKey2020', controller: DID, publicKeyJwk: KEY }],
  assertionMethod: [`${DID}#k`],
  ...extra,
});
/** `levels` arrays, one inside the other, around a string. */
const nested = (levels: number): unknown => {
  let v: unknown = 'x';
  for (let i = 0; i < levels; i++) v = [v];
  return v;
};
const resolveKey = (d: unknown) => documentResolver(async () => d as never).resolveKey(DID, undefined, 'assertionMethod');

describe('documentResolver: a loaded document is JSON data every consumer can read', () => {
  // The document itself is level 1 and `service` level 2: the endpoint nests MAX_JSON_DEPTH - 2 more at most.
  const deepest = doc({ service: [{ id: `${DID}#s`, type: 'X', serviceEndpoint: nested(MAX_JSON_DEPTH - 3) }] });

  it('refuses values JSON has no form for, that canonical JSON would refuse later (DID_RESOLUTION_FAILED)', async () => {
    const cases: Record<string, unknown>[] = [
      { created: new Date(0) },
      { service: [{ id: `${DID}#s`, type: 'X', serviceEndpoint: new Map([['a', 'b']]) }] },
      { weight: Number.NaN },
      { weight: Infinity },
      { alsoKnownAs: [undefined] },
      { service: [{ id: `${DID}#s`, type: 'X', serviceEndpoint: nested(MAX_JSON_DEPTH - 2) }] },
      { service: [{ id: `${DID}#s`, type: 'X', serviceEndpoint: nested(2000) }] },
    ];
    for (const extra of cases) {
      expect(() => canonicalJson(doc(extra))).toThrow(TypeError);
      await expect(resolveKey(doc(extra)), Object.keys(extra)[0]).rejects.toMatchObject({ code: 'DID_RESOLUTION_FAILED' });
    }
  });

  it('keeps what JSON carries, up to the depth every reader takes, and canonical JSON reads it', async () => {
    // A document a library built as a class instance: copied as the plain object it holds.
    class LibraryDocument {
      constructor() {
        Object.assign(this, doc({}));
      }
    }
    for (const d of [
      deepest,
      new LibraryDocument(),
      doc({ alsoKnownAs: ['https://loaded.example/'], service: [{ id: `${DID}#s`, type: 'X', serviceEndpoint: { a: [1, 'b', null, true, {}] } }] }),
    ]) {
      const key = await resolveKey(d);
      expect(key.publicJwk).toMatchObject({ x: KEY.x });
      const loaded = await documentResolver(async () => d as never).resolve(DID);
      expect(canonicalJson(loaded)).toBe(canonicalJson({ ...d }));
    }
  });
});
