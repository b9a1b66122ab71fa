/**
 * pidriver: `PiClient` with `binary` = the fake pi, `approve: 'none'`; `session.events$` until
 * its `agent_end` (which pidriver emits after one settle-check `get_state`: pi 0.73 has no settled event).
 * `node pidriver.mjs <shape> [runs]`. BENCH_REPLAY_EVENTS overrides the replay window (for experiments),
 * BENCH_STREAM_DELTAS the stream's length.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PiClient } from '../../src/session/PiClient.js';
import { measure, report, SHAPE, STREAM_PI, type StreamInfo, type StreamResult } from './measure.js';

/** The fake pi's environment (pi's own is scrubbed): the shape, and BENCH_STREAM_DELTAS for a longer stream. */
function streamEnv(shape: string): Record<string, string> {
  const deltas = process.env['BENCH_STREAM_DELTAS'];
  return { STREAM_PI_SHAPE: shape, ...(deltas ? { STREAM_PI_DELTAS: deltas } : {}) };
}

async function pidriver(shape: string): Promise<StreamResult> {
  const client = new PiClient({
    // The dialect is pinned: the fake pi has no package.json, and probing it with --version would
    // build its whole stream once more. pi 0.73's run end (get_state after agent_end) for both shapes.
    config: { binary: STREAM_PI, dialect: 'pi-0.73', extraEnv: streamEnv(shape), startTimeoutMs: 120_000, requestTimeoutMs: 120_000 },
  });
  const replayEvents = process.env['BENCH_REPLAY_EVENTS'];
  const session = await client.start({
    cwd: mkdtempSync(join(tmpdir(), 'bench-')),
    approve: 'none',
    ...(replayEvents ? { replay: { maxEvents: Number(replayEvents) } } : {}),
  });
  const state = (await session.getState()) as unknown as { stream: StreamInfo };
  const result = await measure('pidriver', shape, state.stream, () => {
    // A new subscriber first gets the previous run replayed: count only this run's events.
    const before = session.state.eventCount;
    let delivered = 0;
    const done = new Promise<void>((resolveDone, reject) => {
      const subscription = session.events$.subscribe({
        next: (event) => {
          if (event.seq <= before) return;
          delivered++;
          if (event.type === 'agent_end') {
            subscription.unsubscribe();
            resolveDone();
          }
        },
        error: reject,
      });
    });
    void session.prompt('go');
    return { done, delivered: () => delivered };
  });
  await session.close();
  return result;
}

report(pidriver(SHAPE));
