import { describe, expect, it } from 'vitest';
import { createPresentation, issueCredential, jwsSpellings } from '../../src/credentials/index.js';
import { createResolver } from '../../src/did/index.js';
import { decide } from '../../src/guard/decide.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { makeIssuer } from '../helpers.js';
import { eachStore } from '../store/fixtures/each-store.js';

/*
 * An ES256 signature (r, s) has a twin (r, n - s) that verifies (credentials/twins.ts), so anyone who saw
 * a holder's ES256 presentation can send it in a second spelling. The replay cache keys a presentation by
 * what it says (its holder and jti, or the challenge nonce), never by its bytes: the twin is the same
 * presentation, used up already, on either store.
 */
const AUD = 'did:web:api.example';
const stores = eachStore('twin');

describe.each(stores)('an ES256 presentation and its twin are one presentation (%s)', (_name, open) => {
  for (const nonces of ['iat', 'challenge'] as const) {
    it(`${nonces} mode: whichever spelling comes first, the other is a replay`, async () => {
      const store = await open();
      const verifier = createVerifier({ aud: AUD, store, resolver: createResolver(), http: false, nonces });
      const holder = makeIssuer('P-256');
      const issuer = makeIssuer('Ed25519');
      const { jwt } = await issueCredential({ issuer, subject: holder.did, type: 'MembershipCredential', claims: { member: true } });
      for (const twinFirst of [false, true]) {
        const nonce = nonces === 'challenge' ? (await verifier.issueNonce()).nonce : undefined;
        const vp = await createPresentation({ holder, credentials: [jwt], aud: AUD, ...(nonce !== undefined ? { nonce } : {}) });
        const spellings = jwsSpellings(vp);
        expect(spellings).toHaveLength(2);
        const [first, second] = twinFirst ? [spellings[1]!, spellings[0]!] : spellings;
        const a = await decide(verifier, first, { kind: 'presentation' }, { kind: 'none' });
        expect([a.ok, a.reasons]).toEqual([true, []]);
        const b = await decide(verifier, second, { kind: 'presentation' }, { kind: 'none' });
        expect([b.ok, b.reasons.map((r) => r.code)]).toEqual([false, ['REPLAY_DETECTED']]);
      }
    });
  }
});
