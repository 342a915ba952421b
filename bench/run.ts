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

console.log(`Charter benchmarks: node ${process.version}, ${new Date().toISOString()}`);
await benchCredentials();
await benchSdJwt();
await benchMandates();
await benchStatus();
await benchAgents();
await benchPools();
await benchReputation();
await benchHttpsig();
await benchHttp();
await benchAudit();
await benchPostgres();
