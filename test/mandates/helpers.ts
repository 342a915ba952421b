import { createHash, randomBytes } from 'node:crypto';
import { createSigner, generateKeyPair, publicJwkOf } from '../../src/keys/index.js';
import type { KeyPair, PrivateJwk, PublicJwk, Signer } from '../../src/keys/types.js';
import { didKeyRef } from '../../src/did/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { vi } from './vectors.js';

/** Test fixtures: VI keys from the golden vectors, fresh P-256 parties, an L1 issuer, merchant checkout JWTs. */
export interface Party {
  signer: Signer;
  publicJwk: PublicJwk;
  kid: string;
  issuer: Issuer;
}

export function partyOf(privateJwk: PrivateJwk, kid?: string): Party {
  const publicJwk = publicJwkOf(privateJwk);
  const ref = didKeyRef('jwk', publicJwk);
  const signer = createSigner(privateJwk);
  return { signer, publicJwk, kid: kid ?? ref.kid, issuer: { ...ref, ...(kid ? { kid } : {}), signer } };
}

export function freshParty(kid?: string, type: KeyPair['type'] = 'P-256'): Party {
  return partyOf(generateKeyPair(type).privateJwk, kid);
}

export const viParty = (who: 'issuer' | 'user' | 'agent' | 'merchant'): Party => partyOf(vi.keys[who].private as unknown as PrivateJwk, vi.keys[who].kid);

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

export async function signCompact(header: Record<string, unknown>, payload: Record<string, unknown>, p: { signer: Signer; kid?: string }): Promise<string> {
  const input = `${b64({ alg: p.signer.alg, ...header, ...(p.kid ? { kid: p.kid } : {}) })}.${b64(payload)}`;
  return `${input}.${Buffer.from(await p.signer.sign(new TextEncoder().encode(input))).toString('base64url')}`;
}

/** A VI L1 (credential-format §3) binding `user` in cnf, with an email disclosure. */
export async function makeL1(issuer: Party, user: PublicJwk, opts: { iat: number; exp: number; cardId?: string; cnfKid?: string }): Promise<string> {
  const disc = Buffer.from(JSON.stringify([randomBytes(16).toString('base64url'), 'email', 'user@example.com'])).toString('base64url');
  const digest = createHash('sha256').update(disc).digest('base64url');
  const payload = {
    iss: 'https://issuer.example.com',
    sub: 'user-1',
    iat: opts.iat,
    exp: opts.exp,
    vct: 'https://credentials.mastercard.com/card',
    cnf: { jwk: { ...user, ...(opts.cnfKid ? { kid: opts.cnfKid } : {}) } },
    pan_last_four: '1234',
    scheme: 'mastercard',
    ...(opts.cardId ? { card_id: opts.cardId } : {}),
    _sd: [digest],
    _sd_alg: 'sha-256',
  };
  return `${await signCompact({ typ: 'sd+jwt' }, payload, issuer)}~${disc}~`;
}

export const MERCHANTS = [
  { id: 'merchant-uuid-1', name: 'Tennis Warehouse', website: 'https://tennis-warehouse.com' },
  { id: 'merchant-uuid-2', name: 'Babolat', website: 'https://babolat.com' },
];
export const INSTRUMENT = { type: 'mastercard.srcDigitalCard', id: 'f199c3dd-7106-478b-9b5f-7af9ca725170', description: 'Mastercard **** 1234' };

/** A merchant-signed checkout JWT (credential-format §6.3 guidance; UCP line_items). */
export function checkoutJwt(
  merchant: Party,
  opts: { iat: number; items: { id: string; quantity: number }[]; merchantObj?: Record<string, unknown>; total?: number },
): Promise<string> {
  return signCompact(
    { typ: 'JWT' },
    {
      iss: 'https://tennis-warehouse.com',
      iat: opts.iat,
      exp: opts.iat + 3600,
      ...(opts.merchantObj ? { merchant: opts.merchantObj } : {}),
      line_items: opts.items.map((i) => ({ id: `line-${i.id}`, item: { id: i.id, title: i.id, price: 27999 }, quantity: i.quantity })),
      currency: 'USD',
      total: opts.total ?? 27999,
    },
    merchant,
  );
}
