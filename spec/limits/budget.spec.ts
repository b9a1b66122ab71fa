import { describe, expect, it } from 'vitest';
import { PiConfigError } from '../../src/errors.js';
import { budget } from '../../src/limits/budget.js';
import type { LimitBreach } from '../../src/limits/RunLimits.js';
import { UsageTotals } from '../../src/usage/UsageTotals.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

/** Cumulative totals, as `manager.usage$` emits them. */
const U = {
  z: UsageTotals.ZERO,
  a: new UsageTotals({ inputTokens: 600, outputTokens: 200, costUsd: 4 }),
  b: new UsageTotals({ inputTokens: 900, outputTokens: 300, costUsd: 10 }),
  c: new UsageTotals({ inputTokens: 1200, outputTokens: 400, costUsd: 12.5 }),
};

describe('budget', () => {
  it('emits one breach when the totals go past maxCostUsd (reaching it is allowed), and completes', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const usage = hot('  z-a--b---c---c-', U);
      const expected = '   ---------(l|)';
      const subs = '       ^--------!';
      expectObservable(usage.pipe(budget({ maxCostUsd: 10 }))).toBe(expected, {
        l: { limit: 'maxCostUsd', max: 10, actual: 12.5, message: '$12.50 spent, past the budget (maxCostUsd: 10)' } satisfies LimitBreach,
      });
      expectSubscriptions(usage.subscriptions).toBe(subs);
    });
  });

  it('watches totalTokens for maxTokens, and names it first when both are past', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold('z-a-b-c', U).pipe(budget({ maxTokens: 1000 }))).toBe('----(l|)', {
        l: { limit: 'maxTokens', max: 1000, actual: 1200, message: '1200 tokens used, past the budget (maxTokens: 1000)' } satisfies LimitBreach,
      });
      expectObservable(cold('--c', U).pipe(budget({ maxTokens: 1000, maxCostUsd: 1 }))).toBe('--(l|)', {
        l: { limit: 'maxTokens', max: 1000, actual: 1600, message: '1600 tokens used, past the budget (maxTokens: 1000)' } satisfies LimitBreach,
      });
    });
  });

  it('a budget already spent breaches on the first value (a replayed total)', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold('c', U).pipe(budget({ maxCostUsd: 0 }))).toBe('(l|)', {
        l: { limit: 'maxCostUsd', max: 0, actual: 12.5, message: '$12.50 spent, past the budget (maxCostUsd: 0)' } satisfies LimitBreach,
      });
      // Nothing spent is within a budget of 0.
      expectObservable(cold('z|', U).pipe(budget({ maxCostUsd: 0 }))).toBe('-|');
    });
  });

  it('completes with no value when the totals complete first; passes errors on; Infinity and no limits never emit', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const done = cold('  z-a-|', U);
      expectObservable(done.pipe(budget({ maxCostUsd: 10 }))).toBe('----|');
      expectSubscriptions(done.subscriptions).toBe('^---!');
      expectObservable(cold('a-#', U, new Error('boom')).pipe(budget({ maxCostUsd: 10 }))).toBe('--#', undefined, new Error('boom'));
      const forever = hot('a-b-c-', U);
      expectObservable(forever.pipe(budget({ maxCostUsd: Infinity, maxTokens: Infinity }))).toBe('-');
      expectObservable(forever.pipe(budget({}))).toBe('-');
    });
  });

  it('unsubscribing lets go of the totals', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const usage = hot('  a---c', U);
      const unsub = '      ^-!';
      expectObservable(usage.pipe(budget({ maxCostUsd: 10 })), unsub).toBe('---');
      expectSubscriptions(usage.subscriptions).toBe(unsub);
    });
  });

  it('takes plain totals too (a sum of your own, JSON from the wire)', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const json = cold('a', { a: { totalTokens: 50, costUsd: 2 } });
      expectObservable(json.pipe(budget({ maxCostUsd: 1 }))).toBe('(l|)', {
        l: { limit: 'maxCostUsd', max: 1, actual: 2, message: '$2.00 spent, past the budget (maxCostUsd: 1)' } satisfies LimitBreach,
      });
    });
  });

  it('rejects invalid limits, and run limits that are not a budget’s, naming the field', () => {
    expect(() => budget({ maxCostUsd: -1 })).toThrow(expect.objectContaining({ field: 'limits.maxCostUsd' }));
    expect(() => budget({ maxTokens: Number.NaN })).toThrow(PiConfigError);
    expect(() => budget({ maxTurns: 3 } as never)).toThrow(
      expect.objectContaining({ field: 'limits.maxTurns', message: 'Invalid limits.maxTurns: is not a limit (unknown field)' }),
    );
  });
});
