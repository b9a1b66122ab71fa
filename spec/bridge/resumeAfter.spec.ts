import { describe, it } from 'vitest';
import { resumeAfter, type ResumeItem } from '../../src/bridge/resumeAfter.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

const event = (seq: number) => ({ type: 'turn_start', sessionId: 's', seq, raw: undefined }) as PiEvent;
const values = Object.fromEntries([1, 2, 3, 4, 5, 6, 7].map((seq) => [String(seq), event(seq)]));
const item = (seq: number): ResumeItem => ({ kind: 'event', event: event(seq) });
const items = Object.fromEntries([1, 2, 3, 4, 5, 6, 7].map((seq) => [String(seq), item(seq)]));

describe('resumeAfter', () => {
  it('a fresh client gets the window and live events', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      expectObservable(resumeAfter(cold('(345)-6|', values), undefined, () => 5)).toBe('(345)-6|', items);
    });
  });

  it('skips what the client has', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      expectObservable(resumeAfter(cold('(345)-6|', values), 4, () => 5)).toBe('(5)---6|', items);
      expectObservable(resumeAfter(cold('(345)-6|', values), 5, () => 5)).toBe('------6|', items);
    });
  });

  it('reports a gap when the next event the client needs left the window', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      expectObservable(resumeAfter(cold('(56)-7|', values), 2, () => 6)).toBe('(g56)7|', { ...items, g: { kind: 'gap', gap: { missedFrom: 3, missedTo: 4 } } });
    });
  });

  it('resets a client whose Last-Event-ID is ahead of the session', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      expectObservable(resumeAfter(cold('(12)-3|', values), 40, () => 2)).toBe('(r12)3|', {
        ...items,
        r: { kind: 'reset', reset: { lastEventId: 40, currentSeq: 2 } },
      });
    });
  });

  it('passes errors and unsubscribes from the events', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const events = cold('1-2-#', values);
      expectObservable(resumeAfter(events, 1, () => 1)).toBe('--2-#', items);
      expectSubscriptions(events.subscriptions).toBe('^---!');
    });
  });
});
