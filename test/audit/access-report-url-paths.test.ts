import { describe, expect, it } from 'vitest';
import { accessReportUrl } from '../../src/audit/access-report.js';

/**
 * accessReportUrl reads a grant nobody verified: whatever its status list path, the report goes to that status
 * list's own origin (as before the path prefix was kept, so nothing leaves for a server the old rule would not
 * have posted to), beside where the list itself is fetched from (the same parsed, dot-resolved path), and a
 * nested or odd path never lands under a prefix other than the list's own base. The grant's signature is not
 * needed here (accessReportUrl does not check it), so a hand-made vc+jwt carries each status URL.
 */
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const grantWith = (statusListCredential: string) =>
  `${b64({ alg: 'EdDSA', typ: 'vc+jwt' })}.${b64({
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    id: 'urn:uuid:6f0e4c1a-0000-4000-8000-000000000001',
    type: ['VerifiableCredential', 'DataAccessGrant'],
    issuer: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK',
    credentialSubject: { id: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK' },
    credentialStatus: { type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '1', statusListCredential },
  })}.c2ln`;

describe('accessReportUrl of a grant whose status list path is odd or chosen by whoever made the grant', () => {
  it.each([
    // A home at https://host/a/status/x issues lists at .../a/status/x/status/<id>: its base is the whole prefix.
    ['https://host/a/status/x/status/y', 'https://host/a/status/x/access-reports'],
    ['https://host/a/statuslists/x/statuslists/y', 'https://host/a/statuslists/x/access-reports'],
    // Encoded slashes stay one segment, as in the list's own URL (a proxy decoding them routes both alike).
    ['https://host/alice%2F..%2Fmallory/status/x', 'https://host/alice%2F..%2Fmallory/access-reports'],
    // Dot segments, plain or percent-encoded, are resolved as for the list's fetch: beside the list actually read.
    ['https://host/alice/../mallory/status/x', 'https://host/mallory/access-reports'],
    ['https://host/a/%2e%2E/b/status/x', 'https://host/b/access-reports'],
    // Query and fragment of the list URL are no part of the report URL.
    ['https://host/creds/status/3?x=1#f', 'https://host/creds/access-reports'],
    // Not a Charter list path: the origin's root, as before.
    ['https://host/a/status/x/', 'https://host/access-reports'],
    ['https://host:8443/a/Status/x', 'https://host:8443/access-reports'],
    ['https://other.example/status/x', 'https://other.example/access-reports'],
  ])("%s -> %s, on the list's own origin", (status, expected) => {
    const url = accessReportUrl(grantWith(status));
    expect(url).toBe(expected);
    expect(new URL(url).origin).toBe(new URL(status).origin);
  });

  it.each(['mailto:a@b.example', 'data:text/plain,x', 'https://u:p@host/status/x', 'ftp://host/status/x', 'not a url'])('%s: INVALID_ARGUMENT, nothing to post to', (status) => {
    expect(() => accessReportUrl(grantWith(status))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
