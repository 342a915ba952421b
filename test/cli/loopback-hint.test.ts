import { describe, expect, it } from 'vitest';
import { LOOPBACK_HINT, withLoopbackHint } from '../../src/cli/io.js';

/**
 * The CLI names --allow-loopback only where it can help: a loopback host
 * refused (plain http or a non-public address on this machine). Plain http
 * to any other host stays refused whatever the flag, so naming it there
 * would send the person after a switch that changes nothing.
 */
describe('withLoopbackHint', () => {
  it.each([
    ['FORBIDDEN_ADDRESS', 'refusing http: URL 127.0.0.1:8080: only https is allowed (plain http only to loopback, for local testing)'],
    ['STATUS_UNAVAILABLE', 'refusing http: URL localhost:9: only https is allowed (plain http only to loopback, for local testing)'],
    ['DID_RESOLUTION_FAILED', 'refusing http: URL [::1]:8080: only https is allowed (plain http only to loopback, for local testing)'],
    ['DID_RESOLUTION_FAILED', 'refusing 127.0.0.1 resolves to a non-public address'],
  ])('%s on a loopback host: hinted', (code, message) => {
    expect(withLoopbackHint(code, message)).toContain(LOOPBACK_HINT);
  });

  it.each([
    ['FORBIDDEN_ADDRESS', 'refusing http: URL status.example: only https is allowed (plain http only to loopback, for local testing)'],
    ['STATUS_UNAVAILABLE', 'refusing http: URL 192.0.2.7:8080: only https is allowed (plain http only to loopback, for local testing)'],
    ['DID_RESOLUTION_FAILED', 'refusing 10.0.0.2 resolves to a non-public address'],
    ['INVALID_ARGUMENT', 'refusing http: URL 127.0.0.1: only https is allowed'],
  ])('%s elsewhere (or another code): not hinted', (code, message) => {
    expect(withLoopbackHint(code, message)).toBe(message);
  });

  it('a message that already names the flag is left as it is', () => {
    const m = `refusing http: URL 127.0.0.1:1: only https is allowed (${LOOPBACK_HINT})`;
    expect(withLoopbackHint('FORBIDDEN_ADDRESS', m)).toBe(m);
  });
});
