import { describe, expect, it } from 'vitest';
import { isCharterError } from '../../src/errors.js';
import { checkTrust, namedPayee, syncValue } from '../../src/guard/policy.js';
import { requireAgent, requireGrant, requireMandate } from '../../src/http/guards.js';

/**
 * The checks a guard makes of its own policy when it is built, and the two
 * helpers that read a route's values (mutation testing of
 * src/guard/policy.ts could drop each with no test failing): a guard built
 * with a weaker rule than written, or a route value taken in a form the
 * policy never meant, is refused.
 */
const jwk = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' };
const mandate =
  (o: Record<string, unknown> = {}, trust: Record<string, unknown> = {}) =>
  () =>
    requireMandate({ profile: 'ap2', trust: { issuers: [jwk], ...trust }, ...o } as never);

describe('requireMandate: the policy is checked when built', () => {
  it('the plain policy builds; skipping issuer verification, in trust or beside it, is a TypeError', () => {
    expect(mandate()).not.toThrow();
    for (const skip of [true, false, 'yes']) {
      expect(mandate({}, { skipIssuerVerification: skip }), `trust ${String(skip)}`).toThrow(TypeError);
      expect(mandate({ skipIssuerVerification: skip }), `options ${String(skip)}`).toThrow(TypeError);
    }
  });

  it('requireStatus is a boolean (true is for Verifiable Intent: AP2 has no status to require)', () => {
    expect(mandate({ requireStatus: true, profile: 'verifiable-intent' })).not.toThrow();
    expect(mandate({ requireStatus: true })).toThrow(/AP2 defines no status/);
    expect(mandate({ requireStatus: false })).not.toThrow();
    for (const bad of ['true', 1, {}]) expect(mandate({ requireStatus: bad }), String(bad)).toThrow(TypeError);
  });

  it('calendarTimeZone is an IANA time zone', () => {
    for (const ok of ['Europe/Paris', 'UTC', 'America/New_York']) expect(mandate({ calendarTimeZone: ok }), ok).not.toThrow();
    for (const bad of ['Mars/Olympus_Mons', 'Europe/Pari', '', 'not a zone']) expect(mandate({ calendarTimeZone: bad }), bad).toThrow(TypeError);
  });
});

describe('requireAgent: the trust is checked when built', () => {
  const agent =
    (trust: Record<string, unknown>, o: Record<string, unknown> = {}) =>
    () =>
      requireAgent({ action: 'pay', trust, ...o } as never);
  it('principals must name someone, or anyPrincipal: true', () => {
    expect(agent({ principals: ['did:web:p.example'] })).not.toThrow();
    expect(agent({ anyPrincipal: true })).not.toThrow();
    for (const t of [{ principals: [] }, {}, { anyPrincipal: 'true' }, { anyPrincipal: false, principals: [] }]) expect(agent(t), JSON.stringify(t)).toThrow(TypeError);
  });

  it('minReputation needs a reputation source', () => {
    const t = { principals: ['did:web:p.example'], identityIssuers: ['did:web:op.example'], minReputation: 0.5 };
    expect(() => checkTrust('test', t as never, undefined)).toThrow(/reputation source/);
    expect(() => checkTrust('test', t as never, (async () => undefined) as never)).not.toThrow();
  });
});

describe('requireGrant: whose data the route serves', () => {
  const grant = (o: Record<string, unknown>) => () => requireGrant({ resource: 'profile/email', action: 'read', ...o } as never);
  it('exactly one of owner and anyOwner: true', () => {
    expect(grant({ owner: 'did:web:alice.example' })).not.toThrow();
    expect(grant({ owner: () => 'did:web:alice.example' })).not.toThrow();
    expect(grant({ anyOwner: true })).not.toThrow();
    for (const o of [{}, { owner: 'did:web:alice.example', anyOwner: true }, { anyOwner: false }]) expect(grant(o), JSON.stringify(o)).toThrow(TypeError);
  });

  it('an owner given as a value is a DID', () => {
    for (const owner of ['alice', 'https://alice.example', 'DID:web:alice.example', 42]) expect(grant({ owner }), String(owner)).toThrow(TypeError);
  });
});

describe("a route's values", () => {
  it('a payee is a string as given, anything else the empty string (never coerced)', () => {
    expect(namedPayee('merchant-1')).toBe('merchant-1');
    for (const v of [42, ['merchant-1'], { toString: () => 'merchant-1' }, null, undefined, true]) expect(namedPayee(v), String(v)).toBe('');
  });

  it('a promise is INVALID_ARGUMENT (its rejection handled), anything else passes as it is', async () => {
    const rejected = Promise.reject(new Error('body'));
    for (const p of [Promise.resolve('x'), rejected, { then: (_a: unknown, b: (e: unknown) => void) => b(new Error('x')) }]) {
      let code = '';
      try {
        syncValue(p);
      } catch (e) {
        code = isCharterError(e) ? e.code : String(e);
      }
      expect(code).toBe('INVALID_ARGUMENT');
    }
    for (const v of ['x', 0, null, { amount: '1' }]) expect(syncValue(v)).toBe(v);
  });
});
