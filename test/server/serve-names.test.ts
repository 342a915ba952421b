import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { namer } from '../../src/server/consent-view.js';
import { renderAccessReports } from '../../src/server/access-report-view.js';
import { openHome, type Home } from '../../src/home/home.js';
import { serveHome, type RunningServer } from '../../src/server/serve.js';
import { issueGrant } from '../../src/grants/index.js';
import { createAccessReport, homeReportUrl } from '../../src/audit/index.js';
import { sha256Digest } from '../../src/encoding/json.js';
import { createDidWeb } from '../../src/did/web.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { serve, tempDir } from '../helpers.js';
import { handReceipt } from '../audit/hand-receipt.js';

/** A did:web path segment exactly as an attacker would percent-encode it (every reserved character escaped). */
const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const SENTENCE = 'Your grant was leaked! Call +1 555 0100 to secure it';
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
// eslint-disable-next-line no-control-regex -- what a label must never hold
const UNSAFE = /[\s\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/u;

describe('a did:web label on the consent page is a name, never a sentence', () => {
  const name = namer([]);

  it('a path that is a sentence shows percent-encoded (no spaces) and shortened, the full DID kept', () => {
    const did = `did:web:verifier.example:${enc(SENTENCE)}`;
    const n = name(did);
    expect(n.full).toBe(did);
    expect(n.kind).toBe('web');
    expect(n.label.startsWith('verifier.example/')).toBe(true);
    expect(n.label).not.toMatch(/\s/);
    expect(n.label).not.toContain('Your grant was leaked');
    // Shortened by whole escapes (never half of "%20"): the first 20 and the last 12 characters or escapes.
    expect(n.label).toBe('verifier.example/Your%20grant%20was%20leake…to%20secure%20it');
  });

  it('a right-to-left override never reaches the page: the segment is shown escaped', () => {
    const n = name('did:web:127.0.0.1%3A8443:%E2%80%AEelpmaxe.knab');
    expect(n.label).toBe('127.0.0.1:8443/%E2%80%AEelpmaxe.knab');
    expect(n.label).not.toMatch(BIDI);
    // Every other invisible or format character too (zero-width space, isolates, soft hyphen, BOM, newline).
    for (const c of ['\u200b', '\u2066', '\u00ad', '\ufeff', '\n', '\u0085', '\u2028']) {
      const label = name(`did:web:shop.example:users:${enc(`bob${c}`)}`).label;
      expect([JSON.stringify(c), UNSAFE.test(label)]).toEqual([JSON.stringify(c), false]);
      expect(label).toBe(`shop.example/users/${enc(`bob${c}`)}`);
    }
  });

  it('plain names still read as they are: host, port and path, letters of any script', () => {
    expect(name('did:web:shop.example').label).toBe('shop.example');
    expect(name('did:web:shop.example%3A8443:users:bob').label).toBe('shop.example:8443/users/bob');
    expect(name('did:web:shop.example:users:caf%C3%A9').label).toBe('shop.example/users/café');
    expect(name('did:web:shop.example:users:a%7Eb').label).toBe('shop.example/users/a~b');
  });

  it('a host that is no host name, or a short-form DID with invisible characters, shows none of them', () => {
    expect(name('did:web:evil%20host.example').kind).toBe('short');
    expect(name('did:web:evil%20host.example').label).not.toMatch(UNSAFE);
    expect(name('did:example:\u202eabc').label).not.toMatch(BIDI);
    expect(name('did:example:a\u202ebcdefghijklmnopqrstuvwxyz').label).not.toMatch(BIDI);
  });

  it('no did:web label, whatever its path, holds whitespace, a control, bidi or format character', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 30 }), { minLength: 1, maxLength: 4 }), (segments) => {
        const n = name(`did:web:shop.example:${segments.map(enc).join(':')}`);
        expect(n.label).not.toMatch(UNSAFE);
        expect(n.label).not.toMatch(BIDI);
      }),
    );
  });

  it('the reported-uses list shows a verifier and a reporter by those labels', () => {
    const verifier = `did:web:v.example:${enc(SENTENCE)}`;
    const reporter = 'did:web:r.example:%E2%80%AEelpmaxe.knab';
    const html = renderAccessReports([{ receiptId: 'r1', verifier, reporter, outcome: 'allow', action: 'read', resource: 'profile/email', at: '2026-01-01T00:00:00Z' } as never], {
      name,
    });
    expect(html).not.toContain('Your grant was leaked');
    expect(html).not.toMatch(BIDI);
    expect(html).toContain('r.example/%E2%80%AEelpmaxe.knab');
  });
});

/** The same through `charter serve`: a verifier whose did:web path is a sentence reports a use of a grant. */
describe('consent page: reported uses by a did:web whose path is a sentence', () => {
  let home: Home;
  let server: RunningServer;
  let other: Awaited<ReturnType<typeof serve>>;
  let doc: unknown;

  beforeAll(async () => {
    home = await openHome({ home: tempDir(), passphrase: async () => 'names passphrase', allowLoopback: true });
    await home.init();
    server = await serveHome(home, { port: 0 });
    await home.setPublicUrl(server.url);
    await home.createIdentity({ alias: 'alice' });
    await home.createIdentity({ alias: 'app' });
    other = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/did+json' });
      res.end(JSON.stringify(doc));
    });
  });
  afterAll(async () => {
    await other.close();
    await server.close();
    await home.close();
  });

  it('the page names the verifier by host and escaped path: no sentence, no right-to-left override', async () => {
    const alice = await home.issuer('alice');
    const app = await home.issuer('app');
    const g = await issueGrant(home.store, alice, {
      grantee: app.did,
      resources: ['profile/email'],
      actions: ['read'],
      purpose: 'names',
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: server.url,
    });
    for (const path of [enc(SENTENCE), '%E2%80%AEelpmaxe.knab']) {
      const kp = generateKeyPair('Ed25519');
      const web = createDidWeb({ domain: `127.0.0.1%3A${other.port}:${path}`, publicJwk: kp.publicJwk });
      doc = web.document;
      const v = { did: web.did, kid: web.kid, signer: createSigner(kp.privateJwk) } as unknown as Issuer;
      const receipt = await handReceipt(v, {
        sub: app.did,
        grant: { id: g.id, iss: alice.did },
        credentials: [{ h: sha256Digest(g.jwt), id: g.id, iss: alice.did, type: ['DataAccessGrant'] }],
        request: { htm: 'GET', htu: 'https://api.example/profile/email' },
        policy: { kind: 'grant', resource: 'profile/email', action: 'read', owner: alice.did },
      });
      const report = await createAccessReport(v, { aud: homeReportUrl(server.url), grant: g.id, receipts: [receipt] });
      const r = await fetch(`${server.url}/access-reports`, { method: 'POST', headers: { 'content-type': 'application/jwt' }, body: report });
      expect(r.status).toBe(202);
    }
    const page = await (await fetch(`${server.url}/consent`)).text();
    const uses = page.slice(page.indexOf('<ul class="uses">'));
    expect(uses).toContain('used it: read profile/email');
    expect(page).not.toContain(SENTENCE);
    expect(page).not.toMatch(BIDI);
    expect(uses).toContain(`127.0.0.1:${other.port}/%E2%80%AEelpmaxe.knab`);
  });
});
