/**
 * A slow subscriber: each `message_delta` costs it `SLOW_SUBSCRIBER_US` µs of synchronous work
 * (a UI repainting), with and without `coalesceDeltas(16)`. RxJS has no backpressure: the work
 * runs inside the pipeline, so without merging, the stream goes as fast as the repaints; nothing
 * buffers (pi waits on the pipe). `node slow.mjs <plain|coalesced>`, on the pi 1.x delta shape
 * (STREAM_PI_DELTAS deltas, default 50,000).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Observable } from 'rxjs';
import type { PiEvent } from '../../src/protocol/events.js';
import { coalesceDeltas } from '../../src/rx/coalesceDeltas.js';
import { PiClient } from '../../src/session/PiClient.js';
import { report, statusMB, STREAM_PI, type StreamInfo } from './measure.js';

export interface SlowResult {
  readonly contender: 'slow';
  readonly mode: string;
  readonly stream: StreamInfo;
  readonly workUs: number;
  /** Deltas the subscriber handled (repaints). */
  readonly deltas: number;
  /** Characters it received: the whole text, either way. */
  readonly textLength: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly peakRssMB: number;
}

const WORK_US = Number(process.env['SLOW_SUBSCRIBER_US'] ?? 20);

function work(us: number): void {
  const until = performance.now() + us / 1000;
  while (performance.now() < until) {
    // a repaint
  }
}

async function slow(mode: string): Promise<SlowResult> {
  const client = new PiClient({
    config: {
      binary: STREAM_PI,
      dialect: 'pi-0.73',
      extraEnv: { STREAM_PI_SHAPE: 'delta', STREAM_PI_DELTAS: process.env['STREAM_PI_DELTAS'] ?? '50000' },
      startTimeoutMs: 120_000,
      requestTimeoutMs: 120_000,
    },
  });
  const session = await client.start({ cwd: mkdtempSync(join(tmpdir(), 'bench-')), approve: 'none' });
  const state = (await session.getState()) as unknown as { stream: StreamInfo };
  const events$: Observable<PiEvent> = mode === 'coalesced' ? session.events$.pipe(coalesceDeltas(16)) : session.events$;
  let deltas = 0;
  let textLength = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await new Promise<void>((resolveDone, reject) => {
    const subscription = events$.subscribe({
      next: (event) => {
        if (event.type === 'message_delta') {
          deltas++;
          textLength += event.text.length;
          work(WORK_US);
        } else if (event.type === 'agent_end') {
          subscription.unsubscribe();
          resolveDone();
        }
      },
      error: reject,
    });
    void session.prompt('go');
  });
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await session.close();
  return {
    contender: 'slow',
    mode,
    stream: state.stream,
    workUs: WORK_US,
    deltas,
    textLength,
    wallMs,
    cpuMs: (used.user + used.system) / 1000,
    peakRssMB: statusMB('VmHWM'),
  };
}

report(slow(process.argv[2] ?? 'plain'));
