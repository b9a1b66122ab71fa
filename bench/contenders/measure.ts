/**
 * What every benchmark contender shares: the result shapes, the measurement window, and the
 * process's own RSS. Each contender is its own entry point (bundled separately by bench/run.ts),
 * so one's modules never inflate another's RSS; the last stdout line is a JSON result.
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

export interface StreamResult {
  readonly contender: string;
  readonly shape: string;
  readonly stream: StreamInfo;
  /** Events the contender delivered to its consumer (pidriver's are its own typed events). */
  readonly delivered: number;
  /** From sending `prompt` to receiving `agent_end`. */
  readonly wallMs: number;
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  /** RSS just before the prompt was sent. */
  readonly rssBeforeMB: number;
  /** Peak RSS of the whole process (VmHWM). */
  readonly peakRssMB: number;
}

export interface StartupResult {
  readonly contender: 'startup';
  readonly order: string[];
  readonly pidriverMs: number[];
  readonly rawMs: number[];
}

/** The fake pi that streams (bench/fixtures/stream-pi.mjs), resolved from the repository root (the cwd). */
export const STREAM_PI = resolve(process.env['BENCH_STREAM_PI'] ?? 'bench/fixtures/stream-pi.mjs');

/** A field of /proc/self/status in MB (VmHWM: peak RSS; VmRSS: current). */
export function statusMB(field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** Measures one prompt: `run` sends it and returns `done`, which settles when the consumer saw agent_end. */
export async function measure(
  contender: string,
  shape: string,
  stream: StreamInfo,
  run: () => { done: Promise<void>; delivered: () => number },
): Promise<StreamResult> {
  const rssBeforeMB = statusMB('VmRSS');
  const cpu = process.cpuUsage();
  const started = performance.now();
  const { done, delivered } = run();
  await done;
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return {
    contender,
    shape,
    stream,
    delivered: delivered(),
    wallMs,
    cpuUserMs: used.user / 1000,
    cpuSystemMs: used.system / 1000,
    rssBeforeMB,
    peakRssMB: statusMB('VmHWM'),
  };
}

/** Runs a contender's main and prints its result as the last stdout line. */
export function report(result: Promise<StreamResult | StartupResult>): void {
  result.then(
    (value) => process.stdout.write(`${JSON.stringify(value)}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
