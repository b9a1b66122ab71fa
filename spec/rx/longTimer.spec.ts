import { afterEach, describe, expect, it, vi } from 'vitest';
import { isDuration, longTimer, MAX_TIMER_MS } from '../../src/rx/longTimer.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

describe('longTimer (issue 11 #6: no timer fires early past 2^31 ms)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is timer(ms) for a short duration', () => {
    createTestScheduler().run(({ expectObservable }) => {
      expectObservable(longTimer(5)).toBe('-----(0|)', { 0: 0 });
      expectObservable(longTimer(0)).toBe('(0|)', { 0: 0 });
    });
  });

  it('waits out a duration over 2^31 - 1 ms in full, in steps', () => {
    createTestScheduler().run(({ expectObservable }) => {
      const ms = MAX_TIMER_MS * 2 + 7;
      expectObservable(longTimer(ms)).toBe(`${ms}ms (0|)`, { 0: 0 });
    });
  });

  it('never fires for Infinity', () => {
    createTestScheduler().run(({ expectObservable }) => {
      expectObservable(longTimer(Infinity)).toBe('-');
    });
  });

  it('with real timers, 2^31 ms does not fire after 1 ms (as a bare setTimeout would)', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    const subscription = longTimer(2 ** 31).subscribe(fired);
    vi.advanceTimersByTime(10);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(2 ** 31);
    expect(fired).toHaveBeenCalledTimes(1);
    subscription.unsubscribe();
  });

  it('isDuration: non-negative numbers and Infinity', () => {
    expect([0, 1, 2 ** 40, Infinity].every(isDuration)).toBe(true);
    expect([-1, Number.NaN, -Infinity, '5', undefined].some(isDuration)).toBe(false);
  });
});
