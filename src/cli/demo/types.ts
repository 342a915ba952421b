import type { Home } from '../../home/home.js';

export interface DemoStep {
  walk: string;
  /** What happened, as a plain sentence a non-expert follows ("alice lets shop.example read her email until 1 Jan"). */
  title: string;
  /** Whether what happened is what the walk expects (an expected refusal is ok). */
  ok: boolean;
  /** What the walk expects of this step: allowed (default) or refused. A refusal prints ✗ with its reason and "as expected". */
  expect?: 'allowed' | 'refused';
  /** The Charter code of a refusal. */
  code?: string;
  /** Technical detail (ids, formats, indices): printed only with --verbose. */
  detail?: string;
  /** Set when the part could not run here, with why (e.g. an optional peer dependency is missing). */
  skipped?: string;
}

export interface DemoContext {
  home: Home;
  /** Base URL of the `charter serve` instance the demo runs on loopback. */
  publicUrl: string;
  step: (s: Omit<DemoStep, 'walk'>) => void;
}
