import type { ServerResponse } from 'node:http';
import { interval, Subscription, timer, type Observable, type SchedulerLike } from 'rxjs';
import { closeFrame, formatSseFrame, sseComment } from './sseFrame.js';
import type { SseOut } from './sessionStreams.js';

/** Bounds of one client's stream. */
export interface SseLimits {
  /** Most bytes waiting in this response's write buffer before the client is dropped. */
  readonly maxBufferedBytes: number;
  /** Most frames written while the response waits for `drain` before the client is dropped. */
  readonly maxBufferedEvents: number;
  /** A `: ping` comment this often (keeps proxies from timing the stream out); `null`: none. */
  readonly heartbeatMs: number | null;
  /** After a drop, how long the close frame may take to flush before the socket is destroyed. */
  readonly dropGraceMs: number;
}

/** What the `onClientDropped` hook gets. */
export interface DroppedClient {
  readonly reason: 'slow_client';
  /** The session whose stream it was. */
  readonly sessionId: string;
  /** The request path. */
  readonly path: string;
  readonly remoteAddress: string | undefined;
  /** What was waiting in the write buffer when it was dropped. */
  readonly bufferedBytes: number;
  readonly bufferedEvents: number;
  readonly limits: Pick<SseLimits, 'maxBufferedBytes' | 'maxBufferedEvents'>;
}

interface SseConnectionOptions {
  readonly limits: SseLimits;
  readonly scheduler: SchedulerLike;
  readonly describe: Pick<DroppedClient, 'sessionId' | 'path' | 'remoteAddress'>;
  readonly onDropped: (client: DroppedClient) => void;
  /** Called once when the stream is over, however it ended. */
  readonly onEnd: () => void;
}

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  // nginx buffers responses unless told not to.
  'X-Accel-Buffering': 'no',
} as const;

/**
 * One client's SSE response, fed from an Observable of frames, with a bounded buffer.
 *
 * Frames are written as they come. When the client reads slower than they come, Node buffers
 * them (`res.write()` returns false; `writableLength` grows); once that backlog passes
 * `maxBufferedBytes` or `maxBufferedEvents`, the client is **dropped**: the source is
 * unsubscribed (the session is untouched), a `close` frame with reason `slow_client` is queued,
 * the response ends, `onDropped` is called, and the socket is destroyed if it hasn't flushed
 * within `dropGraceMs`. The client may reconnect and resume with `Last-Event-ID`.
 */
export class SseConnection {
  readonly #res: ServerResponse;
  readonly #options: SseConnectionOptions;
  readonly #subscription = new Subscription();
  #framesSinceDrain = 0;
  #done = false;

  constructor(res: ServerResponse, options: SseConnectionOptions) {
    this.#res = res;
    this.#options = options;
  }

  /** Sends the headers, then every frame of `frames$` until it completes (after a `final` frame) or the client leaves. */
  start(frames$: Observable<SseOut>): void {
    const res = this.#res;
    res.writeHead(200, SSE_HEADERS);
    res.write(sseComment('connected')); // flushes the headers: the client sees the stream open
    res.on('drain', () => (this.#framesSinceDrain = 0));
    res.on('close', () => this.#finish());
    const { heartbeatMs } = this.#options.limits;
    if (heartbeatMs !== null) {
      this.#subscription.add(interval(heartbeatMs, this.#options.scheduler).subscribe(() => this.#write(sseComment('ping'))));
    }
    this.#subscription.add(
      frames$.subscribe({
        next: (out) => {
          this.#write(out.text);
          if (out.final) this.#end(undefined);
        },
        error: (error: unknown) => this.#end(formatSseFrame({ event: 'failure', data: { error: String(error) } })),
        complete: () => this.#end(undefined),
      }),
    );
  }

  /** Ends the stream with a `close` frame (e.g. `server_closing`). */
  close(reason: 'server_closing', message: string): void {
    this.#end(formatSseFrame(closeFrame(reason, message)));
  }

  #write(text: string): void {
    if (this.#done) return;
    const res = this.#res;
    res.write(text);
    if (res.writableNeedDrain) this.#framesSinceDrain++;
    const { maxBufferedBytes, maxBufferedEvents } = this.#options.limits;
    if (res.writableLength > maxBufferedBytes || this.#framesSinceDrain > maxBufferedEvents) this.#drop();
  }

  #drop(): void {
    const res = this.#res;
    const { maxBufferedBytes, maxBufferedEvents, dropGraceMs } = this.#options.limits;
    const dropped: DroppedClient = {
      reason: 'slow_client',
      ...this.#options.describe,
      bufferedBytes: res.writableLength,
      bufferedEvents: this.#framesSinceDrain,
      limits: { maxBufferedBytes, maxBufferedEvents },
    };
    const message = `this client fell ${dropped.bufferedEvents} frames / ${dropped.bufferedBytes} bytes behind (limits ${maxBufferedEvents} / ${maxBufferedBytes}); reconnect to resume`;
    this.#end(formatSseFrame(closeFrame('slow_client', message)));
    // A client that doesn't read won't read the close frame either: don't hold its backlog forever.
    const destroy = timer(dropGraceMs, this.#options.scheduler).subscribe(() => res.destroy());
    res.once('close', () => destroy.unsubscribe());
    this.#options.onDropped(dropped);
  }

  #end(lastText: string | undefined): void {
    if (this.#done) return;
    this.#done = true;
    this.#subscription.unsubscribe();
    if (!this.#res.writableEnded) this.#res.end(lastText);
    this.#options.onEnd();
  }

  /** The response closed (the client left, or it ended and flushed). */
  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#subscription.unsubscribe();
    this.#options.onEnd();
  }
}
