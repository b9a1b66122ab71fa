/**
 * The physical limit: spawn the fake pi and count the bytes of its stdout, nothing else (no
 * split, no parse); a run is done when the whole stream (its size comes with `get_state`) has
 * arrived. `node pipe.mjs <shape> [runs]`. Node's own reads (a fresh 64 KiB buffer each, what
 * the floor and RpcClient pay), or with BENCH_PIPE_REUSED=1 into one reused buffer, as pidriver reads.
 */
import { spawn } from 'node:child_process';
import { readIntoReusedBuffer } from '../../src/transport/readIntoReusedBuffer.js';
import { measure, report, SHAPE, STREAM_PI, type StreamInfo, type StreamResult } from './measure.js';

async function pipe(shape: string): Promise<StreamResult> {
  const child = spawn(process.execPath, [STREAM_PI, '--mode', 'rpc'], {
    env: { ...process.env, STREAM_PI_SHAPE: shape },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let onChunk: (chunk: Buffer) => void = () => undefined;
  if (process.env['BENCH_PIPE_REUSED'] === '1') {
    const reused = readIntoReusedBuffer(child.stdout, Buffer.allocUnsafeSlow(64 * 1024), (bytes, buffer) => onChunk(buffer.subarray(0, bytes)));
    if (!reused) throw new Error('this Node does not let stdout be read into a reused buffer');
  }
  child.stdout.on('data', (chunk: Buffer) => onChunk(chunk));
  const stream = await new Promise<StreamInfo>((resolveState) => {
    let text = '';
    onChunk = (chunk) => {
      text += chunk.toString('utf8');
      const newline = text.indexOf('\n');
      if (newline >= 0) resolveState((JSON.parse(text.slice(0, newline)) as { data: { stream: StreamInfo } }).data.stream);
    };
    child.stdin.write('{"id":"s0","type":"get_state"}\n');
  });
  const result = await measure('pipe', shape, stream, (index) => {
    // The prompt's response line comes first, then exactly `stream.bytes`.
    const id = `p${index}`;
    const expected = `${JSON.stringify({ id, type: 'response', command: 'prompt', success: true })}\n`.length + stream.bytes;
    let received = 0;
    const done = new Promise<void>((resolveDone) => {
      onChunk = (chunk) => {
        received += chunk.length;
        if (received >= expected) resolveDone();
      };
    });
    child.stdin.write(`${JSON.stringify({ id, type: 'prompt', message: 'go' })}\n`);
    return { done, delivered: () => 0 };
  });
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  child.stdin.end();
  await exited;
  return result;
}

report(pipe(SHAPE));
