import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWorld, type World } from '../agents/fixture.js';
import { buildChain, AUD } from '../agents/setup.js';
import { makeIssuer } from '../helpers.js';
import { createAgentPresentation, verifyAgent } from '../../src/agents/index.js';
import { createPresentation, issueCredential, verifyCredential, verifyPresentation } from '../../src/credentials/index.js';
import { issueGrant, verifyGrant } from '../../src/grants/index.js';
import { verifySdJwtGrant } from '../../src/sdjwt/grant-verify.js';
import { verifySdJwtVc } from '../../src/sdjwt/index.js';
import { verifyRequestSignature } from '../../src/httpsig/index.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { authorizeTransaction, guardTransaction } from '../../src/guard/transaction.js';
import { requireAgent, requireGrant, requireMandate, requireSignature } from '../../src/http/guards.js';

/**
 * Verification fails closed on its options too: a misspelt option (a check the caller asked for and would
 * never get), an opt-out given as a string, or options that change while a call awaits must never leave a
 * weaker check than the caller wrote. Every public verifier and guard factory is attacked here.
 */
let w: World;
beforeAll(async () => {
  w = await openWorld();
});
afterAll(async () => {
  await w.close();
});

const resolver = () => w.resolver;
const status = async () => [];
const keys = { k: { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' } };

/** Each public entry point with options that pass its own checks, and a call that reads them. */
const entries: Array<{ name: string; base: () => Record<string, unknown>; call: (o: Record<string, unknown>) => unknown; nested?: string }> = [
  { name: 'verifyCredential', base: () => ({ resolver: resolver() }), call: (o) => verifyCredential('x.y.z', o as never) },
  { name: 'verifyPresentation', base: () => ({ resolver: resolver(), aud: AUD, nonce: 'n' }), call: (o) => verifyPresentation('x.y.z', o as never) },
  {
    name: 'verifyGrant',
    base: () => ({ resolver: resolver(), status, resource: 'profile/email', action: 'read', owner: 'did:web:a.example' }),
    call: (o) => verifyGrant('x.y.z', o as never),
  },
  {
    name: 'verifySdJwtGrant',
    base: () => ({ resolver: resolver(), status, resource: 'profile/email', action: 'read', owner: 'did:web:a.example' }),
    call: (o) => verifySdJwtGrant('x.y.z~', o as never),
  },
  {
    name: 'verifyAgent',
    base: () => ({ resolver: resolver(), status, aud: AUD, nonce: 'n', action: 'pay', trust: { principals: ['did:web:p.example'] } }),
    call: (o) => verifyAgent('x.y.z', o as never),
    nested: 'trust',
  },
  { name: 'verifySdJwtVc', base: () => ({ resolver: resolver() }), call: (o) => verifySdJwtVc('x.y.z~', o as never) },
  { name: 'verifyRequestSignature', base: () => ({ keys }), call: (o) => verifyRequestSignature(new Request('https://a.example/'), o as never) },
  { name: 'createVerifier', base: () => ({ aud: AUD, store: w.store, http: false }), call: (o) => createVerifier(o as never), nested: 'receipts' },
  { name: 'requireGrant', base: () => ({ resource: 'profile/email', action: 'read', anyOwner: true }), call: (o) => requireGrant(o as never) },
  { name: 'requireAgent', base: () => ({ action: 'pay', trust: { principals: ['did:web:p.example'] } }), call: (o) => requireAgent(o as never), nested: 'trust' },
  { name: 'requireMandate', base: () => ({ profile: 'ap2', trust: { issuers: [{ jwk: keys.k }] } }), call: (o) => requireMandate(o as never), nested: 'trust' },
  { name: 'requireSignature', base: () => ({ keys }), call: (o) => requireSignature(o as never) },
  {
    name: 'authorizeTransaction',
    base: () => ({ verifier: createVerifier({ aud: AUD, store: w.store, http: false }), action: 'pay', trust: { principals: ['did:web:p.example'] } }),
    call: (o) => authorizeTransaction('x.y.z', o as never),
    nested: 'trust',
  },
  {
    name: 'guardTransaction',
    base: () => ({ verifier: createVerifier({ aud: AUD, store: w.store, http: false }), action: 'pay', trust: { principals: ['did:web:p.example'] } }),
    call: (o) => guardTransaction('x.y.z', o as never, () => 'ran'),
    nested: 'trust',
  },
];

/** The call's outcome: a TypeError's message, or what it returned. */
async function outcome(f: () => unknown): Promise<{ threw?: string; value?: unknown }> {
  try {
    return { value: await f() };
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    return { threw: e.message };
  }
}

describe('options fail closed at every public verifier and guard', () => {
  it('the base options of each entry point are accepted (so the refusals below are about the one key changed)', async () => {
    for (const e of entries) expect((await outcome(() => e.call(e.base()))).threw, e.name).toBeUndefined();
  });

  it('an unknown key — a misspelling, a wrong case, a plural, a prototype name — is a TypeError naming it', async () => {
    for (const e of entries) {
      for (const key of ['maxAgeSecond', 'MaxAgeSeconds', 'requiredTypes', 'constructor', '__proto__', 'receipt', 'trusted', 'nonces_', 'x']) {
        const o = { ...e.base() };
        Object.defineProperty(o, key, { value: 1, enumerable: true });
        const r = await outcome(() => e.call(o));
        expect(r.threw, `${e.name} ${key}`).toMatch(new RegExp(`unknown option "${key.replace(/[$_]/g, '\\$&')}"`));
      }
      if (e.nested) {
        const base = e.base();
        const o = { ...base, [e.nested]: { ...(base[e.nested] as object), principal: ['did:web:x.example'], signers: 1 } };
        if (e.nested === 'receipts') o.receipts = { signer: makeIssuer(), evidense: false };
        expect((await outcome(() => e.call(o))).threw, `${e.name} ${e.nested}`).toMatch(new RegExp(`unknown option "${e.nested}\\.`));
      }
    }
  });

  it('the misspellings the review found name the option meant', async () => {
    const agent = entries.find((e) => e.name === 'verifyAgent')!;
    const trust = { principals: ['did:web:p.example'], identityIssuer: ['did:web:o.example'] };
    expect((await outcome(() => agent.call({ ...agent.base(), trust }))).threw).toMatch(/"trust\.identityIssuer" \(did you mean "trust\.identityIssuers"\?\)/);
    expect((await outcome(() => agent.call({ ...agent.base(), trust: { principals: ['did:web:p.example'], minReputaton: 0.9 } }))).threw).toMatch(
      /did you mean "trust\.minReputation"/,
    );
    const cred = entries.find((e) => e.name === 'verifyCredential')!;
    expect((await outcome(() => cred.call({ ...cred.base(), requiredType: 'DataAccessGrant' }))).threw).toMatch(/did you mean "requireType"/);
    const grant = entries.find((e) => e.name === 'verifyGrant')!;
    expect((await outcome(() => grant.call({ ...grant.base(), granteeDid: 'did:web:e.example' }))).threw).toMatch(/did you mean "grantee"/);
    const sig = entries.find((e) => e.name === 'verifyRequestSignature')!;
    expect((await outcome(() => sig.call({ ...sig.base(), requireTag: 'web-bot-auth' }))).threw).toMatch(/did you mean "requiredTag"/);
    expect((await outcome(() => sig.call({ ...sig.base(), requiredComponent: ['@path'] }))).threw).toMatch(/did you mean "requiredComponents"/);
    const v = entries.find((e) => e.name === 'createVerifier')!;
    expect((await outcome(() => v.call({ ...v.base(), nonce: 'challenge' }))).threw).toMatch(/did you mean "nonces"/);
  });

  it('an opt-out given as anything but a boolean ("false" from a config file, 0, null) is a TypeError, never "on"', async () => {
    const flags: Record<string, string[]> = {
      verifyCredential: ['acceptV1', 'once'],
      verifyPresentation: ['allowHolderMismatch', 'allowMissingNonce', 'acceptV1'],
      verifyGrant: ['allowMissingNonce', 'anyOwner'],
      verifySdJwtGrant: ['allowMissingKeyBinding', 'anyOwner'],
      verifyAgent: ['allowMissingNonce'],
      verifySdJwtVc: ['allowMissingKeyBinding', 'requireStatus'],
      verifyRequestSignature: ['requireNonce', 'allowLoopback', 'legacySignatureAgent', 'requireDirectorySignature'],
      createVerifier: ['allowLoopback', 'trustHostHeader'],
      requireSignature: ['requireNonce', 'allowLoopback'],
    };
    for (const e of entries) {
      for (const flag of flags[e.name] ?? []) {
        for (const v of ['false', 'true', 0, 1, null]) {
          const r = await outcome(() => e.call({ ...e.base(), [flag]: v }));
          expect(r.threw, `${e.name} ${flag}=${String(v)}`).toMatch(new RegExp(`"${flag}" must be true or false`));
        }
      }
    }
    for (const name of ['verifyAgent', 'requireAgent', 'authorizeTransaction']) {
      const e = entries.find((x) => x.name === name)!;
      for (const flag of ['anyPrincipal', 'requireIdentity']) {
        const r = await outcome(() => e.call({ ...e.base(), trust: { principals: ['did:web:p.example'], [flag]: 'false' } }));
        expect(r.threw, `${name} trust.${flag}`).toMatch(new RegExp(`"trust\\.${flag}" must be true or false`));
      }
    }
  });

  it('verifyPresentation: allowHolderMismatch "false" no longer lets a stranger present another\'s credential', async () => {
    const iss = makeIssuer();
    const holder = makeIssuer();
    const stranger = makeIssuer();
    const vc = (await issueCredential({ issuer: iss, subject: holder.did, type: 'VerifiableCredential', claims: { name: 'x' } })).jwt;
    const vp = await createPresentation({ holder: stranger, credentials: [vc], aud: AUD, nonce: 'n' });
    const d = await verifyPresentation(vp, { resolver: w.resolver, aud: AUD, nonce: 'n', allowHolderMismatch: false });
    expect(d.reasons.map((r) => r.code)).toContain('HOLDER_MISMATCH');
    await expect(verifyPresentation(vp, { resolver: w.resolver, aud: AUD, nonce: 'n', allowHolderMismatch: 'false' as never })).rejects.toThrow(TypeError);
  });
});

describe('options are read once: nothing the caller changes while a call awaits reaches its decision', () => {
  it('verifyAgent: a shared trust object losing identityIssuers mid-call, or a getter answering twice, still refuses the operator', async () => {
    const c = await buildChain(w, 1);
    const other = makeIssuer().did;
    const present = async () => {
      const nonce = randomUUID();
      return { nonce, jwt: await createAgentPresentation({ agent: c.agents[0]!, identity: c.identity, chain: [c.mandates[0]!.jwt], aud: AUD, nonce }) };
    };
    const base = (nonce: string) => ({ resolver: w.resolver, status: w.status(), aud: AUD, nonce, action: 'pay:card', amount: '10 USD', counterparty: AUD });
    const p1 = await present();
    const trust: { principals: string[]; identityIssuers?: string[] } = { principals: [c.principal.did], identityIssuers: [other] };
    const pending = verifyAgent(p1.jwt, { ...base(p1.nonce), trust });
    delete trust.identityIssuers;
    trust.principals.length = 0;
    const d1 = await pending;
    expect(d1.ok).toBe(false);
    expect(d1.reasons.map((r) => r.code)).toEqual(['UNTRUSTED_ISSUER']);

    const p2 = await present();
    let reads = 0;
    const getter = {
      principals: [c.principal.did],
      get identityIssuers() {
        reads++;
        return reads === 1 ? [other] : undefined;
      },
    };
    const d2 = await verifyAgent(p2.jwt, { ...base(p2.nonce), trust: getter as never });
    expect(reads).toBe(1);
    expect(d2.reasons.map((r) => r.code)).toEqual(['UNTRUSTED_ISSUER']);
    // The same presentation with the operator trusted: the refusals above were about the operator only.
    const p3 = await present();
    expect((await verifyAgent(p3.jwt, { ...base(p3.nonce), trust: { principals: [c.principal.did], identityIssuers: [c.operator.did] } })).ok).toBe(true);
  });

  it("verifyGrant: owner, action and grantee are the call's, not what a shared object or a getter says later", async () => {
    const alice = w.issuer('alice-opts');
    const shop = w.issuer('shop-opts');
    const eve = w.issuer('eve-opts');
    const g = await issueGrant(w.store, alice, {
      grantee: shop.did,
      resources: ['profile/email'],
      actions: ['read'],
      purpose: 'updates',
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: w.baseUrl,
    });
    const base = { resolver: w.resolver, resource: 'profile/email', action: 'read', owner: alice.did };
    expect((await verifyGrant(g.jwt, { ...base, status: w.status() })).ok).toBe(true);

    const o1 = { ...base, status: w.status(), owner: eve.did };
    const p1 = verifyGrant(g.jwt, o1);
    o1.owner = alice.did;
    expect((await p1).reasons.map((r) => r.code)).toContain('GRANT_NOT_OWNER');

    const o2 = { ...base, status: w.status(), action: 'write' };
    const p2 = verifyGrant(g.jwt, o2);
    o2.action = 'read';
    expect((await p2).ok).toBe(false);

    const o3 = { ...base, status: w.status(), grantee: eve.did };
    const p3 = verifyGrant(g.jwt, o3);
    delete (o3 as { grantee?: string }).grantee;
    expect((await p3).reasons.map((r) => r.code)).toContain('GRANTEE_MISMATCH');

    let reads = 0;
    const o4 = {
      ...base,
      status: w.status(),
      get owner() {
        reads++;
        return reads === 1 ? eve.did : undefined;
      },
    };
    const d4 = await verifyGrant(g.jwt, o4 as never);
    expect(reads).toBe(1);
    expect(d4.reasons.map((r) => r.code)).toContain('GRANT_NOT_OWNER');
  });
});
