import { createPresentation } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { API } from './world.js';

export const URL_ = 'http://127.0.0.1:9999/profile/email';

/** A presentation bound to one request, as charterFetch builds it. */
export async function bound(
  holder: Issuer,
  credentials: string[],
  o: { method?: string; url?: string; aud?: string; nonce?: string; claims?: Record<string, unknown> } = {},
): Promise<string> {
  const u = new URL(o.url ?? URL_);
  return createPresentation({
    holder,
    credentials,
    aud: o.aud ?? API,
    ...(o.nonce !== undefined ? { nonce: o.nonce } : {}),
    claims: { htm: o.method ?? 'GET', htu: u.origin + u.pathname, ...o.claims },
  });
}
