/**
 * The manager's budget (`limits`): `usage$` through `budget()`, a `budget_exceeded` notice, every
 * session told through `exceedBudget`, `create()` refused. Marbles where time matters; the fakes of
 * the other manager specs.
 */
import { filter } from 'rxjs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { PiConfigError, PiLimitError } from '../../src/errors.js';
import type { ManagedSession } from '../../src/manager/ManagedSession.js';
import { isManagerNotice, MANAGER_NOTICE_TYPES } from '../../src/manager/notices.js';
import type { BudgetExceededNotice, ManagerNotice } from '../../src/manager/notices.js';
import { PiSessionManager } from '../../src/manager/PiSessionManager.js';
import type { LimitBreach } from '../../src/limits/RunLimits.js';
import { UsageTotals } from '../../src/usage/UsageTotals.js';
import { fakeSession, fakeState, LiveFakeSession, type FakeSession, type FakeSessionParts } from '../helpers/fakeSession.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

const costs = (costUsd: number) => fakeState({ usage: new UsageTotals({ inputTokens: 100 * costUsd, costUsd }) });
const added = (sessionId: string): ManagerNotice => ({ type: 'session_added', sessionId });
const over = (actual: number, max = 10): LimitBreach => ({
  limit: 'maxCostUsd',
  max,
  actual,
  message: `$${actual.toFixed(2)} spent, past the budget (maxCostUsd: ${max})`,
});

/** A fake session that records the breaches it is told about. */
function budgeted(sessionId: string, parts: FakeSessionParts = {}, exceed?: (breach: LimitBreach) => void): FakeSession & { readonly told: LimitBreach[] } {
  const told: LimitBreach[] = [];
  return Object.assign(fakeSession(sessionId, parts), {
    told,
    exceedBudget: (breach: LimitBreach) => {
      told.push(breach);
      exceed?.(breach);
    },
  });
}

describe('PiSessionManager limits (a budget over usage$)', () => {
  it('once usage$ goes past maxCostUsd: a budget_exceeded notice, every session told once, budgetExceeded set', () => {
    const scheduler = createTestScheduler();
    let a: ReturnType<typeof budgeted> | undefined;
    let b: ReturnType<typeof budgeted> | undefined;
    let manager: PiSessionManager | undefined;
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      // a spends $4 then $7; b $2 then $5: the total goes 6 → 9 → 12 (past 10 at 5 ms).
      const stateA = hot('a--b-----', { a: costs(4), b: costs(7) });
      const stateB = hot('c----d---', { c: costs(2), d: costs(5) });
      const m = new PiSessionManager({ idleTimeoutMs: null, limits: { maxCostUsd: 10 }, scheduler });
      manager = m;
      a = budgeted('a', { state$: stateA });
      b = budgeted('b', { state$: stateB });
      m.register(a);
      m.register(b);
      expectObservable(m.events$.pipe(filter(isManagerNotice))).toBe('-----x', { x: { type: 'budget_exceeded', breach: over(12) } });
      // The budget is over the manager's usage$, not the sessions' streams: they stay watched.
      expectSubscriptions(stateA.subscriptions).toBe('^');
    });
    expect(a?.told).toEqual([over(12)]);
    expect(b?.told).toEqual([over(12)]);
    expect(manager?.budgetExceeded).toEqual(over(12));
    expect(manager?.size).toBe(2);
  });

  it('tells a session registered after the breach at once, right after its session_added', () => {
    const scheduler = createTestScheduler();
    const late = budgeted('late');
    scheduler.run(({ hot, expectObservable }) => {
      const m = new PiSessionManager({ idleTimeoutMs: null, limits: { maxCostUsd: 10 }, scheduler });
      m.register(fakeSession('spender', { state$: hot('a-b', { a: costs(3), b: costs(11) }) }));
      expectObservable(m.events$.pipe(filter(isManagerNotice))).toBe('--x--l', { x: { type: 'budget_exceeded', breach: over(11) }, l: added('late') });
      scheduler.schedule(() => {
        m.register(late);
        expect(late.told).toEqual([over(11)]);
      }, 5);
    });
    expect(late.told).toEqual([over(11)]);
  });

  it('tells a session whose own usage spends the budget as it registers once', () => {
    const manager = new PiSessionManager({ idleTimeoutMs: null, limits: { maxCostUsd: 10 } });
    const rich = budgeted('rich', { state$: new LiveFakeSession('x', { state: costs(11) }).state$ });
    manager.register(rich);
    expect(rich.told).toEqual([over(11)]);
    expect(manager.budgetExceeded).toEqual(over(11));
  });

  it('counts removed sessions, and watches maxTokens too', async () => {
    const manager = new PiSessionManager({ idleTimeoutMs: null, limits: { maxTokens: 1000 } });
    const first = new LiveFakeSession('first', { state: fakeState({ inputTokens: 700 }) });
    manager.register(first);
    await manager.stop('first');
    expect(manager.budgetExceeded).toBeUndefined();
    const second = Object.assign(new LiveFakeSession('second'), { told: [] as LimitBreach[] });
    const exceedBudget = (breach: LimitBreach): void => void second.told.push(breach);
    manager.register(Object.assign(second, { exceedBudget }));
    second.setState({ inputTokens: 300 }); // 1000: reached, not past
    expect(manager.budgetExceeded).toBeUndefined();
    second.setState({ inputTokens: 301 });
    const breach: LimitBreach = { limit: 'maxTokens', max: 1000, actual: 1001, message: '1001 tokens used, past the budget (maxTokens: 1000)' };
    expect(manager.budgetExceeded).toEqual(breach);
    expect(second.told).toEqual([breach]);
    await manager.dispose();
  });

  it('create() rejects with PiLimitError once the budget is spent, without starting a process', async () => {
    let starts = 0;
    const manager = new PiSessionManager<ManagedSession, object>({
      factory: () => {
        starts++;
        return Promise.resolve(new LiveFakeSession(`s${starts}`, { state: costs(6) }));
      },
      idleTimeoutMs: null,
      limits: { maxCostUsd: 10 },
    });
    await manager.create({});
    await manager.create({}); // $12 spent: past the budget
    const refusal = manager.create({});
    await expect(refusal).rejects.toBeInstanceOf(PiLimitError);
    await expect(refusal).rejects.toMatchObject({ code: 'PI_LIMIT', breach: over(12) });
    expect(starts).toBe(2);
    await manager.dispose();
  });

  it('stops a session whose exceedBudget throws (it could not be held to the budget); the others are still told', async () => {
    const scheduler = createTestScheduler();
    const broken = budgeted('broken', {}, () => {
      throw new Error('cannot');
    });
    const fine = budgeted('fine');
    let manager: PiSessionManager | undefined;
    scheduler.run(({ hot, expectObservable }) => {
      const m = new PiSessionManager({ idleTimeoutMs: null, limits: { maxCostUsd: 1 }, scheduler });
      manager = m;
      m.register(broken);
      m.register(fine);
      m.register(fakeSession('spender', { state$: hot('-a', { a: costs(2) }) }));
      expectObservable(m.events$.pipe(filter(isManagerNotice))).toBe('-(xr)', {
        x: { type: 'budget_exceeded', breach: over(2, 1) },
        r: { type: 'session_removed', sessionId: 'broken', reason: 'stopped' },
      });
    });
    expect(broken.closeCalls).toBe(1);
    expect(fine.told).toEqual([over(2, 1)]);
    expect(manager?.ids()).toEqual(['fine', 'spender']);
    await manager?.dispose();
  });

  it('without limits, or with Infinity, the budget never breaks', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      for (const limits of [undefined, { maxCostUsd: Infinity, maxTokens: Infinity }]) {
        const m = new PiSessionManager({ idleTimeoutMs: null, scheduler, ...(limits ? { limits } : {}) });
        const s = budgeted('s', { state$: hot('a-b', { a: costs(1), b: costs(1e9) }) });
        m.register(s);
        expectObservable(m.events$.pipe(filter((event) => event.type === 'budget_exceeded'))).toBe('-');
      }
    });
  });

  it('rejects invalid limits, naming the field', () => {
    expect(() => new PiSessionManager({ limits: { maxCostUsd: -1 } })).toThrow(PiConfigError);
    expect(() => new PiSessionManager({ limits: { maxTokens: Number.NaN } })).toThrow(expect.objectContaining({ field: 'limits.maxTokens' }));
    expect(() => new PiSessionManager({ limits: { stallTimeoutMs: 5 } as never })).toThrow(expect.objectContaining({ field: 'limits.stallTimeoutMs' }));
  });

  it('budget_exceeded is a manager notice; reading sessionId on any notice still compiles', () => {
    const notice: BudgetExceededNotice = { type: 'budget_exceeded', breach: over(12) };
    expect(isManagerNotice(notice)).toBe(true);
    expect(MANAGER_NOTICE_TYPES).toContain('budget_exceeded');
    expectTypeOf<ManagerNotice['sessionId']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<PiSessionManager['budgetExceeded']>().toEqualTypeOf<LimitBreach | undefined>();
  });
});
