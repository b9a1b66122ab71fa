/**
 * Splits a byte stream into lines the way pi frames them: on `\n` (0x0A) only, with one
 * trailing `\r` stripped. It never splits on U+2028/U+2029 (pi writes them raw inside JSON
 * strings), which is why Node's `readline` can't be used.
 *
 * It works on bytes, not decoded text: 0x0A never occurs inside a multi-byte UTF-8 sequence, so
 * a code point split across chunks is reassembled before decoding, and the line length is
 * counted in bytes for `maxLineBytes`.
 */

/** A line longer than the limit. Its bytes were dropped as they arrived (memory stays bounded). */
export class OversizeLine {
  constructor(
    /** Total length of the line in bytes. */
    readonly bytes: number,
    /** The first bytes of the line, decoded, for error messages. */
    readonly head: string,
  ) {}
}

const LF = 0x0a;
const CR = 0x0d;
const HEAD_BYTES = 200;

export class LineSplitter {
  readonly #maxLineBytes: number;
  #parts: Buffer[] = [];
  #bytes = 0;
  #oversizeHead: string | undefined;

  constructor(maxLineBytes = 64 * 1024 * 1024) {
    this.#maxLineBytes = maxLineBytes;
  }

  /** Feeds one chunk; `emit` is called for every line it completes. */
  push(chunk: Uint8Array, emit: (line: string | OversizeLine) => void): void {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (;;) {
      const newline = buffer.indexOf(LF, start);
      if (newline < 0) {
        if (start < buffer.length) this.#append(buffer.subarray(start));
        return;
      }
      this.#append(buffer.subarray(start, newline));
      emit(this.#takeLine());
      start = newline + 1;
    }
  }

  /** Flushes a last line that had no `\n` (pi's final frame at EOF). */
  end(emit: (line: string | OversizeLine) => void): void {
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

  #takeLine(): string | OversizeLine {
    const bytes = this.#bytes;
    const oversizeHead = this.#oversizeHead;
    const parts = this.#parts;
    this.#parts = [];
    this.#bytes = 0;
    this.#oversizeHead = undefined;
    if (oversizeHead !== undefined) return new OversizeLine(bytes, oversizeHead);
    let line = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, bytes);
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    return line.toString('utf8');
  }
}
