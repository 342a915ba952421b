/**
 * Resource matching for grants: exact, or a grant resource ending in `/*`
 * covers every path below that prefix (`photos/*` covers `photos/2024/a.jpg`,
 * not `photos` itself). No other wildcards: a grant means what it says.
 */
export function resourceCovered(granted: readonly string[], requested: string): boolean {
  return granted.some((g) => g === requested || (g.endsWith('/*') && requested.startsWith(g.slice(0, -1)) && requested.length > g.length - 1));
}

export function actionCovered(granted: readonly string[], requested: string): boolean {
  return granted.includes(requested);
}
