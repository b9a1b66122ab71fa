/**
 * Validating skips over JSON text held as UTF-8 bytes: each method checks one JSON construct at
 * an index and returns the index just past it, or -1 when the bytes are not valid JSON there.
 * Nothing is decoded and nothing is allocated but a stack for nesting, so skipping a value costs
 * little more than finding its end (long strings are crossed with memchr).
 *
 * {@link value} accepts exactly what `JSON.parse` accepts (RFC 8259: whitespace, literals,
 * numbers, strings with their escapes, nesting to any depth). {@link cutValue}, for values that
 * are thrown away unread, crosses long strings with memchr and so does not look for raw control
 * characters (U+0000–U+001F) past a string's first 32 bytes; `JSON.stringify`, which is how pi
 * writes, never emits them. Bytes ≥ 0x80 inside strings are not checked as UTF-8, like the
 * decoder pidriver uses (it turns bad sequences into U+FFFD, which `JSON.parse` accepts).
 */
import { indexOfByte, isNodeBuffer } from './bytes.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
/** Bytes of a string checked one by one before the scan switches to memchr. */
const SHORT_RUN = 32;

const EMPTY = new Uint8Array(0);
const IN_OBJECT = 1;
const IN_ARRAY = 2;

const isDigit = (byte: number | undefined): boolean => byte !== undefined && byte >= ZERO && byte <= NINE;
const isHexDigit = (byte: number | undefined): boolean =>
  byte !== undefined && ((byte >= ZERO && byte <= NINE) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66));

export class JsonSkipper {
  bytes: Uint8Array = EMPTY;
  /** One past the last byte that belongs to the text. */
  end = 0;
  /** Whether `bytes` is a Node `Buffer` (native memchr). */
  native = false;
  /** Position of the next backslash at or after the last search, `end` when there is none. */
  #nextBackslash = -1;
  /** Inside {@link cutValue}: long strings are crossed with memchr. */
  #lenient = false;
  /** Open containers of the value being skipped (reused, grown when a value nests deeper). */
  #stack = new Uint8Array(64);

  constructor(bytes: Uint8Array = EMPTY, end: number = bytes.length) {
    this.reset(bytes, end);
  }

  /** Points the skipper at new text (one skipper can serve many lines). */
  reset(bytes: Uint8Array, end: number = bytes.length): this {
    if (bytes !== this.bytes) this.native = isNodeBuffer(bytes);
    this.bytes = bytes;
    this.end = end;
    this.#nextBackslash = -1;
    this.#lenient = false;
    return this;
  }

  /** The first index at or after `index` that is not JSON whitespace. */
  space(index: number): number {
    const bytes = this.bytes;
    const end = this.end;
    while (index < end) {
      const byte = bytes[index];
      if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) break;
      index++;
    }
    return index;
  }

  /** Whether the last string {@link string} skipped had an escape sequence. */
  escaped = false;

  /** Skips the string whose opening quote is at `index` (and sets {@link escaped}). */
  string(index: number): number {
    const bytes = this.bytes;
    const end = this.end;
    let cursor = index + 1;
    this.escaped = false;
    for (;;) {
      // Byte by byte, control characters checked: all of it, or the first bytes of a string in
      // a value being cut (keys and short values end there).
      const stop = this.#lenient && cursor + SHORT_RUN < end ? cursor + SHORT_RUN : end;
      let byte = 0;
      while (cursor < stop) {
        byte = bytes[cursor] as number;
        if (byte === QUOTE || byte === BACKSLASH || byte < 0x20) break;
        cursor++;
      }
      if (cursor < stop) {
        if (byte === QUOTE) return cursor + 1;
        if (byte !== BACKSLASH) return -1; // a raw control character
        cursor = this.#escape(cursor);
        if (cursor < 0) return -1;
        continue;
      }
      if (cursor >= end) return -1;
      // A long run: jump to the next quote, stopping at any backslash before it.
      const quote = indexOfByte(bytes, this.native, QUOTE, cursor, end);
      if (quote < 0) return -1;
      if (this.#nextBackslash < cursor) {
        const backslash = indexOfByte(bytes, this.native, BACKSLASH, cursor, end);
        this.#nextBackslash = backslash < 0 ? end : backslash;
      }
      if (this.#nextBackslash > quote) return quote + 1;
      cursor = this.#escape(this.#nextBackslash);
      if (cursor < 0) return -1;
    }
  }

  /** Skips the number starting at `index`. */
  number(index: number): number {
    // Bytes past `end` may be read here, but a number running past `end` is rejected below: at
    // worst a number ending exactly at `end` is refused (callers then parse the line the slow way).
    const bytes = this.bytes;
    let cursor = index;
    if (bytes[cursor] === MINUS) cursor++;
    if (bytes[cursor] === ZERO) cursor++;
    else if (isDigit(bytes[cursor])) while (isDigit(bytes[cursor])) cursor++;
    else return -1;
    if (bytes[cursor] === DOT) {
      cursor++;
      if (!isDigit(bytes[cursor])) return -1;
      while (isDigit(bytes[cursor])) cursor++;
    }
    const exponent = bytes[cursor];
    if (exponent === 0x65 || exponent === 0x45) {
      cursor++;
      if (bytes[cursor] === PLUS || bytes[cursor] === MINUS) cursor++;
      if (!isDigit(bytes[cursor])) return -1;
      while (isDigit(bytes[cursor])) cursor++;
    }
    return cursor <= this.end ? cursor : -1;
  }

  /**
   * Skips a value that will be thrown away unread (a resent copy): like {@link value}, but long
   * strings are crossed with memchr, unchecked for raw control characters.
   */
  cutValue(index: number): number {
    this.#lenient = true;
    try {
      return this.value(index);
    } finally {
      this.#lenient = false;
    }
  }

  /**
   * Skips the value starting at `index` (no leading whitespace), however deeply nested; an
   * explicit stack, never recursion.
   */
  value(index: number): number {
    const bytes = this.bytes;
    const end = this.end;
    if (index >= end) return -1;
    const first = bytes[index] as number;
    // Scalars directly (most values are), containers with the stack.
    if (first === QUOTE) return this.string(index);
    if (first === MINUS || (first >= ZERO && first <= NINE)) return this.number(index);
    if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) return this.#literal(index, first);
    let depth = 0;
    let cursor = index;
    for (;;) {
      // One value at `cursor`.
      if (cursor >= end) return -1;
      const byte = bytes[cursor] as number;
      if (byte === QUOTE) {
        cursor = this.string(cursor);
      } else if (byte === OPEN_OBJECT) {
        cursor = this.space(cursor + 1);
        if (cursor < end && bytes[cursor] === CLOSE_OBJECT) {
          cursor++;
        } else {
          this.#push(depth++, IN_OBJECT);
          cursor = this.#member(cursor);
          if (cursor < 0) return -1;
          continue;
        }
      } else if (byte === OPEN_ARRAY) {
        cursor = this.space(cursor + 1);
        if (cursor < end && bytes[cursor] === CLOSE_ARRAY) {
          cursor++;
        } else {
          this.#push(depth++, IN_ARRAY);
          continue;
        }
      } else if (byte === MINUS || (byte >= ZERO && byte <= NINE)) {
        cursor = this.number(cursor);
      } else {
        cursor = this.#literal(cursor, byte);
      }
      if (cursor < 0) return -1;
      // After a value: close what ends here, or move on to the next item.
      for (;;) {
        if (depth === 0) return cursor;
        const container = this.#stack[depth - 1];
        cursor = this.space(cursor);
        if (cursor >= end) return -1;
        const next = bytes[cursor];
        if (next === COMMA) {
          cursor = this.space(cursor + 1);
          if (container === IN_OBJECT) {
            cursor = this.#member(cursor);
            if (cursor < 0) return -1;
          }
          break;
        }
        if (next !== (container === IN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)) return -1;
        depth--;
        cursor++;
      }
    }
  }

  #push(depth: number, container: number): void {
    if (depth === this.#stack.length) {
      const grown = new Uint8Array(depth * 2);
      grown.set(this.#stack);
      this.#stack = grown;
    }
    this.#stack[depth] = container;
  }

  /** Skips `"key" :` and the whitespace after it: the index of the member's value. */
  #member(index: number): number {
    if (index >= this.end || this.bytes[index] !== QUOTE) return -1;
    const afterKey = this.string(index);
    if (afterKey < 0) return -1;
    const colon = this.space(afterKey);
    if (colon >= this.end || this.bytes[colon] !== COLON) return -1;
    return this.space(colon + 1);
  }

  /** Skips the escape sequence whose backslash is at `index`. */
  #escape(index: number): number {
    this.escaped = true;
    const bytes = this.bytes;
    const kind = bytes[index + 1];
    switch (kind) {
      case QUOTE:
      case BACKSLASH:
      case 0x2f: // /
      case 0x62: // b
      case 0x66: // f
      case 0x6e: // n
      case 0x72: // r
      case 0x74: // t
        return index + 2 <= this.end ? index + 2 : -1;
      case 0x75: // u
        if (index + 6 > this.end) return -1;
        for (let offset = 2; offset < 6; offset++) if (!isHexDigit(bytes[index + offset])) return -1;
        return index + 6;
      default:
        return -1;
    }
  }

  /** Skips `true`, `false` or `null` (the first byte is `byte`). */
  #literal(index: number, byte: number): number {
    const word = byte === 0x74 ? TRUE : byte === 0x66 ? FALSE : byte === 0x6e ? NULL : undefined;
    if (word === undefined || index + word.length > this.end) return -1;
    for (let offset = 1; offset < word.length; offset++) if (this.bytes[index + offset] !== word[offset]) return -1;
    return index + word.length;
  }
}

const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];
