/**
 * ReplayHub: the hot stream behind `session.events$`, which replays the current window (a run) to
 * late subscribers, bounded by count and bytes. Marble tests of its public API only.
 *
 * A `hot()` feed drives the hub: a value is `hub.next(value, bytes)`, `R` is `hub.reset()`, and
 * the feed's completion or error is the hub's.
 */
import { take, type Observable } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { ReplayHub, type ReplayLimits } from '../../src/rx/ReplayHub.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

const RESET = 'R';
const roomy: ReplayLimits = { maxEvents: 1_000, maxBytes: 1_000_000 };

/** Pipes a marble feed into the hub; `bytes` gives each value's size (1 by default). */
function feed(hub: ReplayHub<string>, source$: Observable<string>, bytes: Record<string, number> = {}) {
  return source$.subscribe({
    next: (value) => (value === RESET ? hub.reset() : hub.next(value, bytes[value] ?? 1)),
    error: (error: unknown) => hub.error(error),
    complete: () => hub.complete(),
  });
}

describe('ReplayHub', () => {
  let testScheduler: TestScheduler;
  beforeEach(() => {
    testScheduler = createTestScheduler();
  });

  it('is hot: an early subscriber gets live values only', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const hub = new ReplayHub<string>(roomy);
      const values = '  a-b-c-|';
      const expected = 'a-b-c-|';
      const feedSubs = '^-----!';
      const source = hot(values);
      feed(hub, source);
      expectObservable(hub.observable).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe(feedSubs);
    });
  });

  it('gives a late subscriber the window so far, then live values', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const hub = new ReplayHub<string>(roomy);
      const values = '  a-b-c-----d-e|';
      const late = '    -----^        ';
      const expected = '-----(abc)d-e|';
      feed(hub, hot(values));
      expectObservable(hub.observable, late).toBe(expected);
    });
  });

  it('gives subscribers arriving at different times the same window, each once', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const hub = new ReplayHub<string>(roomy);
      const values = ' a--b-------c|      ';
      const sub1 = '   -^                 ';
      const events1 = '-a-b-------c|      ';
      const sub2 = '   -----^             ';
      const events2 = '-----(ab)--c|      ';
      const sub3 = '   ------------^      ';
      const events3 = '------------(abc|) ';
      feed(hub, hot(values));
      expectObservable(hub.observable, sub1).toBe(events1);
      expectObservable(hub.observable, sub2).toBe(events2);
      expectObservable(hub.observable, sub3).toBe(events3);
    });
  });

  it('reset() starts a new window: a late subscriber gets nothing from before it', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const hub = new ReplayHub<string>(roomy);
      const values = ' a-b-R---c-d-----e| ';
      const early = '  a-b-----c-d-----e| ';
      const sub1 = '   ---^               ';
      const events1 = '---(ab)-c-d-----e| ';
      const sub2 = '   -----^             ';
      const events2 = '--------c-d-----e| ';
      const sub3 = '   ------------^      ';
      const events3 = '------------(cd)e| ';
      feed(hub, hot(values));
      expectObservable(hub.observable).toBe(early);
      expectObservable(hub.observable, sub1).toBe(events1);
      expectObservable(hub.observable, sub2).toBe(events2);
      expectObservable(hub.observable, sub3).toBe(events3);
    });
  });

  it('reset() with nothing after it leaves an empty window', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const hub = new ReplayHub<string>(roomy);
      const values = '  a-b-R----|';
      const late = '    ------^   ';
      const expected = '---------|';
      feed(hub, hot(values));
      expectObservable(hub.observable, late).toBe(expected);
    });
  });

  describe('bounds', () => {
    it('keeps at most maxEvents values, dropping the oldest first', () => {
      testScheduler.run(({ hot, expectObservable }) => {
        const hub = new ReplayHub<string>({ maxEvents: 3, maxBytes: 1_000_000 });
        const values = ' a-b-c------d-e-------f| ';
        const sub1 = '   -----^                  ';
        const events1 = '-----(abc)-d-e-------f| ';
        const sub2 = '   ---------------^        ';
        const events2 = '---------------(cde)-f| ';
        feed(hub, hot(values));
        expectObservable(hub.observable, sub1).toBe(events1);
        expectObservable(hub.observable, sub2).toBe(events2);
      });
    });

    it('keeps at most maxBytes, dropping the oldest first', () => {
      testScheduler.run(({ hot, expectObservable }) => {
        const hub = new ReplayHub<string>({ maxEvents: 1_000, maxBytes: 10 });
        const bytes = { a: 4, b: 4, c: 2, d: 6, e: 1 };
        // a+b+c = 10 fits; d pushes a and b out (2+6 = 8); e fits (9).
        const values = ' a-b-c------d------e-------| ';
        const sub1 = '   -----^                      ';
        const events1 = '-----(abc)-d------e-------| ';
        const sub2 = '   -------------^              ';
        const events2 = '-------------(cd)-e-------| ';
        const sub3 = '   --------------------^       ';
        const events3 = '--------------------(cde)-| ';
        feed(hub, hot(values), bytes);
        expectObservable(hub.observable, sub1).toBe(events1);
        expectObservable(hub.observable, sub2).toBe(events2);
        expectObservable(hub.observable, sub3).toBe(events3);
      });
    });

    it('keeps the newest value even when it alone is over maxBytes', () => {
      testScheduler.run(({ hot, expectObservable }) => {
        const hub = new ReplayHub<string>({ maxEvents: 1_000, maxBytes: 10 });
        const values = '  a-b---|';
        const late = '    ----^  ';
        const expected = '----b-|';
        feed(hub, hot(values), { a: 3, b: 50 });
        expectObservable(hub.observable, late).toBe(expected);
      });
    });

    it('applies whichever bound is tighter', () => {
      testScheduler.run(({ hot, expectObservable }) => {
        const hub = new ReplayHub<string>({ maxEvents: 2, maxBytes: 5 });
        // After c the count bound holds (b, c); after d the byte bound does (c + d = 6 bytes: d alone).
        const values = ' a-b-c------d--| ';
        const sub1 = '   -----^          ';
        const events1 = '-----(bc)--d--| ';
        const sub2 = '   ------------^   ';
        const events2 = '------------d-| ';
        feed(hub, hot(values), { a: 1, b: 1, c: 1, d: 5 });
        expectObservable(hub.observable, sub1).toBe(events1);
        expectObservable(hub.observable, sub2).toBe(events2);
      });
    });

    it('frees the bytes of values dropped by reset()', () => {
      testScheduler.run(({ hot, expectObservable }) => {
        const hub = new ReplayHub<string>({ maxEvents: 1_000, maxBytes: 10 });
        const values = '  a-b-R-c-d----|';
        const late = '    ---------^    ';
        const expected = '---------(cd)|';
        feed(hub, hot(values), { a: 5, b: 5, c: 5, d: 5 });
        expectObservable(hub.observable, late).toBe(expected);
      });
    });

    it('stays exact over a long stream (many more values than the bound)', () => {
      const hub = new ReplayHub<string>({ maxEvents: 10, maxBytes: 1_000_000 });
      for (let index = 0; index < 5_000; index++) hub.next(`v${index}`, 1);
      expect(hub.size).toBe(10);
      const replayed: string[] = [];
      hub.observable.subscribe((value) => replayed.push(value)).unsubscribe();
      expect(replayed).toEqual(Array.from({ length: 10 }, (_, index) => `v${4_990 + index}`));
    });

    it('reports the size a late subscriber would get', () => {
      const hub = new ReplayHub<string>({ maxEvents: 2, maxBytes: 1_000_000 });
      expect(hub.size).toBe(0);
      hub.next('a', 1);
      expect(hub.size).toBe(1);
      hub.next('b', 1);
      hub.next('c', 1);
      expect(hub.size).toBe(2);
      hub.reset();
      expect(hub.size).toBe(0);
    });
  });

  describe('termination', () => {
    it('gives a subscriber arriving after complete the window, then complete', () => {
      testScheduler.run(({ hot, expectObservable }) => {
        const hub = new ReplayHub<string>(roomy);
        const values = '  a-b-|      ';
        const early = '   a-b-|      ';
        const late = '    ------^    ';
        const expected = '------(ab|)';
        feed(hub, hot(values));
        expectObservable(hub.observable).toBe(early);
        expectObservable(hub.observable, late).toBe(expected);
      });
    });

    it('gives a subscriber arriving after an error the window, then the error', () => {
      testScheduler.run(({ hot, expectObservable }) => {
        const hub = new ReplayHub<string>(roomy);
        const died = new Error('pi died');
        const values = ' a-b-#      ';
        const sub1 = '   -^         ';
        const events1 = '-ab-#      ';
        const sub2 = '   ------^    ';
        const events2 = '------(ab#)';
        feed(hub, hot(values, undefined, died));
        expectObservable(hub.observable, sub1).toBe(events1, undefined, died);
        expectObservable(hub.observable, sub2).toBe(events2, undefined, died);
      });
    });

    it('ignores values and terminal notifications after the first terminal one', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const hub = new ReplayHub<string>(roomy);
        const values = '  a-b-c|     ';
        const tooLate = ' ----x      ';
        const early = '   a-(b|)     ';
        const late = '    -----^     ';
        const expected = '-----(ab|) ';
        cold(values).subscribe((value) => {
          hub.next(value, 1);
          if (value === 'b') hub.complete();
        });
        cold(tooLate).subscribe(() => {
          hub.error(new Error('too late'));
          hub.next('z', 1);
          hub.complete();
        });
        expectObservable(hub.observable).toBe(early);
        expectObservable(hub.observable, late).toBe(expected);
      });
    });
  });

  describe('subscribers are independent', () => {
    it('unsubscribing one subscriber does not affect the others or the feed', () => {
      testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        const hub = new ReplayHub<string>(roomy);
        const values = ' a-b-----c-d---------e-| ';
        const sub1 = '   ^--!                    ';
        const events1 = 'a-b                     ';
        const sub2 = '   ---^-------!            ';
        const events2 = '---(ab)-c-d             ';
        const events3 = 'a-b-----c-d---------e-| ';
        const sub4 = '   ------------^           ';
        const events4 = '------------(abcd)--e-| ';
        const subs = '   ^---------------------! ';
        const source = hot(values);
        feed(hub, source);
        expectObservable(hub.observable, sub1).toBe(events1);
        expectObservable(hub.observable, sub2).toBe(events2);
        expectObservable(hub.observable).toBe(events3);
        expectObservable(hub.observable, sub4).toBe(events4);
        expectSubscriptions(source.subscriptions).toBe(subs);
      });
    });

    it('lets a subscriber stop in the middle of the replay (take) without losing live values for others', () => {
      testScheduler.run(({ hot, expectObservable }) => {
        const hub = new ReplayHub<string>(roomy);
        const values = '  a-b-c-----d|';
        const late = '    -----^      ';
        const takeTwo = ' -----(ab|)  ';
        const expected = '-----(abc)d|';
        feed(hub, hot(values));
        expectObservable(hub.observable.pipe(take(2)), late).toBe(takeTwo);
        expectObservable(hub.observable, late).toBe(expected);
      });
    });

    it('keeps order when a subscriber pushes a value while the window replays to it', () => {
      const hub = new ReplayHub<string>(roomy);
      hub.next('a', 1);
      hub.next('b', 1);
      const seen: string[] = [];
      const others: string[] = [];
      hub.observable.subscribe((value) => {
        seen.push(value);
        if (value === 'a') hub.next('live', 1); // re-entrant: arrives while 'b' has not been replayed yet
      });
      hub.observable.subscribe((value) => others.push(value));
      expect(seen).toEqual(['a', 'b', 'live']);
      expect(others).toEqual(['a', 'b', 'live']);
    });

    it('errors every subscriber when the hub errors', () => {
      testScheduler.run(({ hot, expectObservable }) => {
        const hub = new ReplayHub<string>(roomy);
        const values = '  a---#';
        const early = '   a---#';
        const late = '    --^  ';
        const expected = '--a-#';
        feed(hub, hot(values));
        expectObservable(hub.observable).toBe(early);
        expectObservable(hub.observable, late).toBe(expected);
      });
    });
  });
});
