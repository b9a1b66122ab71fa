/**
 * Marble tests of the reconnect / resume / dedupe logic of `pidriver/browser`, with a fake
 * `open(lastEventId)`: no network, virtual time.
 */
import type { Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { BridgeHttpError, ConnectionLostError } from '../../src/browser/errors.js';
import { resumableEvents, type StreamItem } from '../../src/browser/resumableEvents.js';
import type { SseMessage } from '../../src/browser/SseParser.js';
import { OPEN } from '../../src/browser/sseSources.js';
import { TransportClosedError } from '../../src/errors.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

const event = (seq: number) => ({ type: 'turn_start' as const, sessionId: 's', seq, raw: null });
const message = (seq: number): SseMessage => ({ event: 'message', id: String(seq), data: JSON.stringify(event(seq)) });
const named = (name: string, data: unknown): SseMessage => ({ event: name, id: undefined, data: JSON.stringify(data) });

/** Marble values: o = open, digits = events by seq, plus the named frames. */
const wire: Record<string, SseMessage> = {
  o: OPEN,
  ...Object.fromEntries([1, 2, 3, 4, 5, 6].map((seq) => [String(seq), message(seq)])),
  g: named('gap', { missedFrom: 3, missedTo: 4 }),
  R: named('reset', { lastEventId: 9, currentSeq: 2 }),
  C: named('close', { reason: 'session_closed', message: 'closed' }),
  D: named('close', { reason: 'session_died', message: 'pi exited unexpectedly' }),
  S: named('close', { reason: 'slow_client', message: 'too slow' }),
  x: { event: 'message', id: '3', data: '{"type":"nonsense"' },
  h: named('heartbeat-from-the-future', {}),
};

const out = (seq: number): StreamItem => ({ kind: 'event', event: event(seq), bytes: message(seq).data.length });
const open: StreamItem = { kind: 'open' };
const reconnecting = (attempt: number, delayMs: number, error: unknown = expect.any(ConnectionLostError)): StreamItem => ({
  kind: 'reconnecting',
  attempt,
  delayMs,
  error,
});

/** A fake `open` that hands out the given connections in turn and records each `lastEventId`. */
function connections(...sources: Observable<SseMessage>[]) {
  const asked: (number | undefined)[] = [];
  return {
    asked,
    open: (lastEventId: number | undefined) => {
      asked.push(lastEventId);
      const source = sources[asked.length - 1];
      if (!source) throw new Error(`unexpected connection #${asked.length}`);
      return source;
    },
  };
}

describe('resumableEvents', () => {
  it('reconnects after a drop, resumes after the last seq, and drops what it already delivered', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const first = cold('o-1-2-#', wire, new ConnectionLostError('network'));
      const second = cold('o-1-2-3-4', wire); // the server replays its window: 1 and 2 again
      const fake = connections(first, second);
      expectObservable(resumableEvents({ open: fake.open, scheduler }), '^ 300ms !').toBe('o-1-2-r 249ms o 5ms 3-4', {
        o: open,
        1: out(1),
        2: out(2),
        3: out(3),
        4: out(4),
        r: reconnecting(1, 250),
      });
      expectSubscriptions(first.subscriptions).toBe('^-----!');
      expectSubscriptions(second.subscriptions).toBe('256ms ^ 44ms !');
      scheduler.flush();
      expect(fake.asked).toEqual([undefined, 2]);
    });
  });

  it('backs off exponentially while connections fail, up to maxDelayMs, and starts over after an open', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const fail = () => cold('#', wire, new ConnectionLostError('refused'));
      const fake = connections(fail(), fail(), fail(), fail(), cold('o-1-#', wire, new ConnectionLostError('again')), cold('o', wire));
      const items = resumableEvents({ open: fake.open, scheduler, initialDelayMs: 100, maxDelayMs: 300 });
      // Fails at 0, 100, 300, 600; opens at 900; drops at 902; back to 100 ms: reopens at 1002.
      expectObservable(items, '^ 1100ms !').toBe('r 99ms r 199ms r 299ms r 299ms o-1-r 99ms o', {
        r: expect.objectContaining({ kind: 'reconnecting' }),
        o: open,
        1: out(1),
      });
      scheduler.flush();
      expect(fake.asked).toEqual([undefined, undefined, undefined, undefined, undefined, 1]);
    });
    // The delays themselves:
    createTestScheduler().run(({ cold, expectObservable }) => {
      const fail = () => cold('#', wire, new ConnectionLostError('refused'));
      const fake = connections(fail(), fail(), fail(), fail(), cold('-'));
      const delays$ = resumableEvents({ open: fake.open, initialDelayMs: 100, maxDelayMs: 300 }); // run() virtualizes asyncScheduler
      expectObservable(delays$, '^ 1000ms !').toBe('a 99ms b 199ms c 299ms d', {
        a: reconnecting(1, 100),
        b: reconnecting(2, 200),
        c: reconnecting(3, 300),
        d: reconnecting(4, 300),
      });
    });
  });

  it('gives up after maxAttempts failed reconnects', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const error = new ConnectionLostError('refused');
      const fake = connections(cold('#', wire, error), cold('#', wire, error), cold('#', wire, error));
      expectObservable(resumableEvents({ open: fake.open, scheduler, maxAttempts: 2 })).toBe(
        'a 249ms b 499ms #',
        { a: reconnecting(1, 250), b: reconnecting(2, 500) },
        error,
      );
    });
  });

  it('does not retry a 4xx answer', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const unauthorized = new BridgeHttpError(401, { error: 'wrong token' }, 'http://x/events');
      const fake = connections(cold('#', wire, unauthorized));
      expectObservable(resumableEvents({ open: fake.open, scheduler })).toBe('#', {}, unauthorized);
    });
  });

  it('retries a 503 and a 429', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const busy = new BridgeHttpError(503, undefined, 'http://x/events');
      const limited = new BridgeHttpError(429, undefined, 'http://x/events');
      const fake = connections(cold('#', wire, busy), cold('#', wire, limited), cold('o', wire));
      expectObservable(resumableEvents({ open: fake.open, scheduler }), '^ 1000ms !').toBe('a 249ms b 499ms o', {
        a: reconnecting(1, 250, busy),
        b: reconnecting(2, 500, limited),
        o: open,
      });
    });
  });

  it('completes on session_closed, errors with TransportClosedError on session_died (no retry)', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(resumableEvents({ open: connections(cold('o-1-C-3', wire)).open, scheduler })).toBe('o-1-|', { o: open, 1: out(1) });
      expectObservable(resumableEvents({ open: connections(cold('o-D', wire)).open, scheduler })).toBe(
        'o-#',
        { o: open },
        new TransportClosedError('pi exited unexpectedly'),
      );
    });
  });

  it('reconnects when the server drops this client as slow, or the stream just ends', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const fake = connections(cold('o-1-S', wire), cold('o-2|', wire), cold('o', wire));
      expectObservable(resumableEvents({ open: fake.open, scheduler }), '^ 600ms !').toBe('o-1-r 249ms o-2r 249ms o', {
        o: open,
        1: out(1),
        2: out(2),
        r: reconnecting(1, 250),
      });
      scheduler.flush();
      expect(fake.asked).toEqual([undefined, 1, 2]);
    });
  });

  it('passes gaps on, forgets the watermark on reset, keeps invalid frames as values, ignores unknown names', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const fake = connections(cold('o-5-6-R-1-2-g-h-x-3', wire));
      expectObservable(resumableEvents({ open: fake.open, scheduler })).toBe('o-5-6-R-1-2-g---x', {
        o: open,
        5: out(5),
        6: out(6),
        R: { kind: 'reset', reset: { lastEventId: 9, currentSeq: 2 } },
        1: out(1),
        2: out(2),
        x: expect.objectContaining({ kind: 'invalid', event: 'message', seq: 3 }), // a bad frame still counts: 3 is not delivered twice
        g: { kind: 'gap', gap: { missedFrom: 3, missedTo: 4 } },
        3: out(3),
      });
    });
  });

  it('unsubscribing closes the connection and cancels a pending reconnect', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const first = cold('o-1-#', wire, new ConnectionLostError('x'));
      const second = cold('o', wire);
      const fake = connections(first, second);
      expectObservable(resumableEvents({ open: fake.open, scheduler }), '^ 100ms !').toBe('o-1-r', { o: open, 1: out(1), r: reconnecting(1, 250) });
      expectSubscriptions(first.subscriptions).toBe('^---!');
      expectSubscriptions(second.subscriptions).toBe([]);
    });
  });
});
