import { randomUUID } from 'node:crypto';

/** A decision receipt's claims as the pipeline hands them to the AuditWriter (it adds iss and log). */
export function decisionClaims() {
  const now = new Date();
  return {
    jti: `urn:uuid:${randomUUID()}`,
    iat: Math.floor(now.getTime() / 1000),
    time: now.toISOString(),
    kind: 'decision' as const,
    verifier: 'did:web:api.example',
    decision: 'allow' as const,
    status: 200,
    reasons: [],
    request: { htm: 'GET', htu: 'http://x/y' },
    policy: { kind: 'presentation' as const },
    credentials: [],
    chain: [],
  };
}
