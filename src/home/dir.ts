import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** $CHARTER_HOME, else ~/.charter. */
export function resolveHome(env: NodeJS.ProcessEnv = process.env): string {
  const h = env.CHARTER_HOME;
  return h && h.length > 0 ? resolve(h) : join(env.HOME && env.HOME.length > 0 ? env.HOME : homedir(), '.charter');
}

/** Creates the home directory readable by its owner only (0700). */
export function ensureHome(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
  return dir;
}
