/**
 * What every benchmark contender shares: the result shapes, the measurement window, and the
 * process's own RSS. Each contender is its own entry point (bundled separately by bench/run.ts),
 * so one's modules never inflate another's RSS; the last stdout line is a JSON result.
 *
 * A stream contender plays the same stream several times in one process: the first run is
 * cold (a fresh process: the JIT compiles as it goes), the later ones warm (the steady state of
 * a long-lived host).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

export interface StreamInfo {
  readonly shape: string;
  readonly frames: number;
  readonly bytes: number;
  readonly maxLine: number;
  readonly textLength: number;
}

/** One play of the stream. */
export interface StreamRun {
  /** Events the contender delivered to its consumer (pidriver's are its own typed events). */
  readonly delivered: number;
  /** From sending `prompt` to receiving `agent_end`. */
  readonly wallMs: number;
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  /** Peak RSS of the process so far (VmHWM), after this run. */
  readonly peakRssMB: number;
}

export interface StreamResult {
  readonly contender: string;
  readonly shape: string;
  readonly stream: StreamInfo;
  /** RSS just before the first prompt was sent. */
  readonly rssBeforeMB: number;
  /** Run 0 is cold, the rest warm. */
  readonly runs: readonly StreamRun[];
  /** JS heap in use after the runs and a full GC (when run with --expose-gc), the session still open. */
  readonly retainedHeapMB?: number;
}

export interface StartupResult {
  readonly contender: 'startup';
  readonly order: string[];
  readonly pidriverMs: number[];
  readonly rawMs: number[];
  /** `client.start()` with the default approvals (pidriver's approval extension loaded with `-e`). */
  readonly defaultApprovalsMs: number[];
}

/** `node <contender>.mjs <shape> [runs]`: the stream shape, and how many times to play it. */
export const SHAPE = process.argv[2] ?? 'quadratic';
export const RUNS = Math.max(1, Number(process.argv[3] ?? 1));

/** The fake pi that streams (bench/fixtures/stream-pi.mjs), resolved from the repository root (the cwd). */
export const STREAM_PI = resolve(process.env['BENCH_STREAM_PI'] ?? 'bench/fixtures/stream-pi.mjs');

/** A field of /proc/self/status in MB (VmHWM: peak RSS; VmRSS: current). */
export function statusMB(field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/**
 * Plays the stream {@link RUNS} times: `play(index)` sends a prompt and returns `done`, which
 * settles when the consumer saw that run's `agent_end`, and the count of delivered events.
 */
export async function measure(
  contender: string,
  shape: string,
  stream: StreamInfo,
  play: (index: number) => { done: Promise<void>; delivered: () => number },
): Promise<StreamResult> {
  const rssBeforeMB = statusMB('VmRSS');
  const runs: StreamRun[] = [];
  for (let index = 0; index < RUNS; index++) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    const { done, delivered } = play(index);
    await done;
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    runs.push({ delivered: delivered(), wallMs, cpuUserMs: used.user / 1000, cpuSystemMs: used.system / 1000, peakRssMB: statusMB('VmHWM') });
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return { contender, shape, stream, rssBeforeMB, runs };
  gc();
  return { contender, shape, stream, rssBeforeMB, runs, retainedHeapMB: process.memoryUsage().heapUsed / 1024 / 1024 };
}

/** Runs a contender's main and prints its result as the last stdout line. */
export function report(result: Promise<unknown>): void {
  result.then(
    (value) => process.stdout.write(`${JSON.stringify(value)}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
