/**
 * The few byte operations the line scanner needs, on Node's `Buffer` when the bytes are one
 * (native memchr, memcmp and UTF-8 decoding) and with plain loops otherwise (a browser bundle
 * of `pidriver/protocol` has no `Buffer`). Both give the same results.
 */

/** The part of Node's `Buffer` used here (`utf8Slice` is an old, undocumented but stable fast path). */
interface NodeBytes extends Uint8Array {
  indexOf(value: number, byteOffset?: number): number;
  compare(target: Uint8Array, targetStart: number, targetEnd: number, sourceStart: number, sourceEnd: number): number;
  utf8Slice(start: number, end: number): string;
}

interface BufferStatics {
  from(text: string, encoding: 'utf8'): NodeBytes;
  isBuffer(value: unknown): boolean;
}

const NodeBuffer = (globalThis as unknown as { Buffer?: BufferStatics }).Buffer;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** The UTF-8 bytes of `text` (a lone surrogate becomes U+FFFD, as in any UTF-8 encoding). */
export function encodeUtf8(text: string): Uint8Array {
  return NodeBuffer ? NodeBuffer.from(text, 'utf8') : encoder.encode(text);
}

/** Whether `bytes` has Node's native `Buffer` methods. */
export function isNodeBuffer(bytes: Uint8Array): bytes is NodeBytes {
  return NodeBuffer !== undefined && NodeBuffer.isBuffer(bytes) && typeof (bytes as Partial<NodeBytes>).utf8Slice === 'function';
}

/** Index of the first `byte` at or after `from` (before `end`), or -1. */
export function indexOfByte(bytes: Uint8Array, native: boolean, byte: number, from: number, end: number): number {
  if (native) {
    const found = (bytes as NodeBytes).indexOf(byte, from);
    return found < end ? found : -1;
  }
  for (let index = from; index < end; index++) if (bytes[index] === byte) return index;
  return -1;
}

/** `bytes[start, end)` decoded as UTF-8 (invalid sequences become U+FFFD). */
export function decodeUtf8(bytes: Uint8Array, native: boolean, start: number, end: number): string {
  return native ? (bytes as NodeBytes).utf8Slice(start, end) : decoder.decode(bytes.subarray(start, end));
}

/** Whether `bytes[at, at + other.length)` holds the bytes of `other`. */
export function bytesAt(bytes: Uint8Array, native: boolean, at: number, end: number, other: Uint8Array): boolean {
  const length = other.length;
  if (at + length > end) return false;
  if (native) return (bytes as NodeBytes).compare(other, 0, length, at, at + length) === 0;
  for (let index = 0; index < length; index++) if (bytes[at + index] !== other[index]) return false;
  return true;
}

/** Whether `bytes[a, a + length)` and `bytes[b, b + length)` hold the same bytes. */
export function sameBytes(bytes: Uint8Array, native: boolean, a: number, b: number, length: number): boolean {
  if (native) return (bytes as NodeBytes).compare(bytes, a, a + length, b, b + length) === 0;
  for (let index = 0; index < length; index++) if (bytes[a + index] !== bytes[b + index]) return false;
  return true;
}
