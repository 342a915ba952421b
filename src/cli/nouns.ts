import type { Command } from 'commander';
import type { CliContext } from './io.js';

type Register = (program: Command, ctx: CliContext) => void;

interface Noun {
  /** The top-level commands its modules register. */
  readonly names: readonly string[];
  readonly load: () => Promise<Register[]>;
}

/**
 * Every noun of `charter <noun> <verb>`, in the order `charter --help` lists them, with the modules
 * that register it. A command loads only its own noun's modules (about half of the ES modules the
 * whole tree needs), so `charter vc verify` does not start by loading pools, audit and payments.
 */
export const NOUNS: readonly Noun[] = [
  { names: ['init', 'config'], load: async () => [(await import('./init.js')).registerInit] },
  { names: ['id'], load: async () => [(await import('./id.js')).registerId] },
  { names: ['did'], load: async () => [(await import('./did.js')).registerDid] },
  { names: ['vc'], load: async () => [(await import('./vc.js')).registerVc] },
  { names: ['vp'], load: async () => [(await import('./vp.js')).registerVp] },
  { names: ['grant'], load: async () => [(await import('./grant.js')).registerGrant] },
  { names: ['status'], load: async () => [(await import('./status.js')).registerStatus] },
  { names: ['serve'], load: async () => [(await import('./serve.js')).registerServe] },
  {
    names: ['agent'],
    // `agent directory` is added to the agent command, so it is registered after it.
    load: async () => {
      const [agent, directory] = await Promise.all([import('./agent.js'), import('./agent-directory.js')]);
      return [agent.registerAgent, directory.registerAgentDirectory];
    },
  },
  { names: ['rep'], load: async () => [(await import('./rep.js')).registerRep] },
  { names: ['demo'], load: async () => [(await import('./demo.js')).registerDemo] },
  { names: ['http'], load: async () => [(await import('./http.js')).registerHttp] },
  { names: ['sd-jwt'], load: async () => [(await import('./sdjwt.js')).registerSdJwt] },
  { names: ['mandate'], load: async () => [(await import('./mandate.js')).registerMandate] },
  { names: ['pool'], load: async () => [(await import('./pool.js')).registerPool] },
  { names: ['audit'], load: async () => [(await import('./audit.js')).registerAudit] },
  { names: ['evidence'], load: async () => [(await import('./evidence.js')).registerEvidence] },
];

/**
 * The registrars an argv needs: its noun's only when its first word names one; every noun otherwise
 * (no word, `help`, `--help`, a mistyped noun: help and suggestions list them all), none for `--version`.
 */
export async function registrarsFor(argv?: readonly string[]): Promise<Register[]> {
  const first = argv?.[0];
  if (argv?.length === 1 && (first === '--version' || first === '-V')) return [];
  const only = first === undefined ? undefined : NOUNS.find((n) => n.names.includes(first));
  return (await Promise.all((only ? [only] : NOUNS).map((n) => n.load()))).flat();
}
