import { asyncScheduler, defer, distinctUntilChanged, EMPTY, map, merge, NEVER, scan, skip, startWith, switchMap, take } from 'rxjs';
import type { Observable, OperatorFunction, SchedulerLike } from 'rxjs';
import { longTimer } from '../rx/longTimer.js';

/** Options of {@link reapIdle}. */
export interface ReapIdleOptions {
  /** How long without activity makes a session idle, in milliseconds. */
  readonly idleMs: number;
  /**
   * Granularity of the reaper, in milliseconds. With `intervalMs > 0` the reaper behaves as a
   * check on the ticks `origin + k × intervalMs` (k ≥ 1): it emits at the **first tick at or after
   * the idle deadline**. `0` (the default) emits exactly at the deadline.
   */
  readonly intervalMs?: number;
  /** Clock time the tick grid starts from. Default: the scheduler's `now()` at subscription. */
  readonly origin?: number;
  /**
   * `true` while the session must not be reaped (a run is in progress, or an interaction request
   * is open). While busy no window runs; when it turns `false` a fresh window starts.
   * Repeated values are ignored. It starts as not busy.
   */
  readonly busy$?: Observable<boolean>;
  /** Time source; default `asyncScheduler` (virtualised by `TestScheduler.run`). */
  readonly scheduler?: SchedulerLike;
}

/** What {@link reapIdle} emits when a session's idle window ran out. */
export interface IdleExpiry {
  /** Clock time (scheduler ms) the window started: the last activity, or the end of the last busy spell. */
  readonly idleSince: number;
  /** How long the session had been idle when the reaper fired (`>= idleMs`; more by up to one interval). */
  readonly idleMs: number;
}

type Signal = 'activity' | 'busy' | 'free';

interface Window {
  readonly busy: boolean;
  readonly since: number;
}

/**
 * Turns a session's activity into a single "it is idle" notice: emits one {@link IdleExpiry}
 * once `idleMs` passed with no value on the source and no busy spell, then completes.
 *
 * Every source value (its content is ignored) restarts the window at the scheduler's `now()`.
 * While `busy$` says `true` no window runs; the window restarts when it turns `false`. With
 * `intervalMs` the notice is held back to the first tick of the grid `origin + k × intervalMs` at or
 * after the deadline, so it behaves exactly like a reaper that checks on
 * `interval(intervalMs, scheduler)` ticks, without running a timer for a session that is not near
 * its deadline. It is `switchMap` over `timer`: one pending timer at a time, cancelled by the
 * next activity. A completing source does not cancel the pending window (no more activity is
 * idleness); a source error is passed on. Unsubscribing cancels everything.
 *
 * ## Example
 * ```ts
 * // Reap after 30 minutes without activity, checked once a minute.
 * session.activity$
 *   .pipe(reapIdle({ idleMs: 30 * 60_000, intervalMs: 60_000 }))
 *   .subscribe(({ idleMs }) => void session.close());
 * ```
 *
 * @param options The idle window, its granularity, the busy signal and the scheduler.
 * @return An operator from activity to at most one {@link IdleExpiry}.
 */
export function reapIdle(options: ReapIdleOptions): OperatorFunction<unknown, IdleExpiry> {
  const { idleMs, intervalMs = 0, busy$ = EMPTY, scheduler = asyncScheduler } = options;
  return (activity$) =>
    defer(() => {
      const start = scheduler.now();
      const origin = options.origin ?? start;
      const reapAt = (since: number): number => {
        const deadline = since + idleMs;
        if (!(intervalMs > 0)) return deadline;
        return origin + Math.max(1, Math.ceil((deadline - origin) / intervalMs)) * intervalMs;
      };
      const signals$: Observable<Signal> = merge(
        activity$.pipe(map((): Signal => 'activity')),
        busy$.pipe(
          startWith(false),
          distinctUntilChanged(),
          skip(1),
          map((busy): Signal => (busy ? 'busy' : 'free')),
        ),
      );
      return signals$.pipe(
        scan(
          (window: Window, signal: Signal): Window => ({
            busy: signal === 'activity' ? window.busy : signal === 'busy',
            since: scheduler.now(),
          }),
          { busy: false, since: start },
        ),
        startWith<Window>({ busy: false, since: start }),
        switchMap(({ busy, since }) =>
          busy
            ? NEVER
            : longTimer(reapAt(since) - scheduler.now(), scheduler).pipe(map((): IdleExpiry => ({ idleSince: since, idleMs: scheduler.now() - since }))),
        ),
        take(1),
      );
    });
}
