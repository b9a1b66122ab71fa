/**
 * coalesceDeltas: merges bursts of message_delta events per time window, passes everything else
 * through in order. Marble tests in virtual time.
 */
import { map, take } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import type { MessageDeltaEvent, PiEvent } from '../../src/protocol/events.js';
import { coalesceDeltas } from '../../src/rx/coalesceDeltas.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

let seq = 0;
const delta = (text: string, extra: Partial<MessageDeltaEvent> = {}): PiEvent => ({
  type: 'message_delta',
  text,
  channel: 'assistant',
  contentIndex: 0,
  sessionId: 's1',
  seq: ++seq,
  raw: { text },
  ...extra,
});
const other = (type: 'turn_end' | 'agent_end' = 'turn_end'): PiEvent =>
  type === 'turn_end' ? { type, sessionId: 's1', seq: ++seq, raw: {} } : ({ type, sessionId: 's1', seq: ++seq, raw: undefined } as unknown as PiEvent);

/** Events by marble letter: their text (for deltas) or their type. */
const summary = (event: PiEvent): string => (event.type === 'message_delta' ? `${event.text}@${event.seq}` : event.type);

describe('coalesceDeltas', () => {
  let testScheduler: TestScheduler;
  beforeEach(() => {
    testScheduler = createTestScheduler();
    seq = 0;
  });

  it('merges the deltas of one window into one, emitted when the window closes', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const events = { a: delta('He'), b: delta('llo'), c: delta(', '), d: delta('world') };
      const source = cold('a-b-c 10ms d-|', events);
      const expected = '   10ms x 6ms (y|)';
      expectObservable(source.pipe(coalesceDeltas(10, testScheduler), map(summary))).toBe(expected, { x: 'Hello, @3', y: 'world@4' });
      expectSubscriptions(source.subscriptions).toBe('^ 16ms !');
    });
  });

  it('emits a pending merge before any other event, so the order is kept', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const events = { a: delta('a'), b: delta('b'), t: other(), c: delta('c') };
      const source = cold('ab-t-c--|', events);
      expectObservable(source.pipe(coalesceDeltas(100, testScheduler), map(summary))).toBe('---(xt)-(y|)', {
        x: 'ab@2',
        t: 'turn_end',
        y: 'c@4',
      });
    });
  });

  it('does not merge across channels, content indexes or sessions', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const events = {
        a: delta('think', { channel: 'thinking' }),
        b: delta('say'),
        c: delta('more', { contentIndex: 1 }),
        d: delta('other', { contentIndex: 1, sessionId: 's2' }),
      };
      const source = cold('abcd|', events);
      expectObservable(source.pipe(coalesceDeltas(50, testScheduler), map(summary))).toBe('-xyz(w|)', {
        x: 'think@1',
        y: 'say@2',
        z: 'more@3',
        w: 'other@4',
      });
    });
  });

  it('passes a lone delta on as it is (the same object)', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const lone = delta('only');
      expectObservable(cold('a|', { a: lone }).pipe(coalesceDeltas(5, testScheduler))).toBe('-(a|)', { a: lone });
    });
  });

  it('emits the pending merge before an error', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const source = cold('ab#', { a: delta('x'), b: delta('y') }, new Error('pi died'));
      expectObservable(source.pipe(coalesceDeltas(10, testScheduler), map(summary))).toBe('--(x#)', { x: 'xy@2' }, new Error('pi died'));
    });
  });

  it('with windowMs 0, closes a merge at the next tick of the scheduler', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      // Deltas in the same frame merge; the window closes right after.
      const source = cold('(abc)-d|', { a: delta('1'), b: delta('2'), c: delta('3'), d: delta('4') });
      expectObservable(source.pipe(coalesceDeltas(0, testScheduler), map(summary))).toBe('x 5ms y|', { x: '123@3', y: '4@4' });
    });
  });

  it('cancels the window when the subscriber unsubscribes (nothing scheduled is left)', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('ab-----c|', { a: delta('a'), b: delta('b'), c: delta('c') });
      expectObservable(source.pipe(coalesceDeltas(3, testScheduler), map(summary), take(1))).toBe('---(x|)', { x: 'ab@2' });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
    expect(testScheduler.actions).toEqual([]);
  });

  it("keeps the merged text exact and the last delta's seq and raw, without reading raw early", () => {
    let reads = 0;
    const first = delta('a');
    const lazy = delta('b');
    Object.defineProperty(lazy, 'raw', {
      enumerable: true,
      get: () => {
        reads++;
        return { lazy: true };
      },
    });
    const merged: PiEvent[] = [];
    testScheduler.run(({ cold }) => {
      cold('ab|', { a: first, b: lazy })
        .pipe(coalesceDeltas(10, testScheduler))
        .subscribe((event) => merged.push(event));
    });
    expect(reads).toBe(0);
    expect(merged).toHaveLength(1);
    expect(merged[0]).toEqual({ type: 'message_delta', text: 'ab', channel: 'assistant', contentIndex: 0, sessionId: 's1', seq: 2, raw: { lazy: true } });
    expect(reads).toBeGreaterThan(0);
  });
});
