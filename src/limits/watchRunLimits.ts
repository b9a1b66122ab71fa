import { asyncScheduler, connect, EMPTY, endWith, filter, ignoreElements, map, merge, scan, startWith, switchMap, take, takeUntil } from 'rxjs';
import type { Observable, OperatorFunction, SchedulerLike } from 'rxjs';
import type { PiEvent } from '../protocol/events.js';
import { longTimer } from '../rx/longTimer.js';
import { UsageTotals } from '../usage/UsageTotals.js';
import { formatUsd } from './formatUsd.js';
import { validateRunLimits, type LimitBreach, type LimitName, type RunLimits } from './RunLimits.js';

/** What a run has done so far, as far as its limits care: a fold of its events. */
interface RunTally {
  /** `turn_start`s seen. */
  readonly turns: number;
  /** The sum of the `usage` events (each is one assistant message's). */
  readonly usage: UsageTotals;
  /** The tools running (`tool_start` without its `tool_end` yet), by tool-call id: their names. */
  readonly tools: ReadonlyMap<string, string>;
  /** Between a `compaction` start and its end. */
  readonly compacting: boolean;
  /** The last event was a request left to the host: the run waits for a person, not for pi. */
  readonly waitingForHost: boolean;
  /** The delay the last event announced (a `retry` start), to add to the allowance. */
  readonly retryDelayMs: number;
}

const START: RunTally = { turns: 0, usage: UsageTotals.ZERO, tools: new Map(), compacting: false, waitingForHost: false, retryDelayMs: 0 };

/** The tally after one more event. Pure. */
function tallyRun(tally: RunTally, event: PiEvent): RunTally {
  const next = { ...tally, waitingForHost: false, retryDelayMs: 0 };
  switch (event.type) {
    case 'turn_start':
      return { ...next, turns: tally.turns + 1 };
    case 'usage':
      return { ...next, usage: tally.usage.add(event.totals) };
    case 'tool_start':
      return { ...next, tools: new Map(tally.tools).set(event.toolCallId, event.name) };
    case 'tool_end': {
      const tools = new Map(tally.tools);
      tools.delete(event.toolCallId);
      return { ...next, tools };
    }
    case 'compaction':
      return { ...next, compacting: event.phase === 'start' };
    case 'interaction_request':
      return { ...next, waitingForHost: event.handledBy === 'host' };
    case 'retry':
      return { ...next, retryDelayMs: event.phase === 'start' && event.delayMs !== undefined && event.delayMs > 0 ? event.delayMs : 0 };
    default:
      return next;
  }
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const breach = (limit: LimitName, max: number, actual: number, message: string): LimitBreach => ({ limit, max, actual, message });

/**
 * Watches one run for its {@link RunLimits}: emits the first {@link LimitBreach} and completes, or
 * completes without a value when the run's events complete first.
 *
 * Feed it the events of one run, from its `agent_start` to its `agent_end` (a session does so for
 * each run and aborts the run on a breach, which then ends with `reason: 'limit'`). It counts
 * `turn_start`s (`maxTurns`: breached when turn `maxTurns + 1` starts) and sums the `usage` events
 * (one per assistant message; `maxTokens` on `totalTokens`, `maxCostUsd` on `costUsd`), checked in
 * that order on every event. The stall watch is a `switchMap` to a timer, so every event restarts it:
 * `stallTimeoutMs` while the model works, `toolStallTimeoutMs` while any tool runs (parallel tools:
 * until the last `tool_end`) or pi compacts the context; after a `retry` start its `delayMs` is
 * added; after a request left to the host (`interaction_request` with `handledBy: 'host'`) no timer
 * runs until the next event, since the run waits for a person. Every timer runs on `scheduler`,
 * so a 10-minute stall is a marble test in virtual time. Errors of the source are passed on;
 * unsubscribing cancels the timer.
 *
 * ## Example
 * ```ts
 * run$.pipe(watchRunLimits({ maxTurns: 10, stallTimeoutMs: 60_000 })).subscribe((breach) => {
 *   console.warn(breach.message); // e.g. "the run used 11 turns (maxTurns: 10)"
 *   void session.abort();
 * });
 * ```
 *
 * @param limits The limits; `toolStallTimeoutMs` defaults to `10 × stallTimeoutMs`.
 * @param scheduler Time source of the stall timers; default `asyncScheduler`.
 * @return An operator from one run's events to at most one breach.
 * @throws {PiConfigError} naming the bad field (`limits.maxTurns`) when `limits` are invalid.
 * @see {@link budget}
 */
export function watchRunLimits(limits: RunLimits, scheduler: SchedulerLike = asyncScheduler): OperatorFunction<PiEvent, LimitBreach> {
  const valid = validateRunLimits(limits, 'limits');
  const { maxTurns = Infinity, maxTokens = Infinity, maxCostUsd = Infinity, stallTimeoutMs = Infinity } = valid;
  const toolStallTimeoutMs = valid.toolStallTimeoutMs ?? 10 * stallTimeoutMs;

  const usedUp = (tally: RunTally): LimitBreach | undefined => {
    const { turns, usage } = tally;
    if (turns > maxTurns) return breach('maxTurns', maxTurns, turns, `the run used ${plural(turns, 'turn')} (maxTurns: ${maxTurns})`);
    if (usage.totalTokens > maxTokens) {
      return breach('maxTokens', maxTokens, usage.totalTokens, `the run used ${plural(usage.totalTokens, 'token')} (maxTokens: ${maxTokens})`);
    }
    if (usage.costUsd > maxCostUsd)
      return breach('maxCostUsd', maxCostUsd, usage.costUsd, `the run cost ${formatUsd(usage.costUsd)} (maxCostUsd: ${maxCostUsd})`);
    return undefined;
  };

  const stalled = (tally: RunTally): Observable<LimitBreach> => {
    if (tally.waitingForHost) return EMPTY;
    const busy = tally.tools.size > 0 || tally.compacting;
    const [limit, max] = busy ? (['toolStallTimeoutMs', toolStallTimeoutMs] as const) : (['stallTimeoutMs', stallTimeoutMs] as const);
    const during =
      tally.tools.size > 0 ? ` while ${[...new Set(tally.tools.values())].join(', ')} ran` : tally.compacting ? ' while pi compacted the context' : '';
    const what = tally.retryDelayMs > 0 ? `${during} after a retry delay of ${tally.retryDelayMs} ms` : during;
    const since = scheduler.now();
    return longTimer(max + tally.retryDelayMs, scheduler).pipe(
      map(() => {
        const quiet = scheduler.now() - since;
        return breach(limit, max, quiet, `the run sent no event for ${quiet} ms${what} (${limit}: ${max})`);
      }),
    );
  };

  return (events$) =>
    events$.pipe(
      scan(tallyRun, START),
      startWith(START),
      connect((tally$) =>
        merge(
          tally$.pipe(
            map(usedUp),
            filter((found): found is LimitBreach => found !== undefined),
          ),
          tally$.pipe(switchMap(stalled)),
        ).pipe(
          take(1),
          // The run is over when its events complete: a stall timer still pending must not outlive it.
          takeUntil(tally$.pipe(ignoreElements(), endWith(true))),
        ),
      ),
    );
}
