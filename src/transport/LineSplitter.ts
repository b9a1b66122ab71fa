/**
 * Splits a byte stream into lines the way pi frames them: on `\n` (0x0A) only, with one
 * trailing `\r` stripped. It never splits on U+2028/U+2029 (pi writes them raw inside JSON
 * strings), which is why Node's `readline` can't be used.
 *
 * It works on bytes, not decoded text: 0x0A never occurs inside a multi-byte UTF-8 sequence, so
 * a code point split across chunks is reassembled before decoding, and the line length is
 * counted in bytes for `maxLineBytes`. A line that fits in one chunk is decoded straight from
 * it; only a line split across chunks is copied together first.
 *
 * With {@link LineSplitterOptions.reusedChunks} the caller may overwrite a chunk as soon as
 * `push()` returns (`SubprocessTransport` reads pi's stdout into one buffer): the splitter then
 * copies the unfinished line into a reused buffer of its own and keeps nothing else.
 */
import { PiDriverError } from '../errors.js';
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

/** Lets go of a delivered line's bytes (they are about to be overwritten): `line` throws from now on unless it was read. */
let expire: (line: ScannedLine) => void;

/**
 * A `message_update` line already read by the fast path while it was split (see
 * {@link LineSplitterOptions.scanMessageUpdates}): `scan` holds what the session needs, without
 * the resent partial message pi 0.73 and omp put in every such frame, which was validated but
 * never decoded. `line` decodes the full original text on first access (for recorders, error
 * messages); until then the line's bytes are held, so don't keep a `ScannedLine` around.
 *
 * From a splitter with {@link LineSplitterOptions.reusedChunks} (`SubprocessTransport`'s), those
 * bytes are overwritten by the next read: read `line` while the line is delivered (inside the
 * `lines$` subscriber's `next`); later it throws. `scan` stays valid.
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
      const source = this.#source;
      if (source === undefined) {
        throw new PiDriverError(
          'ScannedLine.line was read after the line was delivered: its bytes were in a read buffer that has been reused since. Read it inside the lines$ subscriber.',
          { code: 'LINE_EXPIRED' },
        );
      }
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

  static {
    expire = (line) => {
      line.#source = undefined;
    };
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
  /**
   * The caller reuses a chunk's memory once `push()` returns (it reads into one buffer): the
   * splitter copies what it keeps (the unfinished line, into a reused buffer of its own), and a
   * {@link ScannedLine}'s `line` can only be read while `emit` runs for it. Default false: the
   * splitter keeps views into the chunks, and a `ScannedLine` can be read at any time.
   */
  readonly reusedChunks?: boolean;
}

/** What a {@link LineSplitter} emits: {@link ScannedLine}s only when it scans `message_update` lines. */
export type SplitLine<Scan extends boolean = false> = string | OversizeLine | (Scan extends true ? ScannedLine : never);

const LF = 0x0a;
const CR = 0x0d;
const HEAD_BYTES = 200;
/** The reused buffers (scratch, carry) are kept up to this size; a longer line gets one of its own. */
const REUSED_MAX_BYTES = 1024 * 1024;
const REUSED_MIN_BYTES = 64 * 1024;
const EMPTY = Buffer.alloc(0);

export class LineSplitter<Scan extends boolean = false> {
  readonly #maxLineBytes: number;
  readonly #scan: boolean;
  readonly #reused: boolean;
  /** The unfinished line, as views into the chunks (chunks not reused). */
  #parts: Buffer[] = [];
  /** The unfinished line's bytes, copied: `[0, #bytes)` (chunks reused). Reused from line to line. */
  #carry: Buffer = EMPTY;
  #bytes = 0;
  #oversizeHead: string | undefined;
  /** Where lines split across chunks are put together for the scanner (reused: no allocation per line). */
  #scratch: Buffer = EMPTY;

  constructor(maxLineBytes = 64 * 1024 * 1024, options: LineSplitterOptions<Scan> = {}) {
    this.#maxLineBytes = maxLineBytes;
    this.#scan = options.scanMessageUpdates ?? false;
    this.#reused = options.reusedChunks ?? false;
  }

  /**
   * Feeds one chunk; `emit` is called for every line it completes. Without `reusedChunks`, a
   * ScannedLine may read its `line` from the chunk later: don't reuse the chunk's memory then
   * (Node's streams never do).
   */
  push(chunk: Uint8Array, emit: (line: SplitLine<Scan>) => void): void {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (;;) {
      const newline = buffer.indexOf(LF, start);
      if (newline < 0) {
        if (start < buffer.length) this.#append(buffer, start, buffer.length);
        return;
      }
      let line: SplitLine<Scan>;
      if (this.#bytes === 0 && this.#oversizeHead === undefined && newline - start <= this.#maxLineBytes) {
        line = this.#wholeLine(buffer, start, newline); // the whole line is in this chunk
      } else {
        this.#append(buffer, start, newline);
        line = this.#takeLine();
      }
      start = newline + 1;
      this.#deliver(line, emit);
    }
  }

  /** Flushes a last line that had no `\n` (pi's final frame at EOF). */
  end(emit: (line: SplitLine<Scan>) => void): void {
    if (this.#bytes > 0 || this.#oversizeHead !== undefined) this.#deliver(this.#takeLine(), emit);
  }

  #deliver(line: SplitLine<Scan>, emit: (line: SplitLine<Scan>) => void): void {
    if (!this.#reused || !(line instanceof ScannedLine)) {
      emit(line);
      return;
    }
    try {
      emit(line);
    } finally {
      expire(line); // its bytes are in a chunk or the carry, both about to be overwritten
    }
  }

  /** Adds `buffer[start, end)` to the unfinished line. */
  #append(buffer: Buffer, start: number, end: number): void {
    if (end === start) return;
    const total = this.#bytes + (end - start);
    if (this.#oversizeHead === undefined) {
      if (total > this.#maxLineBytes) {
        this.#oversizeHead = this.#headWith(buffer.subarray(start, end));
        this.#parts = [];
        if (this.#carry.length > REUSED_MAX_BYTES) this.#carry = EMPTY;
      } else if (this.#reused) {
        if (this.#carry.length < total) this.#carry = this.#grown(this.#carry, total);
        buffer.copy(this.#carry, this.#bytes, start, end);
      } else {
        this.#parts.push(buffer.subarray(start, end));
      }
    }
    this.#bytes = total;
  }

  /** The first bytes of the unfinished line followed by `piece`, decoded (an oversize line's head). */
  #headWith(piece: Buffer): string {
    const kept = this.#reused ? [this.#carry.subarray(0, this.#bytes)] : this.#parts;
    return Buffer.concat([...kept, piece], Math.min(HEAD_BYTES, this.#bytes + piece.length)).toString('utf8');
  }

  /** `carry` grown to hold at least `bytes` (its first {@link #bytes} kept). */
  #grown(carry: Buffer, bytes: number): Buffer {
    const grown = Buffer.allocUnsafe(Math.max(bytes, Math.min(Math.max(carry.length * 2, REUSED_MIN_BYTES), this.#maxLineBytes)));
    carry.copy(grown, 0, 0, this.#bytes);
    return grown;
  }

  #takeLine(): SplitLine<Scan> {
    const bytes = this.#bytes;
    const oversizeHead = this.#oversizeHead;
    this.#bytes = 0;
    this.#oversizeHead = undefined;
    if (oversizeHead !== undefined) return new OversizeLine(bytes, oversizeHead);
    if (this.#reused) {
      const carry = this.#carry;
      // After a very long line, let its buffer go (the line delivered from it holds it until then).
      if (carry.length > REUSED_MAX_BYTES) this.#carry = EMPTY;
      return this.#wholeLine(carry, 0, bytes);
    }
    const parts = this.#parts;
    this.#parts = [];
    if (parts.length === 1) return this.#wholeLine(parts[0] as Buffer, 0, bytes);
    if (this.#scan && startsLikeMessageUpdate(parts[0] as Buffer)) {
      // Copy the pieces into the scratch buffer for the scanner; the ScannedLine keeps the pieces.
      const joined = bytes <= REUSED_MAX_BYTES ? this.#scratchOf(bytes) : Buffer.allocUnsafe(bytes);
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
    if (this.#scratch.length < bytes)
      this.#scratch = Buffer.allocUnsafe(Math.min(REUSED_MAX_BYTES, Math.max(bytes, this.#scratch.length * 2, REUSED_MIN_BYTES)));
    return this.#scratch;
  }
}

/** `parts` without their last byte (a `\r`) when `drop`. */
function withoutLastByte(parts: readonly Buffer[], drop: boolean): readonly Buffer[] {
  if (!drop) return parts;
  const last = parts[parts.length - 1] as Buffer;
  return last.length === 1 ? parts.slice(0, -1) : [...parts.slice(0, -1), last.subarray(0, last.length - 1)];
}
