import { describe, expect, it } from 'vitest';
import { CharterError } from '../../src/errors.js';
import { createPresentation, issueCredential, signJwt, verifyCredential, verifyPresentation } from '../../src/credentials/index.js';
import type { Credential, Issuer } from '../../src/credentials/types.js';
import { createResolver, didKeyRef, documentResolver } from '../../src/did/index.js';
import type { CharterResolver, DIDDocument } from '../../src/did/types.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { ACCESS_REPORT_TYP, CHECKPOINT_TYP, RECEIPT_TYP, checkAuditJws, signCanonical } from '../../src/audit/jws.js';
import { checkReceiptEvidence } from '../../src/reputation/receiptEvidence.js';
import { JOIN_TYP, verifyAcceptance } from '../../src/grants/collective.js';
import { signLeave, verifyLeave } from '../../src/pools/index.js';
import { createStatusChecker, encodeBitstring, MIN_LIST_SIZE } from '../../src/status/index.js';
import { encodeTokenStatusList } from '../../src/status/token-codec.js';
import { createTokenStatusChecker } from '../../src/status/token-checker.js';
import { trustedKeysFor } from '../../src/mandates/trust.js';

/**
 * DID Core §5.3, per artifact family that test/contract/key-purpose-matrix.test.ts does not sign:
 * audit checkpoints, access reports and receipts (audit/jws.ts), a receipt offered as rating evidence
 * (reputation/receiptEvidence.ts), a pool member's acceptance and leave request, both status list
 * formats (signed by the issuer, and the Bitstring list signed by another DID the issuer's document
 * lists), and a mandate's DID trust anchor. Each is an assertion by its signer, so only a key the
 * signer's document lists under assertionMethod signs it, by reference (absolute or relative) or
 * embedded there; a key listed for authentication, keyAgreement, capabilityInvocation or
 * capabilityDelegation, or under no relationship, does not, nor does a method of the document whose
 * controller is another DID, nor another DID's method the victim's assertionMethod refers to, nor a
 * kid naming another DID than the signer. Without a kid, three assertion keys are ambiguous.
 * (Request signatures: test/guard/signer-relationship.test.ts; presentations and key bindings: the matrix.)
 */
const DID = 'did:web:relationships.example';
const EVIL = 'did:web:evil.example';
const SLOTS = [
  'assertionMethod',
  'embedded',
  'relative',
  'authentication',
  'keyAgreement',
  'capabilityInvocation',
  'capabilityDelegation',
  'none',
  'foreignController',
  'evil',
  'evilKid',
] as const;
type Slot = (typeof SLOTS)[number];
const SIGNS = new Set<Slot>(['assertionMethod', 'embedded', 'relative']);
const pairs = Object.fromEntries(SLOTS.map((s) => [s, generateKeyPair('Ed25519')])) as Record<Slot, ReturnType<typeof generateKeyPair>>;
const vm = (s: Slot, extra: object = {}) => ({ id: `${DID}#${s}`, type: 'JsonWebKey2020', controller: DID, publicKeyJwk: pairs[s].publicJwk, ...extra });
const doc = {
  '@context': ['https://www.w3.org/ns/did/v1'],
  id: DID,
  verificationMethod: [
    ...(['assertionMethod', 'authentication', 'keyAgreement', 'capabilityInvocation', 'capabilityDelegation', 'none'] as const).map((s) => vm(s)),
    vm('relative', { id: '#relative' }),
    vm('foreignController', { controller: EVIL }),
  ],
  assertionMethod: [`${DID}#assertionMethod`, vm('embedded'), '#relative', `${DID}#foreignController`, `${EVIL}#key-1`],
  authentication: [`${DID}#authentication`],
  keyAgreement: [`${DID}#keyAgreement`],
  capabilityInvocation: [`${DID}#capabilityInvocation`],
  capabilityDelegation: [`${DID}#capabilityDelegation`],
} as unknown as DIDDocument;
// The attacker's own document: its key-1 is the one the victim's assertionMethod refers to.
const evilDoc = {
  id: EVIL,
  verificationMethod: [{ id: `${EVIL}#key-1`, type: 'JsonWebKey2020', controller: EVIL, publicKeyJwk: pairs.evil.publicJwk }],
  assertionMethod: [`${EVIL}#key-1`],
} as unknown as DIDDocument;

const web = documentResolver(async (did) => {
  if (did === DID) return structuredClone(doc);
  if (did === EVIL) return structuredClone(evilDoc);
  throw new CharterError('DID_NOT_FOUND', 'no such document');
});
const keys = createResolver();
const resolver: CharterResolver = {
  resolve: (did) => (did.startsWith('did:web:') ? web.resolve(did) : keys.resolve(did)),
  resolveKey: (did, kid, rel) => (did.startsWith('did:web:') ? web.resolveKey(did, kid, rel) : keys.resolveKey(did, kid, rel)),
  clear: (did) => web.clear(did),
};

/** The kid each slot signs under: the method's own id, a relative one for 'relative'; evil's key under its own id ('evil') or the victim's ('evilKid'). */
const kidOf = (s: Slot) => (s === 'relative' ? '#relative' : s === 'evil' ? `${EVIL}#key-1` : s === 'evilKid' ? `${DID}#key-1` : `${DID}#${s}`);
const as = (s: Slot, kid: string | null = kidOf(s)): Issuer =>
  ({
    did: DID,
    kid: kid ?? undefined,
    keyType: 'Ed25519',
    publicJwk: pairs[s === 'evilKid' ? 'evil' : s].publicJwk,
    signer: createSigner(pairs[s === 'evilKid' ? 'evil' : s].privateJwk),
  }) as Issuer;

const STATUS = 'https://pool.example/status/1#0';
const POOL = 'did:web:pool.example';
let n = 0;

/** Each family: does `who` (signing as DID) get its artifact accepted? */
const families: Array<[string, (who: Issuer) => Promise<boolean>]> = [
  ...(
    [
      ['audit checkpoint', CHECKPOINT_TYP],
      ['access report', ACCESS_REPORT_TYP],
      ['decision receipt (audit record)', RECEIPT_TYP],
    ] as const
  ).map(([name, typ]): [string, (who: Issuer) => Promise<boolean>] => [
    name,
    async (who) => (await checkAuditJws((await signCanonical(typ, { iss: DID, n: ++n }, who)).jws, typ, resolver, 'EVIDENCE_MISMATCH')).reasons.length === 0,
  ]),
  [
    'receipt as rating evidence',
    async (who) => {
      // A bare signed record: its shape is refused after the signature, so "does not verify" is the signature's answer.
      const r = await checkReceiptEvidence((await signCanonical(RECEIPT_TYP, { iss: DID, n: ++n }, who)).jws, { resolver, agent: 'did:web:agent.example', attester: DID });
      expect(r.ok).toBe(false);
      return !/does not verify/.test(r.reasons[0]!.message);
    },
  ],
  [
    "pool member's acceptance",
    async (who) => {
      const jwt = await signJwt({ typ: JOIN_TYP }, { iss: DID, sub: POOL, status: STATUS }, who.signer, who.kid as string);
      return (await verifyAcceptance(jwt, DID, POOL, resolver)).entry !== undefined;
    },
  ],
  [
    "pool member's leave request",
    async (who) =>
      verifyLeave(await signLeave(who, POOL, STATUS), POOL, resolver).then(
        () => true,
        () => false,
      ),
  ],
  [
    'Token Status List signed by the issuer',
    async (who) => {
      const url = `https://lists.example/statuslists/${++n}`;
      const list = await signJwt(
        { typ: 'statuslist+jwt' },
        { iss: DID, sub: url, iat: Math.floor(Date.now() / 1000), status_list: { bits: 1, lst: encodeTokenStatusList(new Uint8Array(4)) } },
        who.signer,
        who.kid as string,
      );
      const check = createTokenStatusChecker({ resolver, source: async () => list });
      return (await check({ status_list: { idx: 3, uri: url } }, { issuer: DID, now: new Date() })).length === 0;
    },
  ],
  [
    'Bitstring status list signed by the issuer',
    async (who) => {
      const url = `https://lists.example/status/${++n}`;
      return (await bitstring(url, DID, who)).length === 0;
    },
  ],
  [
    "mandate DID trust anchor's key",
    async (who) => {
      const faults: unknown[] = [];
      const got = await trustedKeysFor([DID], { alg: 'EdDSA', ...(who.kid !== undefined ? { kid: who.kid } : {}) }, { resolver, now: new Date(), faults });
      expect(faults).toEqual([]);
      return got.some((k) => k.key.publicJwk.x === who.publicJwk.x);
    },
  ],
];

/** A Bitstring list at `url` issued by `listIssuer`, signed by `by`; the answer for a credential of DID on it. */
async function bitstring(url: string, listIssuer: string, by: Issuer) {
  const payload = {
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    id: url,
    type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer: listIssuer,
    validFrom: new Date(Date.now() - 60_000).toISOString(),
    credentialSubject: { id: `${url}#list`, type: 'BitstringStatusList', statusPurpose: 'revocation', encodedList: encodeBitstring(new Uint8Array(MIN_LIST_SIZE / 8)) },
  };
  const jwt = await signJwt({ typ: 'vc+jwt', cty: 'vc' }, payload, by.signer, by.kid as string);
  const check = createStatusChecker({ resolver, source: async () => jwt });
  const credential = {
    '@context': [],
    type: ['VerifiableCredential'],
    issuer: DID,
    credentialSubject: { id: 'did:web:subject.example' },
    credentialStatus: { type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '7', statusListCredential: url },
  } as unknown as Credential;
  return check(credential, { issuer: DID, now: new Date() });
}

describe('assertion artifacts verify only with an assertionMethod key of their signer (DID Core §5.3.2)', () => {
  it.each(families)('%s', async (_name, accepted) => {
    const out: Record<string, boolean> = {};
    for (const s of SLOTS) out[s] = await accepted(as(s));
    expect(Object.keys(out).filter((s) => out[s])).toEqual([...SIGNS]);
    // A relative kid for a method listed by absolute id, and the absolute kid of the relatively listed one: one method, two spellings.
    expect(await accepted(as('assertionMethod', '#assertionMethod'))).toBe(true);
    expect(await accepted(as('relative', `${DID}#relative`))).toBe(true);
    // Spellings of a kid that name no method of DID's: percent-encoded, a trailing "#", a query, another case.
    for (const kid of [`${DID}#assertion%4Dethod`, `${DID}#`, `${DID}?v=1#assertionMethod`, `${DID}#ASSERTIONMETHOD`, DID, `${DID.toUpperCase()}#assertionMethod`]) {
      expect([kid, await accepted(as('assertionMethod', kid))]).toEqual([kid, false]);
    }
    // No kid: three assertion keys, none chosen for the signer.
    expect(await accepted(as('assertionMethod', null))).toBe(false);
  });
});

describe("a status list signed by another DID counts for the issuer only when the issuer's document lists its key for assertions", () => {
  it('Bitstring: the list signer is the did:key of a key DID lists under each relationship in turn', async () => {
    const out: Record<string, boolean> = {};
    for (const s of SLOTS.filter((x) => !['evil', 'evilKid', 'foreignController'].includes(x))) {
      const signer = { ...didKeyRef('key', pairs[s].publicJwk), signer: createSigner(pairs[s].privateJwk) } as Issuer;
      out[s] = (await bitstring(`https://lists.example/status/other-${++n}`, signer.did, signer)).length === 0;
    }
    expect(Object.keys(out).filter((s) => out[s])).toEqual([...SIGNS]);
    // A method of DID's document that another DID controls, and another DID's method DID refers to: not DID's word.
    for (const s of ['foreignController', 'evil'] as const) {
      const signer = { ...didKeyRef('key', pairs[s].publicJwk), signer: createSigner(pairs[s].privateJwk) } as Issuer;
      expect([s, (await bitstring(`https://lists.example/status/other-${++n}`, signer.did, signer)).map((r) => r.code)]).toEqual([s, ['STATUS_INVALID']]);
    }
  });
});

describe('did:jwk fixes its relationships from the JWK (did:jwk §2.3): one for encryption signs nothing', () => {
  const jwkDid = (extra: object) => {
    const kp = generateKeyPair('Ed25519');
    const did = `did:jwk:${Buffer.from(JSON.stringify({ ...kp.publicJwk, ...extra })).toString('base64url')}`;
    return { did, kid: `${did}#0`, keyType: 'Ed25519', publicJwk: kp.publicJwk, signer: createSigner(kp.privateJwk) } as Issuer;
  };
  const direct = createResolver();
  const AUDIENCE = 'https://api.example';
  const signs = async (who: Issuer) => {
    const vc = await issueCredential({ issuer: who, subject: 'did:web:subject.example', type: 'Membership', claims: { level: 1 } });
    const asIssuer = (await verifyCredential(vc.jwt, { resolver: direct })).ok;
    const vp = await createPresentation({ holder: who, credentials: [vc.jwt], aud: AUDIENCE, nonce: 'n' });
    const asHolder = (await verifyPresentation(vp, { resolver: direct, aud: AUDIENCE, nonce: 'n' })).reasons.every(
      (r) => r.code !== 'VERIFICATION_METHOD_NOT_AUTHORIZED' && r.code !== 'INVALID_KEY' && r.code !== 'VERIFICATION_METHOD_NOT_FOUND',
    );
    const join = await signJwt({ typ: JOIN_TYP }, { iss: who.did, sub: POOL, status: STATUS }, who.signer, who.kid);
    const asMember = (await verifyAcceptance(join, who.did, POOL, direct)).entry !== undefined;
    return [asIssuer, asHolder, asMember];
  };

  it.each([
    ['use enc', { use: 'enc' }, false],
    ['key_ops deriveKey', { key_ops: ['deriveKey'] }, false],
    ['use enc with key_ops verify', { use: 'enc', key_ops: ['verify'] }, false],
    ['use sig', { use: 'sig' }, true],
    ['no use', {}, true],
  ] as const)('%s: issuer, holder, pool member', async (_name, extra, ok) => {
    expect(await signs(jwkDid(extra))).toEqual([ok, ok, ok]);
    // Its document: keyAgreement only for "enc", signing relationships only for "sig" (and both without use).
    const doc = (await direct.resolve(jwkDid(extra).did)) as unknown as Record<string, unknown>;
    const use = (extra as { use?: string }).use;
    expect(['assertionMethod', 'authentication', 'keyAgreement'].map((r) => r in doc)).toEqual([use !== 'enc', use !== 'enc', use !== 'sig']);
  });
});
