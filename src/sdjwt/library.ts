/**
 * @sd-jwt/sd-jwt-vc, loaded on first use. It brings zod (about 90 modules), which only issuing and
 * presenting need: verifying never does, and the CLI starts every command, `--version` included,
 * without it.
 */
import type * as SdJwtVc from '@sd-jwt/sd-jwt-vc';

let loading: Promise<typeof SdJwtVc> | undefined;

export function loadSdJwtVc(): Promise<typeof SdJwtVc> {
  return (loading ??= import('@sd-jwt/sd-jwt-vc'));
}
