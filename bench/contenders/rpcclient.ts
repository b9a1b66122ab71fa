/**
 * pi's own `RpcClient` (imported from the package root, as its docs show), `onEvent` until
 * `agent_end`. It spawns `node <cliPath> --mode rpc`; `cliPath` is the fake pi.
 * `node rpcclient.mjs <shape> [runs]`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RpcClient } from '@mariozechner/pi-coding-agent';
import { measure, report, SHAPE, STREAM_PI, type StreamInfo, type StreamResult } from './measure.js';

async function rpcclient(shape: string): Promise<StreamResult> {
  const client = new RpcClient({ cliPath: STREAM_PI, env: { STREAM_PI_SHAPE: shape }, cwd: mkdtempSync(join(tmpdir(), 'bench-')) });
  await client.start();
  const state = (await client.getState()) as unknown as { stream: StreamInfo };
  const result = await measure('rpcclient', shape, state.stream, () => {
    let delivered = 0;
    let unsubscribe: () => void = () => undefined;
    const done = new Promise<void>((resolveDone) => {
      unsubscribe = client.onEvent((event) => {
        delivered++;
        if (event.type === 'agent_end') resolveDone();
      });
    });
    void client.prompt('go');
    return { done: done.finally(unsubscribe), delivered: () => delivered };
  });
  await client.stop();
  return result;
}

report(rpcclient(SHAPE));
