import type { SchedulerLike } from 'rxjs';
import { PiDriverError } from '../errors.js';
import type { RestartOptions } from '../session/restartPolicy.js';
import type { BudgetLimits } from '../limits/budget.js';
import { isDuration } from '../rx/longTimer.js';
import type { ManagedSession, SessionFactory } from './ManagedSession.js';

/** Options of {@link PiSessionManager}. */
export interface PiSessionManagerOptions<S extends ManagedSession, O> {
  /** Starts a session for `create()`: `(options) => client.start(options)`. */
  readonly factory?: SessionFactory<S, O>;
  /**
   * How long a session may be idle (no event in, no command out, no run in progress, no open
   * interaction request) before it is reaped, in ms. Default 1,800,000 (30 minutes); `null`
   * or `Infinity` disables reaping. Any duration is waited in full (none is cut short at 2³¹ ms).
   */
  readonly idleTimeoutMs?: number | null;
  /**
   * Granularity of the reaper, in ms. Default 60,000. The reaper ticks every `reapIntervalMs`
   * from the manager's construction, and an idle session is reaped at the **first tick at or
   * after** its idle deadline. `0` reaps exactly at the deadline.
   */
  readonly reapIntervalMs?: number;
  /**
   * Most sessions at once. Counts registered sessions, sessions being created, and sessions the
   * manager is still closing (their process may be alive). Default: no limit.
   */
  readonly maxSessions?: number;
  /**
   * A budget over every session of the manager (removed ones included): `maxCostUsd` (US dollars)
   * and `maxTokens` of `usage$`. Once `usage$` goes past one, the manager emits a
   * `budget_exceeded` notice, calls `exceedBudget(breach)` on every session (a `PiSession` ends its
   * run in progress as `limit` and rejects new prompts with `PiLimitError`), and `create()` rejects
   * with `PiLimitError` without starting a process. A missing limit, or `Infinity`, is none.
   */
  readonly limits?: BudgetLimits;
  /**
   * Crash recovery for every session `create()` starts: given to the factory as `restart` in its
   * options, unless they have their own (`client.start`'s `StartOptions.restart`: pi is started
   * again on the same session file when it dies on its own). Each restart is a `session_restarted`
   * notice on `events$`, counted in `restarts`; a restarting session is busy for the reaper, and
   * `stop()` / `stopAll()` win over a restart under way.
   */
  readonly restart?: RestartOptions | boolean;
  /** Time source of the reaper and of `stopAll`'s timeout; default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** Options of {@link PiSessionManager.stopAll} and {@link PiSessionManager.stop}. */
export interface StopOptions {
  /**
   * How long each close may take, in ms. A close still running then is reported as
   * `{ status: 'error', error: PiTimeoutError }` (and keeps running). Default: no bound (a
   * `PiSession` bounds its own close by escalating to SIGKILL).
   */
  readonly timeoutMs?: number;
}

/**
 * Checks a duration option. Timers are `longTimer`s: any duration waits in full (none is cut to
 * 1 ms past 2³¹ ms).
 *
 * @param name The option, for the message.
 * @param value Its value.
 * @param infinite Whether `Infinity` (never) is allowed.
 * @throws {PiDriverError} (`PI_INVALID_OPTION`) when it is not a duration.
 */
export function assertDuration(name: string, value: number, infinite: boolean): void {
  if (!(isDuration(value) && (infinite || Number.isFinite(value)))) {
    const what = infinite ? 'a number of ms >= 0 (or Infinity: never)' : 'a finite number of ms >= 0';
    throw new PiDriverError(`${name} must be ${what}, got ${value}`, { code: 'PI_INVALID_OPTION' });
  }
}
