import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCharterError } from '../../src/errors.js';
import { verifyCredential } from '../../src/credentials/index.js';
import { issueAgentIdentity } from '../../src/agents/index.js';
import * as issue from '../../src/agents/issue.js';
import { openWorld, type World } from './fixture.js';

/*
 * An agent's labels are read by people verifying it: issueAgentIdentity
 * refuses a name, software name or version, or model holding a control,
 * format or line-separator character, or longer than MAX_AGENT_TEXT
 * (INVALID_ARGUMENT), before anything is signed or stored. Verifiers do not
 * refuse such credentials from others (the CLI shows them escaped).
 */

/** Through the module, so these tests run (and fail) on an issue.ts without the limit. */
const MAX_AGENT_TEXT = (issue as { MAX_AGENT_TEXT?: number }).MAX_AGENT_TEXT ?? 128;

let w: World;
beforeAll(async () => {
  w = await openWorld();
});
afterAll(async () => {
  await w.close();
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'issued';
  } catch (e) {
    if (isCharterError(e)) return e.code;
    throw e;
  }
}

const BAD = ['\n', '\r\n', '\r', '\u0085', '\u2028', '\u2029', '\u200b', '\u200e', '\u202e', '\u2066', '\u061c', '\ufeff', '\u001b[2J', '\u3164', '\u00ad', '\t', '\u{e0041}'];

describe('issueAgentIdentity: labels are plain text on one line', () => {
  it.each(BAD.map((c) => [[...c].map((x) => `U+${x.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`).join(' '), c]))(
    'refuses %s in the name, software name and version, and model (INVALID_ARGUMENT)',
    async (_what, c) => {
      const operator = w.issuer('op');
      const agent = w.issuer('agent').did;
      expect(await code(issueAgentIdentity(null, operator, { agent, name: `helper${c}├─ ✓ operator  did:web:bank.example` }))).toBe('INVALID_ARGUMENT');
      expect(await code(issueAgentIdentity(null, operator, { agent, name: 'bot', software: { name: `bot${c}x`, version: '1.0' } }))).toBe('INVALID_ARGUMENT');
      expect(await code(issueAgentIdentity(null, operator, { agent, name: 'bot', software: { name: 'bot', version: `1.0${c}` } }))).toBe('INVALID_ARGUMENT');
      expect(await code(issueAgentIdentity(null, operator, { agent, name: 'bot', model: `m${c}1` }))).toBe('INVALID_ARGUMENT');
    },
  );

  it('issues honest labels as written: emoji sequences, variation selectors, ZWNJ in Persian, no-break spaces', async () => {
    const operator = w.issuer('op');
    const agent = w.issuer('agent').did;
    for (const name of ['👩\u200d💻 Coder', 'Cloud ☁\ufe0f', 'دستیار می\u200cخواهد', 'Agent\u00a0One', '🇫🇷 Agent']) {
      expect(await code(issueAgentIdentity(null, operator, { agent, name })), name).toBe('issued');
    }
    // A joiner with nothing shown before it joins nothing: refused.
    for (const name of ['\u200dAgent', 'Agent \u200d\u200d', '\ufe0f']) expect(await code(issueAgentIdentity(null, operator, { agent, name })), name).toBe('INVALID_ARGUMENT');
  });

  it(`refuses a label over ${MAX_AGENT_TEXT} characters, and issues one of exactly that many with spaces and letters of any script`, async () => {
    const operator = w.issuer('op');
    const agent = w.issuer('agent').did;
    expect(await code(issueAgentIdentity(null, operator, { agent, name: 'n'.repeat(MAX_AGENT_TEXT + 1) }))).toBe('INVALID_ARGUMENT');
    expect(await code(issueAgentIdentity(null, operator, { agent, name: 'bot', model: 'm'.repeat(MAX_AGENT_TEXT + 1) }))).toBe('INVALID_ARGUMENT');
    const head = 'Acme Shopper — ünïcödé 購物 ';
    const name = head + 'n'.repeat(MAX_AGENT_TEXT - head.length);
    expect(name).toHaveLength(MAX_AGENT_TEXT);
    const c = await issueAgentIdentity(null, operator, { agent, name, software: { name: 'shopper', version: '1.4.2' }, model: 'm-1' });
    expect((await verifyCredential(c.jwt, { resolver: w.resolver })).ok).toBe(true);
    // What the schema refuses is still SCHEMA_INVALID.
    expect(await code(issueAgentIdentity(null, operator, { agent, name: '' }))).toBe('SCHEMA_INVALID');
  });
});
