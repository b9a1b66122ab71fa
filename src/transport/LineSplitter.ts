/**
 * Splits a byte stream into lines the way pi frames them: on `\n` (0x0A) only, with one
 * trailing `\r` stripped. It never splits on U+2028/U+2029 (pi writes them raw inside JSON
 * strings), which is why Node's `readline` can't be used.
 *
 * It works on bytes, not decoded text: 0x0A never occurs inside a multi-byte UTF-8 sequence, so
 * a code point split across chunks is reassembled before decoding, and the line length is
 * counted in bytes for `maxLineBytes`. A line that fits in one chunk is decoded straight from
 * it; only a line split across chunks is copied together first.
 */
import { decodeUtf8 } from '../protocol/bytes.js';
import { scanMessageUpdate, startsLikeMessageUpdate, type MessageUpdateScan } from '../protocol/scanMessageUpdate.js';

/** A line longer than the limit. Its bytes were dropped as they arrived (memory stays bounded). */
export class OversizeLine {
  constructor(
    /** Total length of the line in bytes. */
    readonly bytes: number,
    /** The first bytes of the line, decoded, for error messages. */
    readonly head: string,
  ) {}
}

/**
 * A `message_update` line already read by the fast path while it was split (see
 * {@link LineSplitterOptions.scanMessageUpdates}): `scan` holds what the session needs, without
 * the resent partial message pi 0.73 and omp put in every such frame, which was validated but
 * never decoded. `line` decodes the full original text on first access (for recorders, error
 * messages); until then the line's bytes are held, so don't keep a `ScannedLine` around.
 */
export class ScannedLine {
  /** Length of the line in bytes. */
  readonly bytes: number;
  readonly scan: MessageUpdateScan;
  /** The line's bytes until `line` is read: `[start, start + bytes)` of a chunk, or the pieces (views, no copy). */
  #source: Buffer | readonly Buffer[] | undefined;
  #start: number;
  #line: string | undefined;

  /**
   * @internal Made by {@link LineSplitter}: the line is `source[start, start + bytes)`, or the
   * concatenation of `source` when it is a list of pieces.
   */
  constructor(scan: MessageUpdateScan, bytes: number, source: Buffer | readonly Buffer[], start = 0) {
    this.scan = scan;
    this.bytes = bytes;
    this.#start = start;
    // Nothing cut and nothing rebuilt: the scan's text is the line itself.
    if (!scan.cut && scan.recipe === undefined) this.#line = scan.text;
    else this.#source = source;
  }

  /** The full line, as pi wrote it. */
  get line(): string {
    if (this.#line === undefined) {
      const source = this.#source as Buffer | readonly Buffer[];
      if (Array.isArray(source)) {
        const parts = source as readonly Buffer[];
        this.#line = decodeUtf8(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, this.bytes), true, 0, this.bytes);
      } else {
        this.#line = decodeUtf8(source as Buffer, true, this.#start, this.#start + this.bytes);
      }
      this.#source = undefined;
    }
    return this.#line;
  }
}

export interface LineSplitterOptions<Scan extends boolean = boolean> {
  /**
   * Read pi's `message_update` lines with the fast path as they are split, while their bytes are
   * at hand: such a line comes out as a {@link ScannedLine} instead of a string (anything the
   * fast path can't vouch for still comes out as a string). `SubprocessTransport` turns it on.
   * Default false.
   */
  readonly scanMessageUpdates?: Scan;
}

/** What a {@link LineSplitter} emits: {@link ScannedLine}s only when it scans `message_update` lines. */
export type SplitLine<Scan extends boolean = false> = string | OversizeLine | (Scan extends true ? ScannedLine : never);

const LF = 0x0a;
const CR = 0x0d;
const HEAD_BYTES = 200;
/** A line split across chunks is copied into one reused buffer to be scanned; longer ones get their own. */
const SCRATCH_MAX_BYTES = 1024 * 1024;

export class LineSplitter<Scan extends boolean = false> {
  readonly #maxLineBytes: number;
  readonly #scan: boolean;
  #parts: Buffer[] = [];
  #bytes = 0;
  #oversizeHead: string | undefined;
  /** Where lines split across chunks are put together for the scanner (reused: no allocation per line). */
  #scratch: Buffer = Buffer.alloc(0);

  constructor(maxLineBytes = 64 * 1024 * 1024, options: LineSplitterOptions<Scan> = {}) {
    this.#maxLineBytes = maxLineBytes;
    this.#scan = options.scanMessageUpdates ?? false;
  }

  /**
   * Feeds one chunk; `emit` is called for every line it completes. With `scanMessageUpdates`, a
   * ScannedLine may read its `line` from the chunk later: don't reuse the chunk's memory (Node's
   * streams never do).
   */
  push(chunk: Uint8Array, emit: (line: SplitLine<Scan>) => void): void {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (;;) {
      const newline = buffer.indexOf(LF, start);
      if (newline < 0) {
        if (start < buffer.length) this.#append(buffer.subarray(start));
        return;
      }
      if (this.#bytes === 0 && this.#oversizeHead === undefined && newline - start <= this.#maxLineBytes) {
        emit(this.#wholeLine(buffer, start, newline)); // the whole line is in this chunk
      } else {
        this.#append(buffer.subarray(start, newline));
        emit(this.#takeLine());
      }
      start = newline + 1;
    }
  }

  /** Flushes a last line that had no `\n` (pi's final frame at EOF). */
  end(emit: (line: SplitLine<Scan>) => void): void {
    if (this.#bytes > 0 || this.#oversizeHead !== undefined) emit(this.#takeLine());
  }

  #append(piece: Buffer): void {
    if (piece.length === 0) return;
    this.#bytes += piece.length;
    if (this.#oversizeHead !== undefined) return;
    if (this.#bytes > this.#maxLineBytes) {
      this.#oversizeHead = Buffer.concat([...this.#parts, piece]).subarray(0, HEAD_BYTES).toString('utf8');
      this.#parts = [];
      return;
    }
    this.#parts.push(piece);
  }

  #takeLine(): SplitLine<Scan> {
    const bytes = this.#bytes;
    const oversizeHead = this.#oversizeHead;
    const parts = this.#parts;
    this.#parts = [];
    this.#bytes = 0;
    this.#oversizeHead = undefined;
    if (oversizeHead !== undefined) return new OversizeLine(bytes, oversizeHead);
    if (parts.length === 1) return this.#wholeLine(parts[0] as Buffer, 0, bytes);
    if (this.#scan && startsLikeMessageUpdate(parts[0] as Buffer)) {
      // Copy the pieces into the scratch buffer for the scanner; the ScannedLine keeps the pieces.
      const joined = bytes <= SCRATCH_MAX_BYTES ? this.#scratchOf(bytes) : Buffer.allocUnsafe(bytes);
      let offset = 0;
      for (const part of parts) offset += part.copy(joined, offset);
      const end = joined[bytes - 1] === CR ? bytes - 1 : bytes;
      const scan = scanMessageUpdate(joined, 0, end);
      if (scan) return new ScannedLine(scan, end, withoutLastByte(parts, end < bytes)) as SplitLine<Scan>;
      return decodeUtf8(joined, true, 0, end);
    }
    return this.#wholeLine(Buffer.concat(parts, bytes), 0, bytes);
  }

  /** The line in `buffer[start, end)` (one contiguous piece), without a trailing `\r`. */
  #wholeLine(buffer: Buffer, start: number, end: number): SplitLine<Scan> {
    if (end > start && buffer[end - 1] === CR) end--;
    if (this.#scan) {
      const scan = scanMessageUpdate(buffer, start, end);
      if (scan) return new ScannedLine(scan, end - start, buffer, start) as SplitLine<Scan>;
    }
    return decodeUtf8(buffer, true, start, end);
  }

  #scratchOf(bytes: number): Buffer {
    if (this.#scratch.length < bytes) this.#scratch = Buffer.allocUnsafe(Math.min(SCRATCH_MAX_BYTES, Math.max(bytes, this.#scratch.length * 2, 64 * 1024)));
    return this.#scratch;
  }
}

/** `parts` without their last byte (a `\r`) when `drop`. */
function withoutLastByte(parts: readonly Buffer[], drop: boolean): readonly Buffer[] {
  if (!drop) return parts;
  const last = parts[parts.length - 1] as Buffer;
  return last.length === 1 ? parts.slice(0, -1) : [...parts.slice(0, -1), last.subarray(0, last.length - 1)];
}
