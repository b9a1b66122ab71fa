/**
 * pidriver: `PiClient` with `binary` = the fake pi, `approve: 'none'`; `session.events$` until
 * its `agent_end` (which pidriver emits after one settle-check `get_state`, G5). `node pidriver.mjs <shape>`.
 * BENCH_REPLAY_EVENTS overrides the replay window (for experiments).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PiClient } from '../../src/session/PiClient.js';
import { measure, report, STREAM_PI, type StreamInfo, type StreamResult } from './measure.js';

async function pidriver(shape: string): Promise<StreamResult> {
  const client = new PiClient({
    config: { binary: STREAM_PI, extraEnv: { STREAM_PI_SHAPE: shape }, startTimeoutMs: 120_000, requestTimeoutMs: 120_000 },
  });
  const replayEvents = process.env['BENCH_REPLAY_EVENTS'];
  const session = await client.start({
    cwd: mkdtempSync(join(tmpdir(), 'bench-')),
    approve: 'none',
    ...(replayEvents ? { replay: { maxEvents: Number(replayEvents) } } : {}),
  });
  const state = (await session.getState()) as unknown as { stream: StreamInfo };
  const result = await measure('pidriver', shape, state.stream, () => {
    let delivered = 0;
    const done = new Promise<void>((resolveDone, reject) => {
      const subscription = session.events$.subscribe({
        next: (event) => {
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

report(pidriver(process.argv[2] ?? 'quadratic'));
