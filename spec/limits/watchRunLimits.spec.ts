import { describe, expect, it } from 'vitest';
import { PiConfigError } from '../../src/errors.js';
import { watchRunLimits } from '../../src/limits/watchRunLimits.js';
import type { LimitBreach } from '../../src/limits/RunLimits.js';
import type { EventFields, PiEvent } from '../../src/protocol/events.js';
import { MAX_TIMER_MS } from '../../src/rx/longTimer.js';
import { UsageTotals } from '../../src/usage/UsageTotals.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

const event = (fields: EventFields): PiEvent => ({ sessionId: 's1', seq: 1, raw: undefined, ...fields });

/** The events the marbles use. */
const E = {
  a: event({ type: 'agent_start', cwd: '/work' }),
  t: event({ type: 'turn_start' }),
  e: event({ type: 'turn_end' }),
  d: event({ type: 'message_delta', text: 'hi', channel: 'assistant', contentIndex: 0 }),
  u: event({ type: 'usage', totals: new UsageTotals({ inputTokens: 400, outputTokens: 100, costUsd: 0.02 }) }),
  b: event({ type: 'tool_start', toolCallId: 'c1', name: 'bash', arguments: { command: 'make' } }),
  B: event({ type: 'tool_end', toolCallId: 'c1', name: 'bash', result: 'ok', isError: false }),
  r: event({ type: 'tool_start', toolCallId: 'c2', name: 'read', arguments: { path: 'a.ts' } }),
  R: event({ type: 'tool_end', toolCallId: 'c2', name: 'read', result: 'ok', isError: false }),
  p: event({ type: 'tool_update', toolCallId: 'c1', name: 'bash', output: '…' }),
  c: event({ type: 'compaction', phase: 'start' }),
  C: event({ type: 'compaction', phase: 'end' }),
  x: event({ type: 'retry', phase: 'start', attempt: 1, delayMs: 8 }),
  h: event({
    type: 'interaction_request',
    requestId: 'q1',
    kind: 'permission',
    method: 'confirm',
    prompt: { title: 'Allow bash?', message: 'make' },
    options: [],
    handledBy: 'host',
  }),
  P: event({
    type: 'interaction_request',
    requestId: 'q2',
    kind: 'permission',
    method: 'confirm',
    prompt: { title: 'Allow bash?', message: 'make' },
    options: [],
    handledBy: 'policy',
  }),
} satisfies Record<string, PiEvent>;

const breach = (limit: LimitBreach['limit'], max: number, actual: number, message: string): LimitBreach => ({ limit, max, actual, message });

describe('watchRunLimits', () => {
  describe('maxTurns', () => {
    it('breaches when turn maxTurns + 1 starts, and lets go of the run', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        const run = hot('  -a-t-e-t-e-t-e-', E);
        const expected = ' -----------(l|)';
        const subs = '     ^----------!';
        expectObservable(run.pipe(watchRunLimits({ maxTurns: 2 }, scheduler))).toBe(expected, {
          l: breach('maxTurns', 2, 3, 'the run used 3 turns (maxTurns: 2)'),
        });
        expectSubscriptions(run.subscriptions).toBe(subs);
      });
    });

    it('maxTurns: 0 stops the run at its first turn', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        const run = hot('-a-t-', E);
        expectObservable(run.pipe(watchRunLimits({ maxTurns: 0 }, scheduler))).toBe('---(l|)', {
          l: breach('maxTurns', 0, 1, 'the run used 1 turn (maxTurns: 0)'),
        });
      });
    });
  });

  describe('maxTokens and maxCostUsd: sums of the usage events (one per assistant message)', () => {
    it('breaches when the sum of totalTokens goes past maxTokens (reaching it is allowed)', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        // 500 tokens per usage event: 1000 reaches the limit, 1500 goes past it.
        const run = hot('  -t-u-t-u-t-u-', E);
        const expected = ' -----------(l|)';
        const subs = '     ^----------!';
        expectObservable(run.pipe(watchRunLimits({ maxTokens: 1000 }, scheduler))).toBe(expected, {
          l: breach('maxTokens', 1000, 1500, 'the run used 1500 tokens (maxTokens: 1000)'),
        });
        expectSubscriptions(run.subscriptions).toBe(subs);
      });
    });

    it('breaches when the sum of costUsd goes past maxCostUsd', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        const run = hot('-u-u-u-', E);
        expectObservable(run.pipe(watchRunLimits({ maxCostUsd: 0.05 }, scheduler))).toBe('-----(l|)', {
          l: breach('maxCostUsd', 0.05, 0.06, 'the run cost $0.06 (maxCostUsd: 0.05)'),
        });
      });
    });

    it('names maxTokens first when one usage event goes past both', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        const run = hot('-u-', E);
        expectObservable(run.pipe(watchRunLimits({ maxCostUsd: 0.01, maxTokens: 10 }, scheduler))).toBe('-(l|)', {
          l: breach('maxTokens', 10, 500, 'the run used 500 tokens (maxTokens: 10)'),
        });
      });
    });
  });

  describe('stallTimeoutMs', () => {
    it('breaches after stallTimeoutMs without an event, counted from the subscription', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        const run = hot('  ---------', E);
        const expected = ' 5ms (l|)';
        const subs = '     ^ 4ms !';
        expectObservable(run.pipe(watchRunLimits({ stallTimeoutMs: 5 }, scheduler))).toBe(expected, {
          l: breach('stallTimeoutMs', 5, 5, 'the run sent no event for 5 ms (stallTimeoutMs: 5)'),
        });
        expectSubscriptions(run.subscriptions).toBe(subs);
      });
    });

    it('restarts the wait on every event', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        const run = hot('  -a--d---d----t-----', E);
        const expected = ' -------------------(l|)';
        const subs = '     ^------------------!';
        expectObservable(run.pipe(watchRunLimits({ stallTimeoutMs: 6 }, scheduler))).toBe(expected, {
          l: breach('stallTimeoutMs', 6, 6, 'the run sent no event for 6 ms (stallTimeoutMs: 6)'),
        });
        expectSubscriptions(run.subscriptions).toBe(subs);
      });
    });

    it('runs a 10-minute stall in virtual time with the default scheduler', () => {
      createTestScheduler().run(({ hot, expectObservable }) => {
        const run = hot('1m a', E);
        expectObservable(run.pipe(watchRunLimits({ stallTimeoutMs: 600_000 }))).toBe('11m (l|)', {
          l: breach('stallTimeoutMs', 600_000, 600_000, 'the run sent no event for 600000 ms (stallTimeoutMs: 600000)'),
        });
      });
    });

    it('waits a stall longer than 2^31 - 1 ms in full', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        const ms = MAX_TIMER_MS + 10;
        expectObservable(hot('-', E).pipe(watchRunLimits({ stallTimeoutMs: ms }, scheduler))).toBe(`${ms}ms (l|)`, {
          l: breach('stallTimeoutMs', ms, ms, `the run sent no event for ${ms} ms (stallTimeoutMs: ${ms})`),
        });
      });
    });
  });

  describe('the tool allowance (toolStallTimeoutMs)', () => {
    it('is 10 × stallTimeoutMs by default while a tool runs, and names the tool', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        // The tool starts at 1 ms: 3 ms would be a stall, 30 ms is the tool's allowance.
        const run = hot('  -b----------', E);
        const expected = ' - 30ms (l|)';
        const subs = '     ^ 30ms !';
        expectObservable(run.pipe(watchRunLimits({ stallTimeoutMs: 3 }, scheduler))).toBe(expected, {
          l: breach('toolStallTimeoutMs', 30, 30, 'the run sent no event for 30 ms while bash ran (toolStallTimeoutMs: 30)'),
        });
        expectSubscriptions(run.subscriptions).toBe(subs);
      });
    });

    it('tool_update events restart it; the stall allowance is back after tool_end', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        // Gaps of 3, 3 and 5 ms while bash runs (allowance 6); then 2 ms after its end.
        const run = hot('-b--p--p----B--', E);
        expectObservable(run.pipe(watchRunLimits({ stallTimeoutMs: 2, toolStallTimeoutMs: 6 }, scheduler))).toBe('--------------(l|)', {
          l: breach('stallTimeoutMs', 2, 2, 'the run sent no event for 2 ms (stallTimeoutMs: 2)'),
        });
      });
    });

    it('holds while any of several parallel tools runs: until the last tool_end', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        // bash and read start; read ends at 3 ms, bash still runs: the tool allowance (10) holds.
        const run = hot('-br-R---------------', E);
        expectObservable(run.pipe(watchRunLimits({ stallTimeoutMs: 2, toolStallTimeoutMs: 10 }, scheduler))).toBe('---- 10ms (l|)', {
          l: breach('toolStallTimeoutMs', 10, 10, 'the run sent no event for 10 ms while bash ran (toolStallTimeoutMs: 10)'),
        });
      });
    });

    it('names every tool that runs', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        const run = hot('-br-', E);
        expectObservable(run.pipe(watchRunLimits({ toolStallTimeoutMs: 4 }, scheduler))).toBe('-- 4ms (l|)', {
          l: breach('toolStallTimeoutMs', 4, 4, 'the run sent no event for 4 ms while bash, read ran (toolStallTimeoutMs: 4)'),
        });
      });
    });

    it('set alone, limits tools only: no stall limit outside them', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        const run = hot('-b-B-', E);
        expectObservable(run.pipe(watchRunLimits({ toolStallTimeoutMs: 4 }, scheduler))).toBe('-');
      });
    });

    it('applies while pi compacts the context', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        const run = hot('-c---C---', E);
        expectObservable(run.pipe(watchRunLimits({ stallTimeoutMs: 3, toolStallTimeoutMs: 6 }, scheduler))).toBe('--------(l|)', {
          l: breach('stallTimeoutMs', 3, 3, 'the run sent no event for 3 ms (stallTimeoutMs: 3)'),
        });
      });
      createTestScheduler().run(({ hot, expectObservable }) => {
        const run = hot('-c-------', E);
        expectObservable(run.pipe(watchRunLimits({ stallTimeoutMs: 3, toolStallTimeoutMs: 6 }))).toBe('-------(l|)', {
          l: breach('toolStallTimeoutMs', 6, 6, 'the run sent no event for 6 ms while pi compacted the context (toolStallTimeoutMs: 6)'),
        });
      });
    });
  });

  describe('what is not a stall', () => {
    it('a retry start adds its delayMs to the allowance', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        // delayMs 8 + stallTimeoutMs 3
        const run = hot('-x----------------', E);
        expectObservable(run.pipe(watchRunLimits({ stallTimeoutMs: 3 }, scheduler))).toBe('- 11ms (l|)', {
          l: breach('stallTimeoutMs', 3, 11, 'the run sent no event for 11 ms after a retry delay of 8 ms (stallTimeoutMs: 3)'),
        });
      });
    });

    it('no timer runs while a request waits for the host; the next event starts one', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        const run = hot('-h 20ms d-----', E);
        expectObservable(run.pipe(watchRunLimits({ stallTimeoutMs: 3 }, scheduler))).toBe('- 20ms ----(l|)', {
          l: breach('stallTimeoutMs', 3, 3, 'the run sent no event for 3 ms (stallTimeoutMs: 3)'),
        });
      });
    });

    it('a request the policy answered is an event like any other', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        const run = hot('-P-----', E);
        expectObservable(run.pipe(watchRunLimits({ stallTimeoutMs: 3 }, scheduler))).toBe('----(l|)', {
          l: breach('stallTimeoutMs', 3, 3, 'the run sent no event for 3 ms (stallTimeoutMs: 3)'),
        });
      });
    });
  });

  describe('the run ends first', () => {
    it('completes without a value when the run’s events complete, and cancels the stall timer', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const run = cold(' -a-t-u-b-|', E);
        const expected = ' ---------|';
        const subs = '     ^--------!';
        expectObservable(run.pipe(watchRunLimits({ maxTurns: 5, maxTokens: 10_000, maxCostUsd: 1, stallTimeoutMs: 3 }, scheduler))).toBe(expected);
        expectSubscriptions(run.subscriptions).toBe(subs);
      });
    });

    it('an empty run completes at once', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(cold<PiEvent>('|').pipe(watchRunLimits({ stallTimeoutMs: 1 }, scheduler))).toBe('|');
      });
    });

    it('passes the source’s error on', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(cold('-t-#', E, new Error('died')).pipe(watchRunLimits({ stallTimeoutMs: 5 }, scheduler))).toBe('---#', undefined, new Error('died'));
      });
    });

    it('unsubscribing cancels the watch', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        const run = hot('  -t-----', E);
        const unsub = '    ^--!';
        expectObservable(run.pipe(watchRunLimits({ stallTimeoutMs: 3 }, scheduler)), unsub).toBe('---');
        expectSubscriptions(run.subscriptions).toBe(unsub);
      });
    });
  });

  it('Infinity is no limit; no limits never emit', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const run = hot('-t-u-b-t-u-B-t-u 1000m d', E);
      const infinite = { maxTurns: Infinity, maxTokens: Infinity, maxCostUsd: Infinity, stallTimeoutMs: Infinity, toolStallTimeoutMs: Infinity };
      expectObservable(run.pipe(watchRunLimits(infinite, scheduler))).toBe('-');
      expectObservable(run.pipe(watchRunLimits({}, scheduler))).toBe('-');
      expectSubscriptions(run.subscriptions).toBe(['^', '^']);
    });
  });

  it('rejects invalid limits when the operator is made', () => {
    expect(() => watchRunLimits({ maxTurns: 1.5 })).toThrow(PiConfigError);
    expect(() => watchRunLimits({ stallTimeoutMs: -1 })).toThrow(expect.objectContaining({ field: 'limits.stallTimeoutMs' }));
  });
});
