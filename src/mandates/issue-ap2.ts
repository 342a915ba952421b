import type { Issuer } from '../credentials/types.js';
import type { PublicJwk, Signer } from '../keys/types.js';
import { hashAscii } from './sd.js';
import { CharterError, shown } from '../errors.js';
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
  /**
   * Pre-set claims the closed mandate must repeat: for a payment mandate payee, payment_amount,
   * payment_instrument, pisp, execution_date (and risk_data, signals for the network); a checkout mandate
   * has none. Any other member is refused (INVALID_ARGUMENT): a verifier would not enforce it.
   */
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
  const preset = presetOf(input.kind, input.preset);
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
    ...preset,
    iat: now,
    exp: now + (input.expiresIn ?? 3600),
  };
  const m = disclose(mandate);
  const payload = { iss: input.issuer.did, iat: now, delegate_payload: [ref(m)], _sd_alg: 'sha-256' };
  return sdJwt({ typ: 'dc+sd-jwt', ...(input.x5c ? { x5c: input.x5c } : {}) }, payload, [...nested, m], input.issuer.signer, input.issuer.kid);
}

/** open_payment_mandate.json: the members a payment mandate may pre-set, with the JSON type each must have. */
const PRESETS: Record<string, (v: unknown) => boolean> = {
  payee: (v) => isObject(v) && typeof v.id === 'string' && v.id !== '' && typeof v.name === 'string',
  payment_amount: (v) => isObject(v) && Number.isSafeInteger(v.amount) && typeof v.currency === 'string',
  payment_instrument: (v) => isObject(v) && typeof v.id === 'string' && typeof v.type === 'string',
  pisp: (v) => isObject(v) && Object.keys(v).length > 0,
  execution_date: (v) => typeof v === 'string',
  risk_data: (v) => isObject(v),
};
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function presetOf(kind: 'payment' | 'checkout', preset: unknown): Record<string, unknown> {
  if (preset === undefined) return {};
  if (!isObject(preset)) throw new CharterError('INVALID_ARGUMENT', 'preset must be an object');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(preset)) {
    const ok = kind === 'payment' && Object.hasOwn(PRESETS, k) ? PRESETS[k]! : undefined;
    if (!ok) {
      const what = kind === 'payment' ? 'payee, payment_amount, payment_instrument, pisp, execution_date or risk_data' : 'nothing (an open checkout mandate has no preset members)';
      throw new CharterError('INVALID_ARGUMENT', `preset ${JSON.stringify(shown(k, 40))} is not an AP2 v0.2 open ${kind} mandate member: it may set ${what}`);
    }
    if (!ok(v)) throw new CharterError('INVALID_ARGUMENT', `preset ${k} does not have the shape of the AP2 v0.2 schema`);
    out[k] = v;
  }
  return out;
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
