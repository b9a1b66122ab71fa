/**
 * readIntoReusedBuffer on a real child's stdout (a pipe socket child_process made), and the cases
 * where it must leave the socket alone. SubprocessTransport.fallback.spec.ts runs the transport
 * with it refusing.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readIntoReusedBuffer } from '../../src/transport/readIntoReusedBuffer.js';

/** A child that writes `bytes` bytes (a repeating pattern) to stdout once it reads a line on stdin, then exits. */
function writer(bytes: number) {
  const script = `process.stdin.once('data', () => { const b = Buffer.alloc(${bytes}); for (let i = 0; i < b.length; i++) b[i] = 97 + (i % 26); process.stdout.write(b, () => process.exit(0)); });`;
  return spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
}

const pattern = (bytes: number): Buffer => {
  const expected = Buffer.alloc(bytes);
  for (let index = 0; index < bytes; index++) expected[index] = 97 + (index % 26);
  return expected;
};

describe('readIntoReusedBuffer', () => {
  it("reads a child's stdout into the one buffer, in order, with no data events; pause() stops the reads, end and close still come", async () => {
    const child = writer(1_000_000);
    const buffer = Buffer.alloc(4096);
    const received: Buffer[] = [];
    let sameBuffer = true;
    const installed = readIntoReusedBuffer(child.stdout, buffer, (bytes, into) => {
      sameBuffer &&= into === buffer && bytes <= buffer.length;
      received.push(Buffer.from(into.subarray(0, bytes))); // a copy: the buffer is reused
    });
    expect(installed).toBe(true);
    child.stdout.on('data', () => expect.fail('no data events with a reused buffer'));
    child.stdout.pause();
    child.stdin.write('go\n');
    // Paused: the pipe is not read (the child blocks once it is full); a turn of the loop later, still nothing.
    const exited = once(child, 'exit');
    const closed = once(child.stdout, 'close');
    const ended = once(child.stdout, 'end');
    await new Promise((resolve) => setImmediate(resolve));
    expect(received).toEqual([]);
    child.stdout.resume();
    await Promise.all([exited, ended, closed]);
    expect(sameBuffer).toBe(true);
    expect(received.length).toBeGreaterThan(1);
    expect(Buffer.concat(received).equals(pattern(1_000_000))).toBe(true);
  });

  it('changes nothing for a stream that is not a pipe socket, or one that has buffered data already', async () => {
    const noop = () => undefined;
    expect(readIntoReusedBuffer(Readable.from(['a']), Buffer.alloc(16), noop)).toBe(false);

    const child = writer(10);
    child.stdout.pause();
    child.stdin.write('go\n');
    await once(child.stdout, 'readable');
    expect(child.stdout.readableLength).toBeGreaterThan(0);
    expect(readIntoReusedBuffer(child.stdout, Buffer.alloc(16), noop)).toBe(false);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stdout.resume();
    await once(child.stdout, 'close');
    expect(Buffer.concat(chunks).equals(pattern(10))).toBe(true);
  });
});
