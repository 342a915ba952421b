import type { Issuer } from '../credentials/types.js';
import type { PublicJwk, Signer } from '../keys/types.js';
import { hashAscii } from './sd.js';
import { splitChain } from './ap2.js';
import { disclose, jwkOf, ref, sdJwt, seconds, type Disc } from './issue-common.js';

/** The AP2 v0.2 issuing side: a root open mandate from a Charter principal, the closed hop from a Charter agent. */
export interface IssueAp2OpenMandateInput {
  /** The root of trust signing it: a user credential issuer or a trusted agent provider (AP2 agent authorization). */
  issuer: Issuer;
  kind: 'payment' | 'checkout';
  agent: { jwk: PublicJwk; kid?: string };
  /** Raw AP2 constraints (`payment.amount_range`, `checkout.line_items`, ...); `allowed` lists become selectively disclosable. */
  constraints: Record<string, unknown>[];
  /** Pre-set claims the closed mandate must repeat (payee, payment_amount, payment_instrument, execution_date). */
  preset?: Record<string, unknown>;
  now?: Date;
  /** Seconds; the AP2 specification recommends the smallest that completes the task. Default 3600. */
  expiresIn?: number;
  /** The issuer's certificate chain (RFC 7515 §4.1.6, base64 DER, leaf first), for verifiers that pin its root. */
  x5c?: string[];
}

/** Writes an AP2 v0.2 open payment or checkout mandate as a root SD-JWT (AP2 SDK `MandateClient.create` shape). */
export async function issueAp2OpenMandate(input: IssueAp2OpenMandateInput): Promise<string> {
  const now = seconds(input.now ?? new Date());
  const nested: Disc[] = [];
  // Schemas mark allowed / acceptable_items `x-selectively-disclosable-array`.
  const sdArray = (list: unknown) =>
    Array.isArray(list)
      ? list.map((x) => {
          const d = disclose(x);
          nested.push(d);
          return ref(d);
        })
      : list;
  const constraints = input.constraints.map((c) => {
    const out: Record<string, unknown> = { ...c };
    if (Array.isArray(c.allowed)) out.allowed = sdArray(c.allowed);
    if (c.type === 'checkout.line_items' && Array.isArray(c.items)) {
      out.items = c.items.map((e) =>
        e && typeof e === 'object' ? { ...(e as Record<string, unknown>), acceptable_items: sdArray((e as Record<string, unknown>).acceptable_items) } : e,
      );
    }
    return out;
  });
  const mandate = {
    vct: input.kind === 'payment' ? 'mandate.payment.open.1' : 'mandate.checkout.open.1',
    constraints,
    cnf: { jwk: jwkOf(input.agent.jwk, input.agent.kid) },
    ...(input.preset ?? {}),
    iat: now,
    exp: now + (input.expiresIn ?? 3600),
  };
  const m = disclose(mandate);
  const payload = { iss: input.issuer.did, iat: now, delegate_payload: [ref(m)], _sd_alg: 'sha-256' };
  return sdJwt({ typ: 'dc+sd-jwt', ...(input.x5c ? { x5c: input.x5c } : {}) }, payload, [...nested, m], input.issuer.signer, input.issuer.kid);
}

export interface CloseAp2MandateInput {
  /** The `~~` chain so far (an open mandate, possibly already delegated). */
  chain: string;
  /** The key the last open mandate names in cnf. */
  signer: Signer;
  kid?: string;
  /** The closed mandate: `mandate.payment.1` or `mandate.checkout.1` content. */
  mandate: Record<string, unknown>;
  aud: string;
  nonce: string;
  now?: Date;
  /** `sd_hash` (default: locks the disclosures forwarded) or `issuer_jwt_hash` (lets the next party drop disclosures). */
  hashMode?: 'sd_hash' | 'issuer_jwt_hash';
}

/** Appends the agent's closed (terminal, `typ: kb+sd-jwt`) hop to an AP2 chain (AP2 SDK `MandateClient.present`). */
export async function closeAp2Mandate(input: CloseAp2MandateInput): Promise<string> {
  const tokens = splitChain(input.chain);
  const prev = tokens[tokens.length - 1]!;
  const binding = (input.hashMode ?? 'sd_hash') === 'sd_hash' ? { sd_hash: hashAscii(prev) } : { issuer_jwt_hash: hashAscii(prev.split('~')[0]!) };
  const m = disclose(input.mandate);
  const payload = { iat: seconds(input.now ?? new Date()), aud: input.aud, nonce: input.nonce, ...binding, delegate_payload: [ref(m)], _sd_alg: 'sha-256' };
  const hop = await sdJwt({ typ: 'kb+sd-jwt' }, payload, [m], input.signer, input.kid);
  return `${input.chain.trim().replace(/~$/, '')}~~${hop}`;
}
