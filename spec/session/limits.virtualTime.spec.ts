/**
 * Run limits of a whole session in TestScheduler virtual time: a pi 0.73 on a FakeTransport that
 * runs on the TestScheduler, so every turn, every stall timer and every abort happens at its
 * virtual frame. A limit aborts pi's run, which then ends with `reason: 'limit'` and `limit`
 * naming it; the session goes on. `exceedBudget` (what a manager's budget calls) ends the run the
 * same way and refuses every later prompt with `PiLimitError`.
 *
 * Marbles: `a` an `abort` command reaching pi; run ends are the `agent_end` events' reason, limit
 * and message.
 */
import { filter, map, mergeMap, take, timer, type Observable, type Subscription } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { PiConfig } from '../../src/config/PiConfig.js';
import { PiConfigError, PiLimitError } from '../../src/errors.js';
import type { LimitBreach, RunLimits } from '../../src/limits/RunLimits.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiSession } from '../../src/session/PiSession.js';
import type { RunResult } from '../../src/session/types.js';
import { FakeTransport, type SentCommand } from '../../src/testing/FakeTransport.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

const config = PiConfig.parse({ requestTimeoutMs: 1_000, startTimeoutMs: 1_000 });

const assistant = (text: string, stopReason = 'stop', costUsd = 0) => ({
  role: 'assistant',
  content: text ? [{ type: 'text', text }] : [],
  stopReason,
  usage: { input: 100, output: 20, cacheRead: 0, cacheWrite: 0, totalTokens: 120, cost: { total: costUsd } },
});

/**
 * A pi 0.73 on the TestScheduler. After a prompt's `agent_start`: `loop` takes a turn every 2
 * frames (the first 1 frame after the prompt) until aborted, each message costing $0 (`costly`:
 * $0.02); `silent` sends one delta 2 frames later, then nothing; `tool-hang` starts a tool 2 frames
 * later that never ends; anything else ends at once with "ok". `abort` ends the run as aborted;
 * get_state: idle.
 */
function pi073(scheduler: TestScheduler) {
  let turns: Subscription | undefined;
  return (command: SentCommand, pi: FakeTransport): void => {
    switch (command.type) {
      case 'prompt': {
        pi.reply(command);
        pi.emitFrame({ type: 'agent_start' });
        const message = command['message'];
        if (message === 'loop' || message === 'costly') {
          const cost = message === 'costly' ? 0.02 : 0;
          // Bounded, so a limit that never fires fails the marbles instead of spinning forever.
          turns = timer(1, 2, scheduler)
            .pipe(take(40))
            .subscribe(() => {
              pi.emitFrame({ type: 'turn_start' });
              pi.emitFrame({ type: 'message_end', message: assistant('working', 'toolUse', cost) });
              pi.emitFrame({ type: 'turn_end' });
            });
        } else if (message === 'silent') {
          scheduler.schedule(() => pi.emitFrame({ type: 'message_update', assistantMessageEvent: { type: 'text_delta', contentIndex: 0, delta: 'hm' } }), 2);
        } else if (message === 'tool-hang') {
          scheduler.schedule(() => pi.emitFrame({ type: 'tool_execution_start', toolCallId: 't1', toolName: 'bash', args: { command: 'sleep 1d' } }), 2);
        } else {
          pi.emitFrame({ type: 'message_end', message: assistant('ok') });
          pi.emitFrame({ type: 'agent_end', messages: [] });
        }
        return;
      }
      case 'abort':
        turns?.unsubscribe();
        turns = undefined;
        pi.reply(command);
        pi.emitFrame({ type: 'message_end', message: assistant('', 'aborted') });
        pi.emitFrame({ type: 'agent_end', messages: [] });
        return;
      default:
        FakeTransport.defaultResponder(command, pi);
    }
  };
}

/** A started session (at frame 0) on a fake pi 0.73 in virtual time, closed at `closeAt`. */
function virtualSession(scheduler: TestScheduler, cold: (marbles: string) => Observable<string>, options: { limits?: RunLimits; closeAt: number }) {
  const transport = new FakeTransport({ scheduler, respond: pi073(scheduler) });
  const session = new PiSession({
    sessionId: 's1',
    transport,
    config,
    cwd: '/work',
    scheduler,
    nonce: 'test-nonce',
    ...(options.limits ? { limits: options.limits } : {}),
  });
  cold('a').subscribe(() => void session.start());
  cold(`${options.closeAt}ms a`).subscribe(() => void session.close());
  const aborts$ = transport.sent$.pipe(
    filter((command) => command.type === 'abort'),
    map(() => 'a'),
  );
  const runEnds$ = session.events$.pipe(
    filter((event): event is Extract<PiEvent, { type: 'agent_end' }> => event.type === 'agent_end'),
    map(({ reason, limit, errorMessage }) => ({ reason, ...(limit ? { limit } : {}), ...(errorMessage ? { errorMessage } : {}) })),
  );
  return { transport, session, aborts$, runEnds$ };
}

/** `prompt()` at `frame`: its promise, already observed (its outcome is asserted after the virtual run). */
function promptAt(cold: (marbles: string) => Observable<string>, frame: number, send: () => Promise<RunResult>): { result: Promise<RunResult> } {
  const holder = {} as { result: Promise<RunResult> };
  cold(`${frame}ms a`).subscribe(() => {
    holder.result = send();
    holder.result.catch(() => undefined);
  });
  return holder;
}

const types = (sent: readonly SentCommand[]) => sent.map((command) => command.type);

describe('run limits in virtual time', () => {
  it('maxTurns: 2 aborts the run when turn 3 starts; it ends as limit, and the next prompt runs', async () => {
    const scheduler = createTestScheduler();
    let first!: { result: Promise<RunResult> };
    let second!: { result: Promise<RunResult> };
    let session!: PiSession;
    scheduler.run(({ cold, expectObservable }) => {
      const fakes = virtualSession(scheduler, cold, { limits: { maxTurns: 2 }, closeAt: 30 });
      session = fakes.session;
      const turns$ = session.events$.pipe(
        filter((event) => event.type === 'turn_start'),
        map(() => 't'),
      );
      first = promptAt(cold, 5, () => session.prompt('loop'));
      second = promptAt(cold, 20, () => session.prompt('quick'));
      // Turns at 6, 8 and 10: the third is one too many, so pidriver aborts at 10 and the run ends there.
      expectObservable(turns$).toBe('6ms t-t-t 19ms |');
      expectObservable(fakes.aborts$).toBe('10ms a');
      expectObservable(fakes.runEnds$).toBe('10ms a 9ms b 9ms |', {
        a: { reason: 'limit', limit: 'maxTurns', errorMessage: 'the run used 3 turns (maxTurns: 2)' },
        b: { reason: 'completed' },
      });
    });
    await expect(first.result).resolves.toMatchObject({ reason: 'limit', limit: 'maxTurns', errorMessage: 'the run used 3 turns (maxTurns: 2)' });
    await expect(second.result).resolves.toMatchObject({ reason: 'completed', finalText: 'ok' });
    expect(await second.result).not.toHaveProperty('limit');
    expect(session.state).toMatchObject({ status: 'closed', runs: 2 });
  });

  it('stallTimeoutMs: a pi that goes silent is aborted exactly that long after its last event', async () => {
    const scheduler = createTestScheduler();
    let run!: { result: Promise<RunResult> };
    scheduler.run(({ cold, expectObservable }) => {
      const { session, aborts$, runEnds$ } = virtualSession(scheduler, cold, { limits: { stallTimeoutMs: 30 }, closeAt: 60 });
      run = promptAt(cold, 5, () => session.prompt('silent'));
      // agent_start at 5, the last event (a delta) at 7: the stall is noticed at 37, not a frame earlier or later.
      expectObservable(aborts$).toBe('37ms a');
      expectObservable(runEnds$).toBe('37ms a 22ms |', {
        a: { reason: 'limit', limit: 'stallTimeoutMs', errorMessage: 'the run sent no event for 30 ms (stallTimeoutMs: 30)' },
      });
    });
    await expect(run.result).resolves.toMatchObject({ reason: 'limit', limit: 'stallTimeoutMs' });
  });

  it('a tool that runs long is held to toolStallTimeoutMs (10 × stallTimeoutMs by default), not stallTimeoutMs', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const { session, aborts$, runEnds$ } = virtualSession(scheduler, cold, { limits: { stallTimeoutMs: 30 }, closeAt: 400 });
      promptAt(cold, 5, () => session.prompt('tool-hang'));
      // The tool starts at 7; 300 frames of quiet later the run is aborted, naming the tool.
      expectObservable(aborts$).toBe('307ms a');
      expectObservable(runEnds$).toBe('307ms a 92ms |', {
        a: { reason: 'limit', limit: 'toolStallTimeoutMs', errorMessage: 'the run sent no event for 300 ms while bash ran (toolStallTimeoutMs: 300)' },
      });
    });
  });

  it('a prompt’s limits win over the session’s, field by field', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const { session, aborts$, runEnds$ } = virtualSession(scheduler, cold, { limits: { maxTurns: 2 }, closeAt: 50 });
      // 5: its own maxTurns: 4 (turns at 6…14, the fifth is too many). 20: the session's maxTurns: 2
      // (turns at 21, 23, 25). 30: its own stall allowance of 4 (a delta at 32, silence after),
      // under the session's maxTurns, which a silent run never reaches.
      promptAt(cold, 5, () => session.prompt('loop', { limits: { maxTurns: 4 } }));
      promptAt(cold, 20, () => session.prompt('loop'));
      promptAt(cold, 30, () => session.prompt('silent', { limits: { stallTimeoutMs: 4 } }));
      expectObservable(aborts$).toBe('14ms a 10ms a 10ms a');
      expectObservable(runEnds$).toBe('14ms a 10ms b 10ms c 13ms |', {
        a: { reason: 'limit', limit: 'maxTurns', errorMessage: 'the run used 5 turns (maxTurns: 4)' },
        b: { reason: 'limit', limit: 'maxTurns', errorMessage: 'the run used 3 turns (maxTurns: 2)' },
        c: { reason: 'limit', limit: 'stallTimeoutMs', errorMessage: 'the run sent no event for 4 ms (stallTimeoutMs: 4)' },
      });
    });
  });

  it('maxCostUsd counts the cost of each message (usage.cost.total) and stops the run that goes past it', async () => {
    const scheduler = createTestScheduler();
    let run!: { result: Promise<RunResult> };
    scheduler.run(({ cold, expectObservable }) => {
      const { session, aborts$, runEnds$ } = virtualSession(scheduler, cold, { limits: { maxCostUsd: 0.05 }, closeAt: 30 });
      run = promptAt(cold, 5, () => session.prompt('costly'));
      // $0.02 a turn, at 6, 8 and 10: $0.06 at 10 is past $0.05.
      expectObservable(aborts$).toBe('10ms a');
      expectObservable(runEnds$).toBe('10ms a 19ms |', {
        a: { reason: 'limit', limit: 'maxCostUsd', errorMessage: 'the run cost $0.06 (maxCostUsd: 0.05)' },
      });
    });
    const result = await run.result;
    expect(result).toMatchObject({ reason: 'limit', limit: 'maxCostUsd' });
    expect(result.usage.costUsd).toBeCloseTo(0.06, 10);
  });

  it('exceedBudget mid-run ends the run as limit; a queued prompt and every later one reject with PiLimitError', async () => {
    const scheduler = createTestScheduler();
    const breach: LimitBreach = { limit: 'maxCostUsd', max: 1, actual: 1.25, message: '$1.25 spent, past the budget (maxCostUsd: 1)' };
    let running!: { result: Promise<RunResult> };
    let queued!: { result: Promise<RunResult> };
    let later!: { result: Promise<RunResult> };
    let transport!: FakeTransport;
    scheduler.run(({ cold, expectObservable }) => {
      const fakes = virtualSession(scheduler, cold, { closeAt: 30 });
      transport = fakes.transport;
      running = promptAt(cold, 5, () => fakes.session.prompt('loop'));
      queued = promptAt(cold, 8, () => fakes.session.prompt('quick'));
      cold('12ms a').subscribe(() => fakes.session.exceedBudget(breach));
      later = promptAt(cold, 20, () => fakes.session.prompt('quick'));
      expectObservable(fakes.aborts$).toBe('12ms a');
      expectObservable(fakes.runEnds$).toBe('12ms a 17ms |', { a: { reason: 'limit', limit: 'maxCostUsd', errorMessage: breach.message } });
    });
    await expect(running.result).resolves.toMatchObject({ reason: 'limit', limit: 'maxCostUsd', errorMessage: breach.message });
    for (const refused of [queued.result, later.result]) {
      await expect(refused).rejects.toBeInstanceOf(PiLimitError);
      await expect(refused).rejects.toMatchObject({ code: 'PI_LIMIT', breach });
    }
    // Only the first prompt ever reached pi.
    expect(types(transport.sent).filter((type) => type === 'prompt')).toHaveLength(1);
  });

  it('invalid limits reject the prompt with a PiConfigError naming the field; nothing is sent', async () => {
    const scheduler = createTestScheduler();
    const bad: [RunLimits, string][] = [
      [{ maxTurns: 2.5 }, 'limits.maxTurns'],
      [{ maxTurns: -1 }, 'limits.maxTurns'],
      [{ stallTimeoutMs: 0 }, 'limits.stallTimeoutMs'],
      [{ maxCostUsd: Number.NaN }, 'limits.maxCostUsd'],
      [{ maxTurn: 2 } as RunLimits, 'limits.maxTurn'],
    ];
    const results: Promise<RunResult>[] = [];
    const streamErrors: unknown[] = [];
    let transport!: FakeTransport;
    scheduler.run(({ cold }) => {
      const fakes = virtualSession(scheduler, cold, { closeAt: 10 });
      transport = fakes.transport;
      cold('5ms a').subscribe(() => {
        for (const [limits] of bad) {
          const result = fakes.session.prompt('quick', { limits });
          result.catch(() => undefined);
          results.push(result);
        }
      });
      cold('5ms a')
        .pipe(mergeMap(() => fakes.session.prompt$('quick', { limits: { maxTurns: 2.5 } })))
        .subscribe({ error: (error: unknown) => streamErrors.push(error) });
    });
    for (const [index, [, field]] of bad.entries()) {
      const error = await results[index]!.then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(PiConfigError);
      expect(error).toMatchObject({ field });
    }
    expect(streamErrors).toEqual([expect.any(PiConfigError)]);
    expect((streamErrors[0] as PiConfigError).field).toBe('limits.maxTurns');
    expect(types(transport.sent)).not.toContain('prompt');
  });
});
