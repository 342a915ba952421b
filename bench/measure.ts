/** Runs `fn` after a warm-up for about `ms` milliseconds and returns operations per second. */
export async function opsPerSecond(fn: () => unknown, ms = 1500): Promise<number> {
  const warm = performance.now() + 200;
  while (performance.now() < warm) await fn();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 50; i++) await fn();
    n += 50;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

export interface Row {
  name: string;
  opsPerSec?: number;
  ms?: number;
  note?: string;
}

export function printTable(title: string, rows: Row[]): void {
  console.log(`\n## ${title}`);
  for (const r of rows) {
    const v = r.opsPerSec !== undefined ? `${Math.round(r.opsPerSec).toLocaleString('en-US').padStart(10)} ops/s` : `${r.ms!.toFixed(1).padStart(10)} ms   `;
    console.log(`  ${r.name.padEnd(58)} ${v}${r.note ? `  ${r.note}` : ''}`);
  }
}

export const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}`;
