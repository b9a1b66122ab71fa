/**
 * Summarises a V8 `.cpuprofile`: the functions with the most self time and the most inclusive
 * time (recursion counted once). `tsx bench/summarizeProfile.ts <file.cpuprofile> [top]`; used by
 * `npm run bench -- --profile`.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export function summarizeProfile(path: string, top = 25): string {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const sampled = new Map<number, number>();
  profile.samples.forEach((id, index) => sampled.set(id, (sampled.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));

  const name = (node: ProfileNode): string => {
    const url = node.callFrame.url.replace(/^.*?\/(node_modules\/(?:@[^/]+\/)?[^/]+|src|bench)\//, '$1/');
    return `${node.callFrame.functionName || '(anonymous)'} ${url}${url ? `:${node.callFrame.lineNumber + 1}` : ''}`;
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  for (const [id, micros] of sampled) {
    total += micros;
    const node = byId.get(id) as ProfileNode;
    self.set(name(node), (self.get(name(node)) ?? 0) + micros);
    const seen = new Set<string>();
    for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
      const key = name(byId.get(current) as ProfileNode);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + micros);
    }
  }
  const rows = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, micros]) => `${(micros / 1000).toFixed(1).padStart(8)} ms ${((100 * micros) / total).toFixed(1).padStart(5)}%  ${key}`)
      .join('\n');
  return `${path}: ${(total / 1000).toFixed(0)} ms sampled\n--- self\n${rows(self)}\n--- inclusive\n${rows(inclusive)}\n`;
}

if (process.argv[1]?.endsWith('summarizeProfile.ts') && process.argv[2]) {
  process.stdout.write(summarizeProfile(process.argv[2], Number(process.argv[3] ?? 25)));
}
