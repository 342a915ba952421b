import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CharterVeramoPlugin } from '../../src/integrations/veramo/index.js';
import { decodeCredential } from '../../src/credentials/index.js';
import { verifyGrant } from '../../src/grants/index.js';
import { API, openWorld, type World } from '../http/world.js';

/**
 * The Veramo plugin reads its options and every method's arguments as the
 * library reads its own: closed, so a misspelt or unsupported key is a
 * TypeError (Veramo checks the published schema only when an agent is made
 * with schemaValidation: true), and what it takes it passes on (a grant's
 * terms are issued, not dropped).
 */
let w: World;
beforeAll(async () => {
  w = await openWorld();
});
afterAll(async () => w.close());
const ctx = { agent: { availableMethods: () => [] } } as never;

describe('CharterVeramoPlugin: closed options and arguments', () => {
  it('an unknown option is a TypeError when the plugin is built', () => {
    for (const extra of [{ maxAgeSeconds: 1 }, { skewSeconds: 0 }, { requireStatus: true }, { bogus: 1 }]) {
      expect(() => new CharterVeramoPlugin({ resolver: w.resolver, status: w.status, aud: API, ...extra } as never)).toThrow(/unknown option/);
    }
  });

  it('an argument a method does not take is a TypeError, on every method; known ones pass through', async () => {
    const plugin = new CharterVeramoPlugin({ store: w.home.store, baseUrl: w.server.url, issuerFor: async () => w.alice, resolver: w.resolver, status: w.status, aud: API });
    const g = await w.grant();
    const ok = { grant: g.jwt, resource: 'photos/1', action: 'read', owner: w.alice.did };
    expect((await plugin.methods.charterVerifyGrant(ok, ctx)).ok).toBe(true);
    for (const extra of [{ maxAgeSeconds: 1 }, { now: new Date() }, { purposes: ['research'] }, { bogus: 1 }]) {
      await expect(plugin.methods.charterVerifyGrant({ ...ok, ...extra } as never, ctx)).rejects.toThrow(/unknown argument/);
    }
    await expect(plugin.methods.charterVerifyCredential({ credential: g.jwt, skewSeconds: 0 } as never, ctx)).rejects.toThrow(/unknown argument/);
    await expect(plugin.methods.charterVerifyAgent({ presentation: 'x', action: 'buy', maxAgeSeconds: 1 } as never, ctx)).rejects.toThrow(/unknown argument/);
    await expect(plugin.methods.charterCommitSpend({ reservationId: 'x', force: true } as never, ctx)).rejects.toThrow(/unknown argument/);
    await expect(plugin.methods.charterVerifyGrant(null as never, ctx)).rejects.toThrow(TypeError);
  });

  it('charterIssueGrant issues the terms it is given: a use outside them is refused, as for issueGrant', async () => {
    const plugin = new CharterVeramoPlugin({ store: w.home.store, baseUrl: w.server.url, issuerFor: async () => w.alice, resolver: w.resolver, status: w.status, aud: API });
    const terms = { purpose: ['research'], onwardSharing: 'none' as const, processing: 'on-device' as const };
    const issued = await plugin.methods.charterIssueGrant(
      { issuer: w.alice.did, grantee: w.app.did, resources: ['photos/*'], actions: ['read'], purpose: 'tests', validUntil: new Date(Date.now() + 86_400_000), terms },
      ctx,
    );
    expect((decodeCredential(issued.jwt).credentialSubject as { grant: { terms?: unknown } }).grant.terms).toEqual(terms);
    const ask = (purpose: string, processing?: 'on-device') =>
      verifyGrant(issued.jwt, { resolver: w.resolver, status: w.status, resource: 'photos/1', action: 'read', owner: w.alice.did, purpose, ...(processing ? { processing } : {}) });
    expect((await ask('marketing')).reasons.map((r) => r.code)).toContain('PURPOSE_NOT_ALLOWED');
    expect((await ask('research', 'on-device')).reasons).toEqual([]);
  });

  it('charterVerifyGrant takes the declared use (purpose, processing) and holds a grant to its terms', async () => {
    const plugin = new CharterVeramoPlugin({ store: w.home.store, baseUrl: w.server.url, issuerFor: async () => w.alice, resolver: w.resolver, status: w.status, aud: API });
    const terms = { purpose: ['research'], processing: 'on-device' as const };
    const issued = await plugin.methods.charterIssueGrant(
      { issuer: w.alice.did, grantee: w.app.did, resources: ['photos/*'], actions: ['read'], purpose: 'tests', validUntil: new Date(Date.now() + 86_400_000), terms },
      ctx,
    );
    const ask = async (use: { purpose?: unknown; processing?: unknown }) =>
      (await plugin.methods.charterVerifyGrant({ grant: issued.jwt, resource: 'photos/1', action: 'read', owner: w.alice.did, ...use } as never, ctx)).reasons.map((r) => r.code);
    expect(await ask({ purpose: 'research', processing: 'on-device' })).toEqual([]);
    // Nothing declared, another purpose, other processing: each refused with its own code.
    expect(await ask({})).toEqual(expect.arrayContaining(['PURPOSE_NOT_ALLOWED', 'PROCESSING_NOT_ALLOWED']));
    expect(await ask({ purpose: 'marketing', processing: 'on-device' })).toEqual(['PURPOSE_NOT_ALLOWED']);
    expect(await ask({ purpose: 'research', processing: 'trusted-execution' })).toEqual(['PROCESSING_NOT_ALLOWED']);
    expect(await ask({ purpose: 'research' })).toEqual(['PROCESSING_NOT_ALLOWED']);
    // A declared use that is not one (wrong type, 'any' which only a grant may say, a function) is misuse.
    for (const bad of [{ purpose: 'Research' }, { purpose: ['research'] }, { purpose: () => 'research' }, { processing: 'any' }, { processing: 'ON-DEVICE' }, { processing: 1 }]) {
      await expect(ask({ purpose: 'research', processing: 'on-device', ...bad })).rejects.toThrow(TypeError);
    }
    // The published schema names both, so a remote Veramo agent validating arguments accepts them.
    const schema = plugin.schema.components.methods.charterVerifyGrant.arguments as { properties: Record<string, { enum?: string[] }> };
    expect(schema.properties.processing?.enum).toEqual(['on-device', 'trusted-execution']);
    expect(Object.keys(schema.properties)).toContain('purpose');
  });
});
