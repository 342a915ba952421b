import type { Home } from '../../home/home.js';

export interface DemoStep {
  walk: string;
  title: string;
  /** Whether what happened is what the walk expects (a refusal can be expected). */
  ok: boolean;
  detail?: string;
  code?: string;
}

export interface DemoContext {
  home: Home;
  /** Base URL of the `charter serve` instance the demo runs on loopback. */
  publicUrl: string;
  step: (s: Omit<DemoStep, 'walk'>) => void;
}
