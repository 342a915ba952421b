import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { issueGrant } from '../../grants/index.js';
import { createStatusChecker } from '../../status/index.js';
import { charterFetch, receiptOf } from '../../http/client.js';
import { requireGrant } from '../../http/guards.js';
import { RECEIPT_HEADER } from '../../http/refusal.js';
import { createVerifier } from '../../guard/verifier.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import { accessReports, exportEvidence, sendAccessReport, verifyAuditLog, verifyEvidence, verifyReceipt, type DecisionReceipt } from '../../audit/index.js';
import { serveDemoApi } from './api.js';
import type { DemoContext } from './types.js';

/** Who answers for a decision: a signed receipt of each one, a log that shows any edit, a bundle that proves it offline. */
export async function auditWalk({ home, step, publicUrl }: DemoContext): Promise<void> {
  const gina = await home.createIdentity({ alias: 'gina' });
  const app = await home.createIdentity({ alias: 'news-app' });
  await home.createIdentity({ alias: 'profile-api' });
  const grant = await issueGrant(home.store, await home.issuer('gina'), {
    grantee: app.did,
    resources: ['profile/email'],
    actions: ['read'],
    purpose: 'weekly digest',
    validUntil: new Date(Date.now() + 86_400_000),
    baseUrl: publicUrl,
  });
  step({ title: 'gina lets news-app read her email address for a day', ok: true, detail: grant.id });

  // The API keeps its own store (its audit log), apart from the home.
  const dbFile = join(home.dir, 'profile-api.db');
  const store = await openSqliteStore(dbFile);
  const signer = await home.issuer('profile-api');
  const guard = requireGrant<IncomingMessage>({ resource: (req) => new URL(req.url ?? '/', 'http://x').pathname.slice(1), action: 'read', owner: gina.did });
  const server = await serveDemoApi(guard, (_req, res, d) => {
    res.writeHead(200, { 'content-type': 'application/json', [RECEIPT_HEADER]: d.receipt! });
    res.end(JSON.stringify({ email: 'gina@example.org' }));
  });
  const base = server.base;
  const api = 'did:web:profiles.example';
  const verifier = createVerifier({
    aud: api,
    store,
    publicOrigin: base,
    resolver: home.resolver,
    status: createStatusChecker({ resolver: home.resolver, allowLoopback: true, allowHttp: true }),
    receipts: { signer },
  });
  server.use(verifier);
  let closed = false;
  try {
    const as = { holder: await home.issuer('news-app'), credentials: [grant.jwt], aud: api };
    const read = await charterFetch(`${base}/profile/email`, {}, as);
    await read.body?.cancel();
    const receipt = receiptOf(read);
    step({
      title: "news-app reads gina's email: the API's answer carries a receipt the API signed",
      ok: read.status === 200 && receipt !== undefined,
      detail: `Charter-Receipt: ${receipt?.slice(0, 60)}…`,
    });
    const v = await verifyReceipt(receipt ?? '', { resolver: home.resolver, issuers: [signer.did] });
    const c = v.claims as DecisionReceipt | undefined;
    step({
      title: 'anyone can check the receipt: signed by the API, it says allowed, for news-app, for GET /profile/email',
      ok: v.ok && c?.decision === 'allow' && c.sub === app.did && 'htm' in c.request && c.request.htm === 'GET',
      detail: `charter-receipt+jwt ${c?.jti}: decision ${c?.decision}, presentation ${c?.vp}, log seq ${c?.log.seq}`,
    });

    const phone = await charterFetch(`${base}/profile/phone`, {}, as);
    const phoneCode = ((await phone.json()) as { code?: string }).code;
    step({
      title: "news-app asks for gina's phone, outside the grant; the refusal gets a signed receipt too",
      ok: phone.status === 403 && receiptOf(phone) !== undefined,
      expect: 'refused',
      ...(phoneCode ? { code: phoneCode } : {}),
    });

    const log = await verifyAuditLog(store, { resolver: home.resolver });
    step({
      title: "the API's audit log checks out: each decision signed and chained to the one before",
      ok: log.ok && log.chains[0]?.entries === 2,
      detail: `chain ${log.chains[0]?.chain}: ${log.chains[0]?.entries} entries`,
    });

    await verifier.receipts!.checkpoint();
    const bundle = await exportEvidence(store, c?.jti ?? '');
    step({
      title: 'the API exports the evidence of the allowed read: receipt, presentation, grant, DID documents, status lists, log',
      ok: bundle.credentials.length === 1,
      detail: `${Object.keys(bundle.dids).length} DID documents, ${Object.keys(bundle.statusLists).length} status lists, ${bundle.log.entries.length} log entries + checkpoint`,
    });

    // Someone with database access turns the refusal into an allow.
    const db = new Database(dbFile);
    db.prepare("UPDATE audit_entries SET outcome = 'allow' WHERE seq = 2").run();
    db.close();
    const broken = await verifyAuditLog(store, { resolver: home.resolver });
    step({
      title: 'someone edits the log to turn that refusal into an allow; the check names entry 2',
      ok: !broken.ok && broken.broken?.seq === 2,
      expect: 'refused',
      ...(broken.broken ? { code: broken.broken.code, detail: broken.broken.message } : {}),
    });

    const sent = await sendAccessReport(signer, { grant: grant.jwt, receipts: [receipt ?? ''] }, { allowLoopback: true, allowHttp: true });
    const uses = await accessReports(home.store, grant.id);
    step({
      title: 'the API reports the read back to gina: her consent page shows who used the grant, when, for what',
      ok: sent.status === 202 && uses.length === 1,
      detail: `${uses[0]?.verifier} ${uses[0]?.action} ${uses[0]?.resource} at ${uses[0]?.at}`,
    });

    await store.close();
    await server.close();
    closed = true;
    rmSync(dbFile, { force: true });
    rmSync(`${dbFile}-wal`, { force: true });
    rmSync(`${dbFile}-shm`, { force: true });
    // Held to the API's own signing identity: a bundle another key signed would fail its receipt part.
    const offline = await verifyEvidence(JSON.parse(JSON.stringify(bundle)), { issuers: [signer.did] });
    step({
      title: "the bundle alone proves the read, with no network and the API's database deleted",
      ok: offline.ok,
      detail: offline.parts.map((p) => `${p.ok ? '✓' : '✗'} ${p.part}`).join(', '),
    });

    const altered = JSON.parse(JSON.stringify(bundle)) as typeof bundle;
    const [first, ...rest] = altered.credentials[0]!;
    altered.credentials[0] = (first === 'e' ? 'f' : 'e') + rest.join('');
    const caught = await verifyEvidence(altered, { issuers: [signer.did] });
    const part = caught.parts.find((p) => !p.ok);
    step({
      title: 'one character of the grant in the bundle changed; the check names the altered part',
      ok: !caught.ok && part?.part === 'credential 0',
      expect: 'refused',
      ...(part ? { code: part.reasons[0]!.code, detail: part.part } : {}),
    });
  } finally {
    if (!closed) {
      await store.close();
      await server.close();
    }
  }
}
