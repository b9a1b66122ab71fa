/**
 * An incremental Server-Sent Events parser (the WHATWG "event stream interpretation"), for
 * reading SSE from a `fetch` body where no `EventSource` is used (POST streams, Node, workers).
 */

/** One dispatched SSE message. `event` is `'message'` when the frame had no `event:` field. */
export interface SseMessage {
  readonly event: string;
  readonly data: string;
  /** The `id:` of this frame, if it had one (unlike `EventSource`, not carried over from earlier frames). */
  readonly id: string | undefined;
}

/**
 * Feed it decoded text in any chunks; it returns the messages completed by each chunk.
 *
 * ## Example
 * ```ts
 * const parser = new SseParser();
 * parser.push('id: 1\ndata: {"a"'); // []
 * parser.push(':1}\n\n');           // [{ event: 'message', data: '{"a":1}', id: '1' }]
 * ```
 */
export class SseParser {
  #buffer = '';
  #data: string[] = [];
  #event = '';
  #id: string | undefined;
  #started = false;
  /** The last chunk ended in `\r`: a `\n` starting the next one belongs to it. */
  #pendingCr = false;

  /**
   * Parses a chunk of text.
   *
   * @param chunk The next decoded text of the stream.
   * @return The messages whose blank line arrived in this chunk, in order.
   */
  push(chunk: string): SseMessage[] {
    let text = chunk;
    if (!this.#started && text.length > 0) {
      this.#started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.#pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.#pendingCr = false;
    this.#buffer += text;
    const messages: SseMessage[] = [];
    let start = 0;
    for (let index = 0; index < this.#buffer.length; index++) {
      const char = this.#buffer.charCodeAt(index);
      if (char !== 0x0a && char !== 0x0d) continue;
      this.#line(this.#buffer.slice(start, index), messages);
      if (char === 0x0d) {
        if (index + 1 === this.#buffer.length) this.#pendingCr = true;
        else if (this.#buffer.charCodeAt(index + 1) === 0x0a) index++;
      }
      start = index + 1;
    }
    this.#buffer = this.#buffer.slice(start);
    return messages;
  }

  #line(line: string, messages: SseMessage[]): void {
    if (line.length === 0) {
      if (this.#data.length > 0) messages.push({ event: this.#event || 'message', data: this.#data.join('\n'), id: this.#id });
      this.#data = [];
      this.#event = '';
      this.#id = undefined;
      return;
    }
    if (line.startsWith(':')) return; // a comment (heartbeats)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.#data.push(value);
        break;
      case 'event':
        this.#event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.#id = value;
        break;
      default:
        break; // `retry` and unknown fields: the client schedules its own reconnects
    }
  }
}
