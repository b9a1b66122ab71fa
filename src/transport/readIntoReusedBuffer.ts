/**
 * Makes a pipe socket Node created (a child's stdout) read into one caller-owned buffer, as
 * `net.Socket`'s `onread` option does for a socket one constructs oneself: `child_process` builds
 * its stdio sockets without that option, and then every read allocates a fresh 64 KiB buffer
 * that only a garbage collection frees (on pi 0.73's quadratic stream that is ~150 MB per reply,
 * tens of MB of it waiting for a GC at any time).
 *
 * It does what the `Socket` constructor does with `onread` (Node 12 to 24): sets the socket's
 * `kBuffer`/`kBufferCb` slots and hands the buffer to the handle (`useUserBuffer`). Those slots
 * are internal, found by their symbols' descriptions; when this Node differs, or the socket has
 * buffered data already (the reads must stay in order), nothing is changed and it returns
 * false: the socket keeps emitting `'data'`. Either way `'end'`, `'close'`, `'error'`, `pause()`
 * and `resume()` behave as usual (with the buffer, `pause()` stops reading the pipe at once).
 */
import type { Readable } from 'node:stream';

/** Called with each read: `buffer[0, bytes)` holds it until the callback returns. */
export type OnReusedRead = (bytes: number, buffer: Buffer) => void;

interface SocketSlots {
  _handle?: { useUserBuffer?: (buffer: Uint8Array) => void } | null;
  [slot: symbol]: unknown;
}

/**
 * Reads `socket` into `buffer` from now on, calling `onRead` for every read instead of emitting
 * `'data'`. Call it before anything was read (right after spawning). Returns false, changing
 * nothing, when it can't.
 */
export function readIntoReusedBuffer(socket: Readable, buffer: Buffer, onRead: OnReusedRead): boolean {
  const slots = socket as unknown as SocketSlots;
  const handle = slots._handle;
  if (!handle || typeof handle.useUserBuffer !== 'function' || socket.readableLength > 0 || socket.destroyed) return false;
  const symbols = Object.getOwnPropertySymbols(socket);
  const slot = (name: string) => symbols.find((symbol) => symbol.description === name);
  const kBuffer = slot('kBuffer');
  const kBufferCb = slot('kBufferCb');
  const kBufferGen = slot('kBufferGen');
  // All three exist (set to null by the constructor) and are unused: the layout this code knows.
  if (!kBuffer || !kBufferCb || !kBufferGen || slots[kBuffer] !== null || slots[kBufferCb] !== null || slots[kBufferGen] !== null) return false;
  try {
    handle.useUserBuffer(buffer);
  } catch {
    return false;
  }
  slots[kBuffer] = buffer;
  slots[kBufferCb] = (bytes: number): undefined => {
    onRead(bytes, buffer);
    return undefined; // not false: false would pause the socket
  };
  return true;
}
