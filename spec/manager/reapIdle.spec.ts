import { describe, it } from 'vitest';
import { reapIdle } from '../../src/manager/reapIdle.js';
import type { IdleExpiry } from '../../src/manager/reapIdle.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

const expiry = (idleSince: number, idleMs: number): IdleExpiry => ({ idleSince, idleMs });

describe('reapIdle', () => {
  it('emits once, exactly idleMs after subscription, when there is no activity', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const activity = hot('-------');
      const expected = '    -----(x|)';
      const subs = '        ^----!';
      expectObservable(activity.pipe(reapIdle({ idleMs: 5, scheduler }))).toBe(expected, { x: expiry(0, 5) });
      expectSubscriptions(activity.subscriptions).toBe(subs);
    });
  });

  it('restarts the window on every activity value', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const activity = hot('--a--b------------');
      const expected = '    ----------(x|)';
      const subs = '        ^---------!';
      expectObservable(activity.pipe(reapIdle({ idleMs: 5, scheduler }))).toBe(expected, { x: expiry(5, 5) });
      expectSubscriptions(activity.subscriptions).toBe(subs);
    });
  });

  it('runs a 30-minute window in virtual time', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const activity = hot('10m a');
      const idleMs = 30 * 60_000;
      expectObservable(activity.pipe(reapIdle({ idleMs, scheduler }))).toBe('40m (x|)', { x: expiry(600_000, idleMs) });
      expectSubscriptions(activity.subscriptions).toBe('^ 2399999ms !');
    });
  });

  it('runs no window while busy, and a fresh one when busy ends', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const activity = hot('-------------------');
      const busy = hot('    --t-----f----------', { t: true, f: false });
      const expected = '    -------------(x|)';
      const subs = '        ^------------!';
      expectObservable(activity.pipe(reapIdle({ idleMs: 5, busy$: busy, scheduler }))).toBe(expected, { x: expiry(8, 5) });
      expectSubscriptions(activity.subscriptions).toBe(subs);
      expectSubscriptions(busy.subscriptions).toBe(subs);
    });
  });

  it('never emits while busy does not end, even with activity', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const activity = hot('----a-----a------');
      const busy = hot('    t----------------', { t: true });
      const unsub = '       ^---------------!';
      expectObservable(activity.pipe(reapIdle({ idleMs: 3, busy$: busy, scheduler })), unsub).toBe('-');
      expectSubscriptions(activity.subscriptions).toBe(unsub);
      expectSubscriptions(busy.subscriptions).toBe(unsub);
    });
  });

  it('ignores repeated busy values (a repeated `false` is not activity)', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const activity = hot('---------');
      const busy = hot('    f-f-f-f--', { f: false });
      expectObservable(activity.pipe(reapIdle({ idleMs: 5, busy$: busy, scheduler }))).toBe('-----(x|)', {
        x: expiry(0, 5),
      });
    });
  });

  describe('with intervalMs (tick granularity)', () => {
    it('emits at the first tick after the deadline', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        // ticks at 4, 8, 12, …; deadline 0 + 5 = 5 → tick 8
        const activity = hot('-----------');
        expectObservable(activity.pipe(reapIdle({ idleMs: 5, intervalMs: 4, scheduler }))).toBe('--------(x|)', {
          x: expiry(0, 8),
        });
      });
    });

    it('emits at a tick that falls exactly on the deadline', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        // activity at 3 → deadline 8 = a tick
        const activity = hot('---a--------');
        expectObservable(activity.pipe(reapIdle({ idleMs: 5, intervalMs: 4, scheduler }))).toBe('--------(x|)', {
          x: expiry(3, 5),
        });
      });
    });

    it('moves to the next tick when activity pushes the deadline one ms past a tick', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        // activity at 4 → deadline 9 → tick 12
        const activity = hot('----a---------');
        expectObservable(activity.pipe(reapIdle({ idleMs: 5, intervalMs: 4, scheduler }))).toBe('------------(x|)', {
          x: expiry(4, 8),
        });
      });
    });

    it('aligns the ticks to `origin` (default: subscription time)', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        const activity = hot('---------------');
        // subscribed at 2: ticks at 6, 10, …; deadline 7 → 10
        expectObservable(activity.pipe(reapIdle({ idleMs: 5, intervalMs: 4, scheduler })), '--^').toBe('----------(x|)', {
          x: expiry(2, 8),
        });
        // origin 0 given: ticks at 4, 8, …; deadline 7 → 8
        expectObservable(activity.pipe(reapIdle({ idleMs: 5, intervalMs: 4, origin: 0, scheduler })), '--^').toBe('--------(y|)', { y: expiry(2, 6) });
      });
    });

    it('checks at a minute granularity over a 30-minute window', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        // activity at 10 s → deadline 30 m 10 s → first minute tick at or after it: 31 m
        const activity = hot('10s a');
        expectObservable(activity.pipe(reapIdle({ idleMs: 30 * 60_000, intervalMs: 60_000, scheduler }))).toBe('31m (x|)', {
          x: expiry(10_000, 31 * 60_000 - 10_000),
        });
      });
    });
  });

  it('keeps the pending window when the source completes', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const activity = hot('--a|');
      expectObservable(activity.pipe(reapIdle({ idleMs: 5, scheduler }))).toBe('-------(x|)', { x: expiry(2, 5) });
      expectSubscriptions(activity.subscriptions).toBe('^--!');
    });
  });

  it('passes a source error on and cancels the window', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const activity = hot('--a-#', undefined, new Error('dead'));
      expectObservable(activity.pipe(reapIdle({ idleMs: 5, scheduler }))).toBe('----#', undefined, new Error('dead'));
      expectSubscriptions(activity.subscriptions).toBe('^---!');
    });
  });

  it('cancels everything on early unsubscribe', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const activity = hot('-a---------');
      const busy = hot('    ---t-f-----', { t: true, f: false });
      const unsub = '       ^------!';
      expectObservable(activity.pipe(reapIdle({ idleMs: 5, busy$: busy, scheduler })), unsub).toBe('-');
      expectSubscriptions(activity.subscriptions).toBe(unsub);
      expectSubscriptions(busy.subscriptions).toBe(unsub);
    });
  });

  it('is cold: each subscription has its own window', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const activity = hot('-----------');
      const reaper$ = activity.pipe(reapIdle({ idleMs: 3, scheduler }));
      expectObservable(reaper$).toBe('---(x|)', { x: expiry(0, 3) });
      expectObservable(reaper$, '----^').toBe('-------(y|)', { y: expiry(4, 3) });
    });
  });

  it('emits at once for idleMs 0', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      expectObservable(hot('---').pipe(reapIdle({ idleMs: 0, scheduler }))).toBe('(x|)', { x: expiry(0, 0) });
    });
  });
});
