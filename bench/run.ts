/**
 * pidriver's benchmarks (issue 8): throughput, CPU and memory against pi's own RpcClient, a
 * bare split + JSON.parse floor and the pipe itself, on the same fake-pi streams, side by side
 * in one run; a slow subscriber with and without `coalesceDeltas`; startup of the real pi;
 * scale. Each contender runs in its own process. Writes bench/RESULTS.md and prints it.
 *
 *   npm run bench                      # tsx bench/run.ts
 *   BENCH_REPS=5 npm run bench         # more processes per contender and shape (default 3)
 *   BENCH_RUNS=8 npm run bench         # streams per process (default 5: 1 cold + 4 warm)
 *   npm run bench -- --profile         # also profile pidriver per shape (node --cpu-prof) and summarise
 *   npm run bench -- --no-startup --no-scale   # the fake-pi figures only (no real pi)
 */
import { execFile } from 'node:child_process';
import { cpus, tmpdir } from 'node:os';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import type { StartupResult, StreamResult, StreamRun } from './contenders/measure.js';
import type { ManagerScaleResult, RealScaleResult } from './contenders/scale.js';
import type { SlowResult } from './contenders/slow.js';
import { summarizeProfile } from './summarizeProfile.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const outDir = resolve(root, 'node_modules/.cache/pidriver-bench');
const args = new Set(process.argv.slice(2));
const reps = Number(process.env['BENCH_REPS'] ?? 3);
const runsPerProcess = Math.max(2, Number(process.env['BENCH_RUNS'] ?? 5));
const startupRuns = Number(process.env['BENCH_STARTUP_RUNS'] ?? 7);
const SHAPES = ['quadratic', 'delta'] as const;
const CONTENDERS = ['pipe', 'pipe-reused', 'floor', 'rpcclient', 'pidriver', 'pidriver-replay-1k'] as const;
const ENTRIES = ['pipe', 'floor', 'rpcclient', 'pidriver', 'slow', 'startup', 'scale', 'llm'];
type Shape = (typeof SHAPES)[number];
type Contender = (typeof CONTENDERS)[number];
const LABEL: Record<Contender, string> = {
  pipe: 'pipe (read only)',
  'pipe-reused': 'pipe, one reused read buffer (read only, as pidriver reads)',
  floor: 'floor (split + JSON.parse)',
  rpcclient: 'pi RpcClient',
  pidriver: 'pidriver',
  'pidriver-replay-1k': 'pidriver, `replay: { maxEvents: 1000 }` (for information)',
};
/** The entry point and environment of a contender (a variant is an entry point with other settings). */
const ENTRY_OF: Record<Contender, { readonly entry: string; readonly env?: Record<string, string> }> = {
  pipe: { entry: 'pipe' },
  'pipe-reused': { entry: 'pipe', env: { BENCH_PIPE_REUSED: '1' } },
  floor: { entry: 'floor' },
  rpcclient: { entry: 'rpcclient' },
  pidriver: { entry: 'pidriver' },
  'pidriver-replay-1k': { entry: 'pidriver', env: { BENCH_REPLAY_EVENTS: '1000' } },
};

async function bundleContenders(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  // One bundle per contender, so each process loads only its own modules. Dependencies stay
  // external (resolved from node_modules, as for the published package); the bundles sit under
  // node_modules/.cache so that resolution works and git ignores them.
  await build({
    entryPoints: ENTRIES.map((name) => resolve(root, `bench/contenders/${name}.ts`)),
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

async function runEntry<T>(name: string, argv: readonly string[], options: { nodeArgs?: readonly string[]; env?: Record<string, string> } = {}): Promise<T> {
  const { stdout } = await run(process.execPath, [...(options.nodeArgs ?? []), resolve(outDir, `${name}.mjs`), ...argv], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, ...options.env },
  });
  const last = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as T;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const fmt = (value: number, digits = 0): string => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const log = (line: string): void => void process.stderr.write(`${line}\n`);

interface Figures {
  readonly wallMs: number;
  readonly wallMinMs: number;
  readonly wallMaxMs: number;
  readonly cpuUsPerFrame: number;
}

interface Summary {
  readonly cold: Figures;
  readonly warm: Figures;
  /** Peak RSS after the first (cold) stream: median and max over the processes. */
  readonly peakFirstMB: number;
  readonly peakFirstMaxMB: number;
  /** Peak RSS after all the streams of a process (max). */
  readonly peakAllMaxMB: number;
  readonly rssBeforeMB: number;
  readonly delivered: number;
  readonly bytes: number;
  readonly frames: number;
  readonly maxLine: number;
}

function figures(runs: readonly StreamRun[], frames: number): Figures {
  const walls = runs.map((entry) => entry.wallMs);
  return {
    wallMs: median(walls),
    wallMinMs: Math.min(...walls),
    wallMaxMs: Math.max(...walls),
    cpuUsPerFrame: median(runs.map((entry) => ((entry.cpuUserMs + entry.cpuSystemMs) * 1000) / frames)),
  };
}

function summarize(results: readonly StreamResult[]): Summary {
  const first = results[0] as StreamResult;
  const frames = first.stream.frames;
  return {
    cold: figures(
      results.map((result) => result.runs[0] as StreamRun),
      frames,
    ),
    warm: figures(
      results.flatMap((result) => result.runs.slice(1)),
      frames,
    ),
    peakFirstMB: median(results.map((result) => (result.runs[0] as StreamRun).peakRssMB)),
    peakFirstMaxMB: Math.max(...results.map((result) => (result.runs[0] as StreamRun).peakRssMB)),
    peakAllMaxMB: Math.max(...results.map((result) => (result.runs.at(-1) as StreamRun).peakRssMB)),
    rssBeforeMB: median(results.map((result) => result.rssBeforeMB)),
    delivered: (first.runs[0] as StreamRun).delivered,
    bytes: first.stream.bytes,
    frames,
    maxLine: first.stream.maxLine,
  };
}

interface Growth {
  readonly shape: Shape;
  readonly deltas: readonly [number, number];
  readonly bytes: readonly [number, number];
  readonly peakMB: readonly [number, number];
  /** JS heap in use after a full GC, the session (and its replay window) still alive. */
  readonly retainedMB: readonly [number, number];
  /** Characters of the reply (kept as the run's result: message_complete, agent_end, their raw frames). */
  readonly textLength: readonly [number, number];
}

async function main(): Promise<void> {
  const began = performance.now();
  await bundleContenders();

  // Throughput and memory: every contender, every shape, interleaved in a rotating order.
  const results = new Map<string, StreamResult[]>();
  for (let rep = 0; rep < reps; rep++) {
    for (const shape of SHAPES) {
      const order = CONTENDERS.map((_, index) => CONTENDERS[(index + rep) % CONTENDERS.length] as Contender);
      for (const contender of order) {
        const { entry, env } = ENTRY_OF[contender];
        const result = await runEntry<StreamResult>(entry, [shape, String(runsPerProcess)], env ? { env } : {});
        const key = `${contender}/${shape}`;
        results.set(key, [...(results.get(key) ?? []), result]);
        log(
          `rep ${rep + 1}/${reps} ${key}: ${result.runs.map((entry) => fmt(entry.wallMs)).join(', ')} ms, peak RSS ${fmt((result.runs[0] as StreamRun).peakRssMB)} MB`,
        );
      }
    }
  }

  // Nothing grows with the stream's length: pidriver's peak RSS on a stream twice as long.
  const growth: Growth[] = [];
  for (const [shape, deltas] of [
    ['quadratic', [5_000, 7_071]],
    ['delta', [200_000, 400_000]],
  ] as const) {
    const peaks: number[] = [];
    const sizes: number[] = [];
    const retained: number[] = [];
    const texts: number[] = [];
    for (const count of deltas) {
      // A replay window of 1,000 events: full in both runs, so what could still grow is per frame.
      const result = await runEntry<StreamResult>('pidriver', [shape, '1'], {
        env: { BENCH_STREAM_DELTAS: String(count), BENCH_REPLAY_EVENTS: '1000' },
        nodeArgs: ['--expose-gc'],
      });
      peaks.push((result.runs[0] as StreamRun).peakRssMB);
      sizes.push(result.stream.bytes);
      retained.push(result.retainedHeapMB ?? Number.NaN);
      texts.push(result.stream.textLength);
    }
    const pair = (values: readonly number[]) => [values[0] as number, values[1] as number] as const;
    growth.push({ shape, deltas, bytes: pair(sizes), peakMB: pair(peaks), retainedMB: pair(retained), textLength: pair(texts) });
    log(
      `growth ${shape}: ${deltas.join(' → ')} deltas, retained heap ${retained.map((mb) => fmt(mb, 1)).join(' → ')} MB, peak RSS ${peaks.map((peak) => fmt(peak)).join(' → ')} MB`,
    );
  }

  // A slow subscriber, with and without coalesceDeltas.
  const slow: SlowResult[] = [];
  for (const mode of ['plain', 'coalesced']) {
    const result = await runEntry<SlowResult>('slow', [mode]);
    slow.push(result);
    log(`slow subscriber ${mode}: ${fmt(result.deltas)} deltas, ${fmt(result.wallMs)} ms`);
  }

  if (args.has('--profile')) {
    const dir = resolve(outDir, 'profiles');
    mkdirSync(dir, { recursive: true });
    for (const shape of SHAPES) {
      await runEntry('pidriver', [shape, String(runsPerProcess)], {
        nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=pidriver-${shape}.cpuprofile`],
      });
      log(summarizeProfile(resolve(dir, `pidriver-${shape}.cpuprofile`), 30));
    }
  }

  let startup: StartupResult | undefined;
  if (!args.has('--no-startup')) {
    startup = await runEntry<StartupResult>('startup', [String(startupRuns)]);
    log(`startup: pidriver ${startup.pidriverMs.map((ms) => fmt(ms)).join(', ')} | raw ${startup.rawMs.map((ms) => fmt(ms)).join(', ')}`);
  }

  let managerScale: ManagerScaleResult | undefined;
  let realScale: RealScaleResult | undefined;
  if (!args.has('--no-scale')) {
    managerScale = await runEntry<ManagerScaleResult>('scale', ['manager', '200'], { nodeArgs: ['--expose-gc'] });
    log(`scale: 200 sessions, ${fmt(managerScale.createMs)} ms to create, stopAll ${fmt(managerScale.stopAllMs)} ms`);
    realScale = await runEntry<RealScaleResult>('scale', ['real', '20']);
    log(`scale: 20 real pi, host ${fmt(realScale.hostCpuMs)} ms CPU, pi ${fmt(realScale.piCpuMs)} ms CPU`);
  }

  const summaries = new Map<string, Summary>();
  for (const [key, list] of results) summaries.set(key, summarize(list));
  const report = render({ summaries, growth, slow, startup, managerScale, realScale, seconds: (performance.now() - began) / 1000 });
  writeFileSync(resolve(root, 'bench/RESULTS.md'), report);
  process.stdout.write(report);
}

interface Report {
  readonly summaries: Map<string, Summary>;
  readonly growth: readonly Growth[];
  readonly slow: readonly SlowResult[];
  readonly startup: StartupResult | undefined;
  readonly managerScale: ManagerScaleResult | undefined;
  readonly realScale: RealScaleResult | undefined;
  readonly seconds: number;
}

function render({ summaries, growth, slow, startup, managerScale, realScale, seconds }: Report): string {
  const get = (contender: Contender, shape: Shape) => summaries.get(`${contender}/${shape}`) as Summary;
  const lines: string[] = [];
  const cpu = cpus();
  const verdict = (ok: boolean) => (ok ? '**pass**' : '**FAIL**');
  const ratio = (shape: Shape, phase: 'cold' | 'warm') => get('rpcclient', shape)[phase].wallMs / get('pidriver', shape)[phase].wallMs;

  lines.push('# Benchmark results', '');
  lines.push(
    `Node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${new Date().toISOString().slice(0, 10)}; ` +
      `${reps} processes per contender and stream, ${runsPerProcess} streams each (the first cold, the rest warm), contenders interleaved in rotating order; total ${fmt(seconds)} s.`,
    '',
    'Reproduce: `npm run bench` (= `tsx bench/run.ts`; `BENCH_REPS`, `BENCH_RUNS`, `--profile`, `--no-startup`, `--no-scale`).',
    '',
  );

  const targets: string[][] = [];
  for (const [shape, name, target] of [
    ['quadratic', '(a) pi 0.73 quadratic stream', 1.5],
    ['delta', '(b) pi 1.x delta stream', 0.8],
  ] as const) {
    const warm = ratio(shape, 'warm');
    const cold = ratio(shape, 'cold');
    targets.push([`${name}: pidriver throughput ÷ RpcClient's, steady state (warm process)`, `≥ ${target}×`, `${fmt(warm, 2)}×`, verdict(warm >= target)]);
    targets.push([
      `${name}: the same, first stream of a fresh process (cold: JIT still compiling)`,
      `≥ ${target}×`,
      `${fmt(cold, 2)}×`,
      verdict(cold >= target),
    ]);
  }
  const a = get('pidriver', 'quadratic');
  targets.push([
    '(a) peak RSS of the pidriver process, one stream (worst of the processes)',
    '≤ 100 MB',
    `${fmt(a.peakFirstMaxMB)} MB (median ${fmt(a.peakFirstMB)}; ${fmt(a.rssBeforeMB)} before the stream; RpcClient ${fmt(get('rpcclient', 'quadratic').peakFirstMB)})`,
    verdict(a.peakFirstMaxMB <= 100),
  ]);
  for (const entry of growth) {
    const grew = entry.retainedMB[1] - entry.retainedMB[0];
    // The reply itself is kept (the run's result: message_complete, agent_end and their raw
    // frames): a few copies of the extra text may stay, nothing per frame may.
    const allowed = (4 * (entry.textLength[1] - entry.textLength[0])) / 1024 / 1024 + 0.5;
    targets.push([
      `Nothing grows with the stream's length: pidriver's JS heap after a full GC, ${entry.shape === 'quadratic' ? '(a)' : '(b)'} ${fmt(entry.bytes[0] / 1e6)} MB vs ${fmt(entry.bytes[1] / 1e6)} MB stream (reply ${fmt(entry.textLength[0] / 1e3)} vs ${fmt(entry.textLength[1] / 1e3)} k characters; replay window 1,000 events, full in both)`,
      `< +${fmt(allowed, 1)} MB (4 copies of the longer reply)`,
      `${fmt(entry.retainedMB[0], 1)} → ${fmt(entry.retainedMB[1], 1)} MB (${grew >= 0 ? '+' : ''}${fmt(grew, 1)}); peak RSS ${fmt(entry.peakMB[0])} → ${fmt(entry.peakMB[1])} MB`,
      verdict(grew < allowed),
    ]);
  }
  if (startup) {
    const startRatio = median(startup.pidriverMs) / median(startup.rawMs);
    targets.push([
      `Real pi startup, time to ready: client.start() ÷ raw spawn + get_state (median of ${startup.rawMs.length})`,
      '≤ 1.05×',
      `${fmt(startRatio, 3)}× (${fmt(median(startup.pidriverMs))} ms vs ${fmt(median(startup.rawMs))} ms)`,
      verdict(startRatio <= 1.05),
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
      'Wall time from sending `prompt` to the consumer seeing `agent_end`; MB/s and frames/s from the warm median. CPU counts every',
      'thread of the process (JIT compiler and GC helpers too) per wire frame. "delivered" is what the consumer got (pidriver: its own',
      'typed events, one `message_delta` per text delta).',
      '',
      '| contender | MB/s | frames/s | wall ms, warm: median (min–max) | wall ms, cold | × RpcClient (warm / cold) | CPU µs / frame (warm / cold) | peak RSS MB, 1 stream (median / max) | peak RSS MB, all streams | RSS before MB | delivered |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    const rpc = get('rpcclient', shape);
    for (const contender of CONTENDERS) {
      const s = get(contender, shape);
      lines.push(
        `| ${LABEL[contender]} | ${fmt(s.bytes / 1e6 / (s.warm.wallMs / 1000))} | ${fmt(s.frames / (s.warm.wallMs / 1000))} | ${fmt(s.warm.wallMs)} (${fmt(s.warm.wallMinMs)}–${fmt(s.warm.wallMaxMs)}) | ${fmt(s.cold.wallMs)} | ${fmt(rpc.warm.wallMs / s.warm.wallMs, 2)} / ${fmt(rpc.cold.wallMs / s.cold.wallMs, 2)} | ${fmt(s.warm.cpuUsPerFrame, 1)} / ${fmt(s.cold.cpuUsPerFrame, 1)} | ${fmt(s.peakFirstMB)} / ${fmt(s.peakFirstMaxMB)} | ${fmt(s.peakAllMaxMB)} | ${fmt(s.rssBeforeMB)} | ${fmt(s.delivered)} |`,
      );
    }
    lines.push('');
  }

  const plain = slow.find((result) => result.mode === 'plain');
  const coalesced = slow.find((result) => result.mode === 'coalesced');
  if (plain && coalesced) {
    lines.push(
      `## A slow subscriber: ${fmt(plain.workUs)} µs of synchronous work per \`message_delta\` (a repaint), (b) shape, ${fmt(plain.stream.frames)} frames`,
      '',
      'RxJS has no backpressure: a synchronous subscriber runs inside the pipeline, so pi waits on the pipe and nothing buffers in the',
      'host, but the stream goes only as fast as the repaints. `coalesceDeltas(16)` merges the deltas of each 16 ms window into one.',
      '',
      '| subscriber | deltas handled | characters received | wall ms | CPU ms | peak RSS MB |',
      '| --- | --- | --- | --- | --- | --- |',
      `| \`events$\` | ${fmt(plain.deltas)} | ${fmt(plain.textLength)} | ${fmt(plain.wallMs)} | ${fmt(plain.cpuMs)} | ${fmt(plain.peakRssMB)} |`,
      `| \`events$.pipe(coalesceDeltas(16))\` | ${fmt(coalesced.deltas)} | ${fmt(coalesced.textLength)} | ${fmt(coalesced.wallMs)} | ${fmt(coalesced.cpuMs)} | ${fmt(coalesced.peakRssMB)} |`,
      '',
    );
  }

  if (startup) {
    lines.push(
      '## Startup of the real pi (0.73.1, offline, fake LLM), ms',
      '',
      'Time to ready: `client.start()` (resolve the binary, detect the dialect from its package.json, spawn, `get_state`) against a',
      'raw `child_process.spawn` of the same argv and environment that writes `get_state` at once and waits for the reply. Both with',
      "`approve: 'none'`; the last column is `client.start()` with the default approvals, which load pidriver's approval extension",
      '(`-e`): another argv, so not part of the ratio.',
      '',
      '| run | order | raw spawn + get_state | client.start() | client.start(), default approvals |',
      '| --- | --- | --- | --- | --- |',
    );
    startup.rawMs.forEach((raw, index) => {
      lines.push(
        `| ${index + 1} | ${startup.order[index] ?? ''} | ${fmt(raw)} | ${fmt(startup.pidriverMs[index] ?? Number.NaN)} | ${fmt(startup.defaultApprovalsMs[index] ?? Number.NaN)} |`,
      );
    });
    lines.push(
      `| **median** | | **${fmt(median(startup.rawMs))}** | **${fmt(median(startup.pidriverMs))}** | **${fmt(median(startup.defaultApprovalsMs))}** |`,
      '',
    );
  }

  if (managerScale || realScale) {
    lines.push('## Scale', '');
    if (managerScale) {
      const perSessionRss = ((managerScale.rssAfterMB - managerScale.rssBeforeMB) * 1024) / managerScale.sessions;
      const perSessionHeap = ((managerScale.heapAfterMB - managerScale.heapBeforeMB) * 1024) / managerScale.sessions;
      lines.push(
        `${fmt(managerScale.sessions)} sessions in one \`PiSessionManager\`, each a fake pi process (\`bench/fixtures/idle-pi.sh\`, a shell answering \`get_state\`):`,
        '',
        '| figure | measured |',
        '| --- | --- |',
        `| host memory per session (RSS / JS heap) | ${fmt(perSessionRss)} KiB / ${fmt(perSessionHeap)} KiB |`,
        `| create all (20 at a time) | ${fmt(managerScale.createMs)} ms (${fmt(managerScale.createMs / managerScale.sessions, 1)} ms per session) |`,
        `| host CPU per reaper tick (${fmt(managerScale.reapIntervalMs)} ms ticks, all idle) | ${fmt(managerScale.cpuPerTickMs, 2)} ms (${fmt((100 * managerScale.cpuPerTickMs) / managerScale.reapIntervalMs, 1)}% of a core) |`,
        `| \`stopAll()\` (EOF, exit, reap each tree) | ${fmt(managerScale.stopAllMs)} ms, ${fmt(managerScale.stopped)} closed |`,
        '',
      );
    }
    if (realScale) {
      const total = realScale.hostCpuMs + realScale.piCpuMs + realScale.llmCpuMs;
      lines.push(
        `${fmt(realScale.sessions)} real pi sessions streaming at once (\`scenario:long:${fmt(realScale.deltasEach)}\`: ${fmt(realScale.deltasEach)} deltas each, pi 0.73's quadratic frames; the fake LLM in its own process):`,
        '',
        '| figure | measured |',
        '| --- | --- |',
        `| wall time, all replies | ${fmt(realScale.wallMs)} ms (${fmt(realScale.events)} events) |`,
        `| host process (pidriver) CPU | ${fmt(realScale.hostCpuMs)} ms: **${fmt((100 * realScale.hostCpuMs) / total, 1)}%** of all CPU used (${fmt((realScale.hostCpuMs * 1000) / realScale.events, 1)} µs per event) |`,
        `| the ${fmt(realScale.sessions)} pi processes | ${fmt(realScale.piCpuMs)} ms (${fmt((100 * realScale.piCpuMs) / total, 1)}%) |`,
        `| fake LLM | ${fmt(realScale.llmCpuMs)} ms (${fmt((100 * realScale.llmCpuMs) / total, 1)}%) |`,
        '',
      );
    }
  }

  lines.push(
    '## Notes',
    '',
    '- Each contender runs in its own Node process (`node_modules/.cache/pidriver-bench/<name>.mjs`, bundled from',
    '  `bench/contenders/<name>.ts` by esbuild with dependencies external, like the published package), so CPU time and',
    '  peak RSS (VmHWM) are its own. The RpcClient process imports `@mariozechner/pi-coding-agent` from its package root,',
    '  which loads the whole agent ("RSS before" shows each baseline; pidriver\'s is rxjs, zod and execa).',
    '- The fake pi (`bench/fixtures/stream-pi.mjs`) builds the stream in memory before it answers `get_state` and writes it',
    '  with backpressure, so the producer is not the bottleneck; every prompt replays the same stream.',
    '- Cold vs warm: in the first stream of a fresh process the JIT is still compiling (on helper threads: see the CPU column);',
    '  a host that drives pi for longer than a few seconds runs warm.',
    "- pidriver's `agent_end` comes after one more `get_state` round trip (pi 0.73 has no settled event): included.",
    "- pidriver keeps the current run's events for late subscribers (10,000 events / 16 MiB by default): on (b) that window is",
    '  most of its garbage-collection work (events that live for 10,000 frames); the `replay: { maxEvents: 1000 }` row shows it.',
    '- Peak RSS: the 64 KiB buffer Node allocates for every pipe read (154 MB of them on (a)) is freed only by a GC, and a reader',
    "  that allocates little JS heap (the pipe row) lets tens of MB of them wait for one. pidriver reads pi's stdout into one",
    '  reused buffer instead (`src/transport/readIntoReusedBuffer.ts`; the "one reused read buffer" row is that read alone).',
    '- The machine is shared and noisy: compare the ratios (measured side by side), not the absolute times.',
    '',
  );
  return `${lines.join('\n')}\n`;
}

// The contenders make temporary work dirs (a cwd, an agent dir): all go in one private TMPDIR,
// removed when the run ends, so a benchmark leaves nothing behind.
const privateTmp = mkdtempSync(join(tmpdir(), 'pidriver-bench-'));
process.env['TMPDIR'] = privateTmp;
try {
  await main();
} finally {
  rmSync(privateTmp, { recursive: true, force: true });
}
