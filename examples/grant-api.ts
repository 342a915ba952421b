// A data API that serves a user's email only to apps the user has granted access, until revoked.
// Run: npx tsx examples/grant-api.ts
import express from 'express';
// In your project: import { … } from 'charter/express' and 'charter'.
import { charter, charterFetch, createVerifier, requireGrant } from '../src/http/adapters/express.js';
import { issueGrant, revokeGrant } from '../src/grants/index.js';
import { createResolver } from '../src/did/index.js';
import { createStatusChecker } from '../src/status/index.js';
import { listen, show, throwawayHome } from './setup.js';

const { home, baseUrl, apiStore, done } = await throwawayHome(['alice', 'app']);
const API = 'did:web:api.example';

const alice = await home.issuer('alice');
const appId = await home.issuer('app');

// ---- the API ----
const app = express();
const api = await listen(app);
const resolver = createResolver({ allowLoopback: true, allowHttp: true });
let skipped = 0; // lets the demo skip past the status list's cache lifetime
const verifier = createVerifier({
  aud: API,
  store: apiStore,
  publicOrigin: api.url, // the origin clients address: presentations are bound to it, never to the Host header
  resolver,
  status: createStatusChecker({ resolver, allowLoopback: true, allowHttp: true, now: () => Date.now() + skipped }),
});
// Whose data each path is: a grant counts only from the owner of the data asked for.
const users: Record<string, string> = { alice: alice!.did };
app.get(
  '/users/:user/email',
  charter(verifier, requireGrant({ resource: (req) => `profile/${req.params.user}/email`, action: 'read', owner: (req) => users[String(req.params.user)] ?? '' })),
  (req, res) => res.json({ email: `${req.params.user}@example.com`, grantedBy: req.charter!.grant!.grantor }),
);

// ---- Alice grants the app read access to her email for 30 days ----
const grant = await issueGrant(home.store, alice, {
  grantee: appId.did,
  resources: ['profile/alice/email'],
  actions: ['read'],
  purpose: 'order updates',
  validUntil: new Date(Date.now() + 30 * 86_400_000),
  baseUrl,
});

// ---- the app calls the API: each request carries a presentation bound to it ----
const asApp = { holder: appId, credentials: [grant.jwt], aud: API };
await show("app reads alice's email", await charterFetch(`${api.url}/users/alice/email`, {}, asApp));
await show("app reads bob's email (a grant from alice covers only alice's data)", await charterFetch(`${api.url}/users/bob/email`, {}, asApp));
await show('no presentation', await fetch(`${api.url}/users/alice/email`));
await revokeGrant(home.store, grant.id, (did) => home.issuer(did));
skipped = 301_000; // five minutes later, the API's cached status list has expired
await show('after alice revokes the grant', await charterFetch(`${api.url}/users/alice/email`, {}, asApp));

api.close();
await done();
