/**
 * Where pidriver's time goes, without pipes or scheduling noise: the recorded stream of
 * bench/fixtures/stream-pi.mjs is fed in 64 KiB chunks (what a pipe read gives) through each
 * stage in-process, and each stage is timed (best of 5).
 *
 *   npx tsx bench/stages.ts            # both shapes
 *
 * Stages: split (LineSplitter: bytes → strings), split + scan (what SubprocessTransport does:
 * message_update lines read by the fast path), + parseLine, the whole PiSession (FakeTransport →
 * events$) over plain or pre-scanned lines, and for reference pi RpcClient's reader
 * (StringDecoder + string split + JSON.parse of every line).
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { PiConfig } from '../src/config/PiConfig.js';
import { parseLine } from '../src/protocol/parseLine.js';
import { PiSession } from '../src/session/PiSession.js';
import { FakeTransport } from '../src/testing/FakeTransport.js';
import { LineSplitter } from '../src/transport/LineSplitter.js';
import type { TransportLine } from '../src/transport/PiTransport.js';

const CHUNK = 64 * 1024;
const root = resolve(import.meta.dirname, '..');

function record(shape: string): Buffer {
  const input = '{"id":"s0","type":"get_state"}\n{"id":"p1","type":"prompt","message":"go"}\n';
  const output = execFileSync(process.execPath, [resolve(root, 'bench/fixtures/stream-pi.mjs'), `--shape=${shape}`], {
    input,
    maxBuffer: 512 * 1024 * 1024,
  });
  // Keep only the prompt's stream: from agent_start on.
  return output.subarray(output.indexOf('{"type":"agent_start"}'));
}

function chunks(stream: Buffer): Buffer[] {
  const result: Buffer[] = [];
  for (let offset = 0; offset < stream.length; offset += CHUNK) result.push(Buffer.from(stream.subarray(offset, offset + CHUNK)));
  return result;
}

function best(label: string, frames: number, run: () => void | Promise<void>): Promise<string> {
  return (async () => {
    let min = Number.POSITIVE_INFINITY;
    for (let index = 0; index < 5; index++) {
      const started = performance.now();
      await run();
      min = Math.min(min, performance.now() - started);
    }
    return `| ${label} | ${min.toFixed(1)} | ${((min * 1000) / frames).toFixed(2)} |`;
  })();
}

async function sessionOver(lines: readonly TransportLine[]): Promise<number> {
  const transport = new FakeTransport();
  const session = new PiSession({ sessionId: 'bench', transport, config: PiConfig.parse({}), cwd: root });
  await session.start();
  let events = 0;
  const subscription = session.events$.subscribe({ next: () => events++ });
  for (const line of lines) transport.emitLine(line);
  subscription.unsubscribe();
  await session.close();
  return events;
}

async function main(): Promise<void> {
  for (const shape of ['quadratic', 'delta']) {
    const stream = record(shape);
    const pieces = chunks(stream);
    const lines: string[] = [];
    new LineSplitter().push(stream, (line) => lines.push(line as string));
    const scanned: TransportLine[] = [];
    new LineSplitter(undefined, { scanMessageUpdates: true }).push(stream, (line) => scanned.push(line));
    const frames = lines.length;
    const rows: string[] = [];
    rows.push(
      await best('split (LineSplitter)', frames, () => {
        const splitter = new LineSplitter();
        for (const piece of pieces) splitter.push(piece, () => undefined);
      }),
    );
    rows.push(
      await best('split + scan (LineSplitter, scanMessageUpdates: the transport)', frames, () => {
        const splitter = new LineSplitter(undefined, { scanMessageUpdates: true });
        for (const piece of pieces) splitter.push(piece, () => undefined);
      }),
    );
    rows.push(
      await best('split + parseLine', frames, () => {
        const splitter = new LineSplitter();
        for (const piece of pieces) splitter.push(piece, (line) => parseLine(line as string));
      }),
    );
    rows.push(await best('parseLine only (lines pre-split)', frames, () => void lines.forEach((line) => parseLine(line))));
    rows.push(
      await best('PiSession only (lines pre-split, FakeTransport → events$)', frames, async () => {
        await sessionOver(lines);
      }),
    );
    rows.push(
      await best('PiSession only (lines pre-scanned, as from SubprocessTransport)', frames, async () => {
        await sessionOver(scanned);
      }),
    );
    rows.push(
      await best('RpcClient reader: StringDecoder + split + JSON.parse', frames, () => {
        const decoder = new StringDecoder('utf8');
        let buffer = '';
        for (const piece of pieces) {
          buffer += decoder.write(piece);
          for (;;) {
            const newline = buffer.indexOf('\n');
            if (newline === -1) break;
            JSON.parse(buffer.slice(0, newline));
            buffer = buffer.slice(newline + 1);
          }
        }
      }),
    );
    rows.push(
      await best('floor reader: Buffer split + toString + JSON.parse', frames, () => {
        const splitter = new LineSplitter();
        for (const piece of pieces)
          splitter.push(piece, (line) => {
            JSON.parse(line as string);
          });
      }),
    );
    process.stdout.write(
      `\n### ${shape}: ${frames.toLocaleString('en-US')} frames, ${(stream.length / 1e6).toFixed(1)} MB\n\n| stage | ms (best of 5) | µs / frame |\n| --- | --- | --- |\n${rows.join('\n')}\n`,
    );
  }
}

await main();
