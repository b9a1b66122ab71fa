import { asyncScheduler, defer, finalize, merge, Observable, retry, Subject, throwError, type SchedulerLike } from 'rxjs';
import { longTimer } from '../rx/longTimer.js';
import { decodeMessage, type Decoded } from './decodeMessage.js';
import { ConnectionLostError, isRetryable } from './errors.js';
import type { SseMessage } from './SseParser.js';

/** How a lost event stream is reconnected: exponential backoff, `initialDelayMs · 2^(attempt-1)` capped at `maxDelayMs`. */
export interface ReconnectOptions {
  /** Delay before the first reconnect, in ms. Default 250. */
  readonly initialDelayMs?: number;
  /** Longest delay between attempts, in ms. Default 10,000. */
  readonly maxDelayMs?: number;
  /** Reconnects in a row (without a successful open in between) before giving up. Default: no limit. */
  readonly maxAttempts?: number;
}

/** The stream is being reconnected after `error`, in `delayMs`. */
export interface Reconnecting {
  readonly kind: 'reconnecting';
  /** 1 for the first attempt after a successful connection. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: unknown;
}

/** What {@link resumableEvents} emits: decoded messages, without duplicates, and reconnect notices. */
export type StreamItem = Exclude<Decoded, { kind: 'end' } | { kind: 'fail' } | { kind: 'ignored' }> | Reconnecting;

export interface ResumableEventsOptions extends ReconnectOptions {
  /**
   * Opens one connection. `lastEventId` is the highest `seq` delivered so far (`undefined` on
   * the first connection, or after a `reset`): ask the server to resume after it.
   */
  readonly open: (lastEventId: number | undefined) => Observable<SseMessage>;
  /** Time source of the backoff; default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/**
 * A session's event stream that survives drops: each connection resumes after the last `seq`
 * delivered (`Last-Event-ID`), events already delivered are dropped (dedupe by `seq`), and a
 * lost connection is reopened with exponential backoff (`retry({ delay })` on the injectable
 * scheduler; the attempt count resets once a connection opens).
 *
 * It completes when the server says the session closed, and errors when the session died
 * (`TransportClosedError`), on an error a reconnect can't cure (a 4xx), or after `maxAttempts`.
 * A stream that just ends counts as lost.
 *
 * @param options How to open a connection, the backoff and its scheduler.
 * @return A cold Observable; each subscription has its own connection and its own `seq` watermark.
 */
export function resumableEvents(options: ResumableEventsOptions): Observable<StreamItem> {
  const { open, scheduler = asyncScheduler, initialDelayMs = 250, maxDelayMs = 10_000, maxAttempts = Infinity } = options;
  return defer(() => {
    let lastSeq: number | undefined;
    const reconnects = new Subject<Reconnecting>();
    const connection$ = new Observable<StreamItem>((subscriber) =>
      open(lastSeq).subscribe({
        next: (message) => {
          const decoded = decodeMessage(message);
          switch (decoded.kind) {
            case 'end':
              subscriber.complete();
              return;
            case 'fail':
              subscriber.error(decoded.error);
              return;
            case 'ignored':
              return;
            case 'event':
              if (lastSeq !== undefined && decoded.event.seq <= lastSeq) return; // already delivered
              lastSeq = decoded.event.seq;
              break;
            case 'invalid':
              if (decoded.seq !== undefined) {
                if (lastSeq !== undefined && decoded.seq <= lastSeq) return;
                lastSeq = decoded.seq;
              }
              break;
            case 'reset':
              lastSeq = undefined; // a different session: everything that follows is new
              break;
            default:
              break;
          }
          subscriber.next(decoded);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.error(new ConnectionLostError('the event stream ended')),
      }),
    );
    const resilient$ = connection$.pipe(
      retry({
        count: maxAttempts,
        resetOnSuccess: true,
        delay: (error: unknown, attempt: number) => {
          if (!isRetryable(error)) return throwError(() => error);
          const delayMs = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
          reconnects.next({ kind: 'reconnecting', attempt, delayMs, error });
          return longTimer(delayMs, scheduler);
        },
      }),
      finalize(() => reconnects.complete()),
    );
    return merge(reconnects, resilient$);
  });
}
