/**
 * Throughput and startup benchmarks: pidriver vs pi's own RpcClient vs a bare floor, on the same
 * fake-pi stream (bench/fixtures/stream-pi.mjs), each run in its own process. Writes
 * bench/RESULTS.md and prints the tables.
 *
 *   npm run bench                      # tsx bench/run.ts
 *   BENCH_REPS=5 npm run bench         # more repetitions (default 3) of each stream run
 *   npm run bench -- --profile         # also profile pidriver per shape (node --cpu-prof) and summarise
 *   npm run bench -- --no-startup      # skip the real-pi startup comparison
 */
import { execFile } from 'node:child_process';
import { cpus } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import type { StartupResult, StreamResult } from './contenders/measure.js';
import { summarizeProfile } from './summarizeProfile.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const outDir = resolve(root, 'node_modules/.cache/pidriver-bench');
const args = new Set(process.argv.slice(2));
const reps = Number(process.env['BENCH_REPS'] ?? 5);
const startupRuns = Number(process.env['BENCH_STARTUP_RUNS'] ?? 7);
const SHAPES = ['quadratic', 'delta'] as const;
const CONTENDERS = ['floor', 'rpcclient', 'pidriver'] as const;
type Shape = (typeof SHAPES)[number];
type Contender = (typeof CONTENDERS)[number];

async function bundleContenders(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  // One bundle per contender, so each process loads only its own modules. Dependencies stay
  // external (resolved from node_modules, as for the published package); the bundles sit under
  // node_modules/.cache so that resolution works and git ignores them.
  await build({
    entryPoints: ['floor', 'rpcclient', 'pidriver', 'startup'].map((name) => resolve(root, `bench/contenders/${name}.ts`)),
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
}

async function runContender(name: string, arg: string, nodeArgs: readonly string[] = []): Promise<unknown> {
  const { stdout } = await run(process.execPath, [...nodeArgs, resolve(outDir, `${name}.mjs`), arg], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  const last = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as unknown;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const fmt = (value: number, digits = 0): string => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

interface Summary {
  readonly contender: Contender;
  readonly shape: Shape;
  readonly runs: number;
  readonly mbPerS: number;
  readonly framesPerS: number;
  readonly cpuUsPerFrame: number;
  readonly wallMs: number;
  readonly peakRssMB: number;
  readonly peakRssMaxMB: number;
  readonly rssBeforeMB: number;
  readonly delivered: number;
  readonly bytes: number;
  readonly frames: number;
  readonly maxLine: number;
}

function summarize(contender: Contender, shape: Shape, results: readonly StreamResult[]): Summary {
  const first = results[0] as StreamResult;
  const wallMs = median(results.map((result) => result.wallMs));
  return {
    contender,
    shape,
    runs: results.length,
    wallMs,
    mbPerS: first.stream.bytes / 1e6 / (wallMs / 1000),
    framesPerS: first.stream.frames / (wallMs / 1000),
    cpuUsPerFrame: median(results.map((result) => ((result.cpuUserMs + result.cpuSystemMs) * 1000) / result.stream.frames)),
    peakRssMB: median(results.map((result) => result.peakRssMB)),
    peakRssMaxMB: Math.max(...results.map((result) => result.peakRssMB)),
    rssBeforeMB: median(results.map((result) => result.rssBeforeMB)),
    delivered: first.delivered,
    bytes: first.stream.bytes,
    frames: first.stream.frames,
    maxLine: first.stream.maxLine,
  };
}

async function main(): Promise<void> {
  const began = performance.now();
  await bundleContenders();
  const results = new Map<string, StreamResult[]>();
  for (let rep = 0; rep < reps; rep++) {
    for (const shape of SHAPES) {
      // Rotate the order so no contender always runs first (or right after another's GC).
      const order = CONTENDERS.map((_, index) => CONTENDERS[(index + rep) % CONTENDERS.length] as Contender);
      for (const contender of order) {
        const result = (await runContender(contender, shape)) as StreamResult;
        const key = `${contender}/${shape}`;
        results.set(key, [...(results.get(key) ?? []), result]);
        process.stderr.write(`rep ${rep + 1}/${reps} ${key}: ${fmt(result.wallMs)} ms, peak RSS ${fmt(result.peakRssMB)} MB\n`);
      }
    }
  }

  if (args.has('--profile')) {
    const dir = resolve(outDir, 'profiles');
    mkdirSync(dir, { recursive: true });
    for (const shape of SHAPES) {
      await runContender('pidriver', shape, ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=pidriver-${shape}.cpuprofile`]);
      process.stderr.write(summarizeProfile(resolve(dir, `pidriver-${shape}.cpuprofile`), 30));
    }
  }

  let startup: StartupResult | undefined;
  if (!args.has('--no-startup')) {
    startup = (await runContender('startup', String(startupRuns))) as StartupResult;
    process.stderr.write(`startup: pidriver ${startup.pidriverMs.map((ms) => fmt(ms)).join(', ')} | raw ${startup.rawMs.map((ms) => fmt(ms)).join(', ')}\n`);
  }

  const summaries = new Map<string, Summary>();
  for (const shape of SHAPES) {
    for (const contender of CONTENDERS) {
      summaries.set(`${contender}/${shape}`, summarize(contender, shape, results.get(`${contender}/${shape}`) ?? []));
    }
  }
  const report = render(summaries, startup, (performance.now() - began) / 1000);
  writeFileSync(resolve(root, 'bench/RESULTS.md'), report);
  process.stdout.write(report);
}

function render(summaries: Map<string, Summary>, startup: StartupResult | undefined, seconds: number): string {
  const get = (contender: Contender, shape: Shape) => summaries.get(`${contender}/${shape}`) as Summary;
  const lines: string[] = [];
  const cpu = cpus();
  lines.push('# Benchmark results', '');
  lines.push(
    `Node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${new Date().toISOString().slice(0, 10)}. ` +
      `Median of ${reps} runs per stream figure, contenders interleaved in rotating order; total ${fmt(seconds)} s.`,
    '',
    'Reproduce: `npm run bench` (= `tsx bench/run.ts`; `BENCH_REPS=5`, `--profile`, `--no-startup`).',
    '',
  );

  const targets: string[][] = [];
  const verdict = (ok: boolean) => (ok ? '**pass**' : '**FAIL**');
  const aPi = get('pidriver', 'quadratic');
  const aRpc = get('rpcclient', 'quadratic');
  const bPi = get('pidriver', 'delta');
  const bRpc = get('rpcclient', 'delta');
  const ratioA = aPi.mbPerS / aRpc.mbPerS;
  const ratioB = bPi.mbPerS / bRpc.mbPerS;
  targets.push(['(a) pi 0.73 quadratic stream: pidriver throughput vs RpcClient', '≥ 1.5×', `${fmt(ratioA, 2)}×`, verdict(ratioA >= 1.5)]);
  targets.push(['(b) pi 1.x delta stream: pidriver throughput vs RpcClient', '≥ 0.8×', `${fmt(ratioB, 2)}×`, verdict(ratioB >= 0.8)]);
  targets.push([
    '(a) peak RSS of the pidriver process (judged on the worst run)',
    '≤ 100 MB',
    `${fmt(aPi.peakRssMaxMB)} MB max (median ${fmt(aPi.peakRssMB)} MB)`,
    verdict(aPi.peakRssMaxMB <= 100),
  ]);
  if (startup) {
    const ratio = median(startup.pidriverMs) / median(startup.rawMs);
    targets.push([
      `Real pi startup, time to ready: client.start() vs raw spawn + get_state (median of ${startup.rawMs.length})`,
      '≤ 1.05×',
      `${fmt(ratio, 3)}× (${fmt(median(startup.pidriverMs))} ms vs ${fmt(median(startup.rawMs))} ms)`,
      verdict(ratio <= 1.05),
    ]);
  }
  lines.push('## Targets', '', '| figure | target | measured | result |', '| --- | --- | --- | --- |');
  for (const row of targets) lines.push(`| ${row.join(' | ')} |`);
  lines.push('');

  for (const shape of SHAPES) {
    const floor = get('floor', shape);
    lines.push(
      shape === 'quadratic'
        ? `## (a) pi 0.73 shape: ${fmt(floor.frames)} frames, ${fmt(floor.bytes / 1e6, 1)} MB, longest line ${fmt(floor.maxLine / 1024, 1)} KiB`
        : `## (b) pi 1.x shape: ${fmt(floor.frames)} frames, ${fmt(floor.bytes / 1e6, 1)} MB, longest line ${fmt(floor.maxLine / 1024, 1)} KiB`,
      '',
      'From sending `prompt` to the consumer seeing `agent_end`. Frames/s and CPU per frame count wire frames (the same for all);',
      '"delivered" is what the consumer got (pidriver delivers its own typed events: one `message_delta` per text delta).',
      '',
      '| contender | MB/s | frames/s | CPU µs / frame | wall ms | × floor | peak RSS MB (median / max) | RSS before MB | delivered |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const contender of CONTENDERS) {
      const summary = get(contender, shape);
      lines.push(
        `| ${contender === 'rpcclient' ? 'pi RpcClient' : contender} | ${fmt(summary.mbPerS)} | ${fmt(summary.framesPerS)} | ${fmt(summary.cpuUsPerFrame, 1)} | ${fmt(summary.wallMs)} | ${fmt(summary.mbPerS / floor.mbPerS, 2)} | ${fmt(summary.peakRssMB)} / ${fmt(summary.peakRssMaxMB)} | ${fmt(summary.rssBeforeMB)} | ${fmt(summary.delivered)} |`,
      );
    }
    lines.push('');
  }

  if (startup) {
    lines.push('## Startup of the real pi (0.73.1, offline fake LLM), ms', '', '| run | order | raw spawn + get_state | client.start() |', '| --- | --- | --- | --- |');
    startup.rawMs.forEach((raw, index) => {
      lines.push(`| ${index + 1} | ${startup.order[index] ?? ''} | ${fmt(raw)} | ${fmt(startup.pidriverMs[index] ?? Number.NaN)} |`);
    });
    lines.push(`| **median** | | **${fmt(median(startup.rawMs))}** | **${fmt(median(startup.pidriverMs))}** |`, '');
  }

  lines.push(
    '## Notes',
    '',
    '- Each contender runs in its own Node process (`node_modules/.cache/pidriver-bench/<name>.mjs`, bundled from',
    '  `bench/contenders/<name>.ts` by esbuild with dependencies external, like the published package), so CPU time and',
    '  peak RSS (VmHWM) are its own. The RpcClient process imports `@mariozechner/pi-coding-agent` from its package root,',
    '  which loads the whole agent ("RSS before" shows each baseline).',
    '- The fake pi (`bench/fixtures/stream-pi.mjs`) builds the whole stream in memory before it answers `get_state`',
    '  and writes it with backpressure, so the producer is not the bottleneck.',
    '- pidriver\'s `agent_end` comes after one more `get_state` round trip (pi 0.73 has no settled event, G5): included.',
    '',
  );
  return `${lines.join('\n')}\n`;
}

await main();
