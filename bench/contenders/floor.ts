/**
 * The floor: spawn the fake pi, split stdout on `\n`, `JSON.parse` each line, nothing else.
 * `node floor.mjs <shape> [runs]`.
 */
import { spawn } from 'node:child_process';
import { measure, report, SHAPE, STREAM_PI, type StreamInfo, type StreamResult } from './measure.js';

type Frame = { type?: string; data?: { stream?: StreamInfo } };

async function floor(shape: string): Promise<StreamResult> {
  const child = spawn(process.execPath, [STREAM_PI, '--mode', 'rpc'], {
    env: { ...process.env, STREAM_PI_SHAPE: shape },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let onLine: (value: Frame) => void = () => undefined;
  let parts: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline < 0) {
        if (start < chunk.length) parts.push(chunk.subarray(start));
        return;
      }
      let line = chunk.subarray(start, newline);
      if (parts.length > 0) {
        parts.push(line);
        line = Buffer.concat(parts);
        parts = [];
      }
      onLine(JSON.parse(line.toString('utf8')) as Frame);
      start = newline + 1;
    }
  });
  const stream = await new Promise<StreamInfo>((resolveState) => {
    onLine = (value) => {
      if (value.type === 'response' && value.data?.stream) resolveState(value.data.stream);
    };
    child.stdin.write('{"id":"s0","type":"get_state"}\n');
  });
  const result = await measure('floor', shape, stream, (index) => {
    let delivered = 0;
    const done = new Promise<void>((resolveDone) => {
      onLine = (value) => {
        delivered++;
        if (value.type === 'agent_end') resolveDone();
      };
    });
    child.stdin.write(`${JSON.stringify({ id: `p${index}`, type: 'prompt', message: 'go' })}\n`);
    return { done, delivered: () => delivered };
  });
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  child.stdin.end();
  await exited;
  return result;
}

report(floor(SHAPE));
