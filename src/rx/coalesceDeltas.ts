import { asyncScheduler, Observable, type MonoTypeOperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { PiDriverError } from '../errors.js';
import { isDuration, MAX_TIMER_MS } from './longTimer.js';

/** What this operator reads and writes of a `message_delta` event (a `MessageDeltaEvent`). */
interface Delta {
  readonly type: 'message_delta';
  readonly text: string;
  readonly channel: string;
  readonly contentIndex: number;
  sessionId: string;
  seq: number;
  readonly raw: unknown;
}

/** A run of deltas being merged. */
interface Pending {
  readonly first: Delta;
  last: Delta;
  readonly texts: string[];
}

/**
 * Merges bursts of `message_delta` events into one per time window, for UIs that render text:
 * a model can stream hundreds of small deltas a second, and a subscriber that repaints for each
 * one spends its time repainting. Every other event passes through at once, in order (a pending
 * merge is emitted just before it).
 *
 * Consecutive deltas of the same text stream (same `sessionId`, `channel` and `contentIndex`)
 * are merged: the first opens a window of `windowMs` on `scheduler`, and when it closes one
 * `message_delta` goes out whose `text` is their texts joined, whose `seq` is the last merged
 * delta's (so `seq` still increases, with gaps), and whose `raw` is the last merged delta's (read
 * only if you read it). A delta of another stream, any other event, completion and error emit
 * the pending merge first. Nothing is dropped: the merged texts concatenate to exactly the
 * streamed text.
 *
 * RxJS has no backpressure, so this is how a slow consumer keeps up: it gets at most one delta
 * per window and stream instead of one per token. With `windowMs` 0 a merge closes at the
 * scheduler's next tick: `coalesceDeltas(0, animationFrameScheduler)` gives one delta per frame.
 *
 * ## Example
 * ```ts
 * session.events$
 *   .pipe(coalesceDeltas(16), ofType('message_delta'))
 *   .subscribe({ next: (delta) => render(delta.text), error: console.error });
 * ```
 *
 * @param windowMs How long a merge stays open after its first delta, in ms. Default 16 (a frame at 60 Hz).
 * @param scheduler When the window closes; default `asyncScheduler` (tests pass a `TestScheduler`).
 * @return An operator on a stream of events (a session's, or a manager's).
 * @see {@link ofType}
 */
export function coalesceDeltas<E extends { readonly type: string }>(windowMs = 16, scheduler: SchedulerLike = asyncScheduler): MonoTypeOperatorFunction<E> {
  if (!(isDuration(windowMs) && windowMs <= MAX_TIMER_MS)) {
    throw new PiDriverError(`coalesceDeltas: windowMs must be a number of ms from 0 to ${MAX_TIMER_MS}, got ${String(windowMs)}`, {
      code: 'PI_INVALID_ARGUMENT',
    });
  }
  return (source) =>
    new Observable<E>((subscriber) => {
      let pending: Pending | undefined;
      let closing: Subscription | undefined;

      const flush = (): void => {
        closing?.unsubscribe();
        closing = undefined;
        if (!pending) return;
        const merged = merge(pending);
        pending = undefined;
        subscriber.next(merged as unknown as E);
      };

      const subscription = source.subscribe({
        next: (event) => {
          if (!isDelta(event)) {
            flush();
            subscriber.next(event);
            return;
          }
          if (pending && sameStream(pending.last, event)) {
            pending.texts.push(event.text);
            pending.last = event;
            return;
          }
          flush();
          pending = { first: event, last: event, texts: [event.text] };
          closing = scheduler.schedule(flush, windowMs);
        },
        error: (error: unknown) => {
          flush();
          subscriber.error(error);
        },
        complete: () => {
          flush();
          subscriber.complete();
        },
      });
      return () => {
        closing?.unsubscribe();
        subscription.unsubscribe();
      };
    });
}

function isDelta(event: { readonly type: string }): event is Delta {
  return event.type === 'message_delta';
}

function sameStream(a: Delta, b: Delta): boolean {
  return a.sessionId === b.sessionId && a.channel === b.channel && a.contentIndex === b.contentIndex;
}

/** One delta for the run; a run of one is passed on as it is. */
function merge(pending: Pending): Delta {
  const { first, last, texts } = pending;
  if (first === last) return first;
  const merged = { type: 'message_delta', text: texts.join(''), channel: first.channel, contentIndex: first.contentIndex } as Delta;
  // The last delta's raw, without reading it (a session may decode raw lazily).
  Object.defineProperty(merged, 'raw', {
    enumerable: true,
    configurable: true,
    get: () => last.raw,
    set(this: object, value: unknown) {
      Object.defineProperty(this, 'raw', { value, enumerable: true, configurable: true, writable: true });
    },
  });
  merged.sessionId = last.sessionId;
  merged.seq = last.seq;
  return merged;
}
