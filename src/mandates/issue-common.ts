import { randomBytes, createHash } from 'node:crypto';
import { Disclosure } from '@sd-jwt/utils';
import { CharterError } from '../errors.js';
import { numericDate, signedDate } from '../encoding/time.js';
import type { Money } from '../agents/types.js';
import type { PublicJwk, Signer } from '../keys/types.js';
import { assertVerifyUse, validatePublicJwk } from '../keys/index.js';
import { toMinorUnits } from './money.js';

/**
 * The issuing side: a Charter principal (an `Issuer`: DID, kid, signer)
 * writes a Verifiable Intent L2 or an AP2 open mandate, and a Charter agent
 * closes them, so Charter-run agents can pay where these protocols are
 * expected. Both protocols sign with ES256 (VI credential-format §12, AP2
 * P-256 keys): the signer must be P-256. Amounts come in as Charter money
 * (decimal strings) and leave as integer minor units.
 */
const HASH = {
  hasher: (d: string | ArrayBuffer) =>
    new Uint8Array(
      createHash('sha256')
        .update(typeof d === 'string' ? d : new Uint8Array(d))
        .digest(),
    ),
  alg: 'sha-256',
};

export interface Disc {
  encoded: string;
  digest: string;
}

/** An RFC 9901 disclosure: [salt, value] (array element) or [salt, name, value]. */
export function disclose(value: unknown, key?: string): Disc {
  const salt = randomBytes(16).toString('base64url');
  const d = new Disclosure(key === undefined ? [salt, value] : [salt, key, value]);
  return { encoded: d.encode(), digest: d.digestSync(HASH) };
}

export const ref = (d: Disc) => ({ '...': d.digest });

function needEs256(signer: Signer): void {
  if (signer.alg !== 'ES256') throw new CharterError('INVALID_ARGUMENT', 'Verifiable Intent v0.1 and AP2 v0.2 sign with ES256: use a P-256 key');
}

export async function sdJwt(header: Record<string, unknown>, payload: Record<string, unknown>, discs: Disc[], signer: Signer, kid: string | undefined): Promise<string> {
  needEs256(signer);
  const h = Buffer.from(JSON.stringify({ alg: signer.alg, ...header, ...(kid ? { kid } : {}) })).toString('base64url');
  const input = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const jwt = `${input}.${Buffer.from(await signer.sign(new TextEncoder().encode(input))).toString('base64url')}`;
  return [jwt, ...discs.map((d) => d.encoded), ''].join('~');
}

/** NumericDate of a caller's `now`: an Invalid Date would sign iat and exp as null, a mandate without expiry. */
export const seconds = (now: unknown): number => numericDate(signedDate(now ?? null, 'now')!);

export function minor(m: Money, path: string): { currency: string; amount: number } {
  try {
    return { currency: m.currency, amount: toMinorUnits(m) };
  } catch (e) {
    throw new CharterError('INVALID_ARGUMENT', `${path}: ${(e as Error).message}`);
  }
}

/**
 * The key a mandate binds in `cnf` (the user's in L1, the agent's in an open mandate or L2): a key that signs
 * the next layer. RFC 7517 §4.2-4.3: one marked for encryption never could (the verifier refuses it,
 * trust.ts keyFromJwk), and validatePublicJwk would drop the mark that says so: refused here, INVALID_KEY.
 */
export const jwkOf = (j: PublicJwk, kid?: string) => {
  assertVerifyUse(j, 'the key bound in cnf');
  return { ...validatePublicJwk(j), ...(kid ? { kid } : {}) };
};
