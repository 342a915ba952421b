// `npm run bench`: every section in one run, figures side by side as ratios.
import { benchCredentials } from './credentials.js';
import { benchStatus } from './status.js';
import { benchAgents } from './agents.js';
import { benchReputation } from './reputation.js';
import { benchHttp } from './http.js';
import { benchAudit } from './audit.js';
import { benchHttpsig } from './httpsig.js';
import { benchPostgres } from './postgres.js';
import { benchSdJwt } from './sdjwt.js';
import { benchPools } from './pools.js';
import { benchMandates } from './mandates.js';
import { benchReplay } from './replay.js';

const SECTIONS: Record<string, () => Promise<unknown>> = {
  credentials: benchCredentials,
  sdjwt: benchSdJwt,
  mandates: benchMandates,
  status: benchStatus,
  replay: benchReplay,
  agents: benchAgents,
  pools: benchPools,
  reputation: benchReputation,
  httpsig: benchHttpsig,
  http: benchHttp,
  audit: benchAudit,
  postgres: benchPostgres,
};

// `npm run bench -- http reputation` runs only those sections (in this file's order).
const asked = process.argv.slice(2);
const unknown = asked.filter((a) => !(a in SECTIONS));
if (unknown.length > 0) {
  console.error(`unknown bench section(s): ${unknown.join(', ')}; sections: ${Object.keys(SECTIONS).join(', ')}`);
  process.exit(2);
}
console.log(`Charter benchmarks: node ${process.version}, ${new Date().toISOString()}`);
for (const [name, run] of Object.entries(SECTIONS)) if (asked.length === 0 || asked.includes(name)) await run();
