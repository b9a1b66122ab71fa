import type { ServerResponse } from 'node:http';
import { repeat, Subscription, type Observable, type SchedulerLike } from 'rxjs';
import { longTimer } from '../rx/longTimer.js';
import type { BudgetedStream, SseBudget } from './SseBudget.js';
import { closeFrame, formatSseFrame, sseComment } from './sseFrame.js';
import type { SseOut } from './sessionStreams.js';

/** Bounds of one client's stream. */
export interface SseLimits {
  /**
   * Most bytes waiting in this response's write buffer before the client is dropped. The
   * largest single frame waiting is not counted, so one frame bigger than the bound (a large
   * tool result) never drops a client that keeps up.
   */
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
  /**
   * Which bound it passed: its own stream's (`maxBufferedBytes`, `maxBufferedEvents`), or the
   * total of the handler's streams (`maxTotalBufferedBytes`: it was the furthest behind).
   */
  readonly bound: 'stream' | 'total';
  /** The session whose stream it was. */
  readonly sessionId: string;
  /** The request path, with token-like query values (`?token=`) redacted. */
  readonly path: string;
  readonly remoteAddress: string | undefined;
  /** What was waiting in the write buffer when it was dropped. */
  readonly bufferedBytes: number;
  readonly bufferedEvents: number;
  readonly limits: Pick<SseLimits, 'maxBufferedBytes' | 'maxBufferedEvents'> & { readonly maxTotalBufferedBytes: number };
}

interface SseConnectionOptions {
  readonly limits: SseLimits;
  readonly budget: SseBudget;
  readonly scheduler: SchedulerLike;
  readonly describe: Pick<DroppedClient, 'sessionId' | 'path' | 'remoteAddress'>;
  readonly onDropped: (client: DroppedClient) => void;
  /** Takes secrets out of the texts this stream writes itself (error and close messages). */
  readonly redact: (text: string) => string;
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
 * them (`res.write()` returns false; `writableLength` grows); once that backlog (less the
 * largest frame in it) passes `maxBufferedBytes` or `maxBufferedEvents`, or the handler's
 * {@link SseBudget} picks it as the stream furthest behind, the client is **dropped**: the
 * source is unsubscribed (the session is untouched), a `close` frame with reason `slow_client`
 * is queued, the response ends, `onDropped` is called, and the socket is destroyed if it hasn't
 * flushed within `dropGraceMs`. The client may reconnect and resume with `Last-Event-ID`.
 *
 * @internal
 */
export class SseConnection implements BudgetedStream {
  readonly #res: ServerResponse;
  readonly #options: SseConnectionOptions;
  readonly #subscription = new Subscription();
  #framesSinceDrain = 0;
  /** The largest frame written since the buffer last drained: not counted against the bound. */
  #largestSinceDrain = 0;
  #done = false;
  #closed = false;

  constructor(res: ServerResponse, options: SseConnectionOptions) {
    this.#res = res;
    this.#options = options;
  }

  /** Bytes waiting in the write buffer, less the largest frame among them. */
  get backlog(): number {
    if (this.#closed || this.#res.destroyed) return 0;
    return Math.max(0, this.#res.writableLength - this.#largestSinceDrain);
  }

  get ending(): boolean {
    return this.#done;
  }

  /**
   * Sends the headers, then every frame of `frames$` until it completes (after a `final` frame)
   * or the client leaves. A client that already left (`left` aborted, the response closed) gets
   * nothing: `frames$` is never subscribed.
   */
  start(frames$: Observable<SseOut>, left: AbortSignal): void {
    const res = this.#res;
    const { budget } = this.#options;
    if (left.aborted || res.destroyed || res.writableEnded) {
      this.#finish();
      return;
    }
    left.addEventListener('abort', () => this.#finish(), { once: true });
    res.on('close', () => this.#finish());
    res.on('drain', () => {
      this.#framesSinceDrain = 0;
      this.#largestSinceDrain = 0;
      budget.note(this);
    });
    budget.add(this);
    res.writeHead(200, SSE_HEADERS);
    res.write(sseComment('connected')); // flushes the headers: the client sees the stream open
    const { heartbeatMs } = this.#options.limits;
    if (heartbeatMs !== null) {
      this.#subscription.add(
        longTimer(heartbeatMs, this.#options.scheduler)
          .pipe(repeat())
          .subscribe(() => this.#write(sseComment('ping'))),
      );
    }
    this.#subscription.add(
      frames$.subscribe({
        next: (out) => {
          this.#write(out.text);
          if (out.final) this.#end(undefined);
        },
        error: (error: unknown) => this.#end(formatSseFrame({ event: 'failure', data: { error: this.#options.redact(String(error)) } })),
        complete: () => this.#end(undefined),
      }),
    );
  }

  /** Ends the stream with a `close` frame (e.g. `server_closing`). */
  close(reason: 'server_closing', message: string): void {
    this.#end(formatSseFrame(closeFrame(reason, message)));
  }

  /** Drops the client for falling behind the handler's total bound. */
  drop(bound: 'total'): void {
    this.#drop(bound);
  }

  /** Destroys the socket now (a dropped client whose grace the handler can't afford). */
  destroy(): void {
    this.#res.destroy();
    this.#finish();
  }

  #write(text: string): void {
    if (this.#done) return;
    const res = this.#res;
    const before = res.writableLength;
    res.write(text);
    // What this frame added to the buffer (0 when the socket took it at once).
    this.#largestSinceDrain = Math.max(this.#largestSinceDrain, res.writableLength - before);
    if (res.writableNeedDrain) this.#framesSinceDrain++;
    const { maxBufferedBytes, maxBufferedEvents } = this.#options.limits;
    if (this.backlog > maxBufferedBytes || this.#framesSinceDrain > maxBufferedEvents) this.#drop('stream');
    else this.#options.budget.note(this);
  }

  #drop(bound: 'stream' | 'total'): void {
    if (this.#done) return;
    const res = this.#res;
    const { maxBufferedBytes, maxBufferedEvents, dropGraceMs } = this.#options.limits;
    const { maxTotalBufferedBytes } = this.#options.budget.limits;
    const dropped: DroppedClient = {
      reason: 'slow_client',
      bound,
      ...this.#options.describe,
      bufferedBytes: res.writableLength,
      bufferedEvents: this.#framesSinceDrain,
      limits: { maxBufferedBytes, maxBufferedEvents, maxTotalBufferedBytes },
    };
    const behind = `${dropped.bufferedEvents} frames / ${dropped.bufferedBytes} bytes behind`;
    const message =
      bound === 'stream'
        ? `this client fell ${behind} (limits ${maxBufferedEvents} / ${maxBufferedBytes}); reconnect to resume`
        : `the server's streams hold more than ${maxTotalBufferedBytes} bytes and this client was furthest behind (${behind}); reconnect to resume`;
    this.#end(formatSseFrame(closeFrame('slow_client', message)));
    // A client that doesn't read won't read the close frame either: don't hold its backlog forever.
    const destroy = longTimer(dropGraceMs, this.#options.scheduler).subscribe(() => res.destroy());
    res.once('close', () => destroy.unsubscribe());
    this.#options.onDropped(dropped);
  }

  #end(lastText: string | undefined): void {
    if (this.#done) return;
    this.#done = true;
    this.#subscription.unsubscribe();
    if (!this.#res.writableEnded && !this.#res.destroyed) this.#res.end(lastText);
    this.#options.onEnd();
  }

  /** The response closed (the client left, or it ended and flushed), or the client left before it started. */
  #finish(): void {
    if (!this.#closed) {
      this.#closed = true;
      this.#options.budget.remove(this);
    }
    if (this.#done) return;
    this.#done = true;
    this.#subscription.unsubscribe();
    this.#options.onEnd();
  }
}
