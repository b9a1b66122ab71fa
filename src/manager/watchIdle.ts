import { catchError, defer, distinctUntilChanged, EMPTY, interval, map, merge, skip, startWith, type Observable, type SchedulerLike } from 'rxjs';
import type { ManagedSession, ManagedSessionState } from './ManagedSession.js';
import { reapIdle, type IdleExpiry } from './reapIdle.js';

/** Options of {@link watchIdle}: the manager's reaper settings. */
export interface WatchIdleOptions {
  /** How long without activity makes the session idle, in ms. */
  readonly idleMs: number;
  /** The reaper's tick (see `reapIdle`'s `intervalMs`). */
  readonly intervalMs: number;
  /** Where the tick grid starts (the manager's construction). */
  readonly origin: number;
  readonly scheduler: SchedulerLike;
}

/** A run in progress, an open request, or pi being restarted: not idle. */
const isBusy = (state: ManagedSessionState): boolean => state.status === 'running' || state.status === 'restarting' || state.pendingRequests > 0;

/**
 * The reaper of one session: its activity, from the best source it has, through `reapIdle`.
 * Activity is `activity$`, else `events$` plus changes of `lastActivity` (polled once per tick);
 * `state$` says when it is busy (a run, an open request). A dead session's streams end the
 * watch quietly: the manager handles its end.
 *
 * @param session The session.
 * @param options The idle window, the tick, its origin and the scheduler.
 * @return Emits once when the session's idle window ran out.
 */
export function watchIdle(session: ManagedSession, options: WatchIdleOptions): Observable<IdleExpiry> {
  const { idleMs, intervalMs, origin, scheduler } = options;
  const activity$: Observable<unknown> = session.activity$ ?? merge(session.events$ ?? EMPTY, lastActivityChanges$(session, options));
  const busy$ = session.state$?.pipe(
    map(isBusy),
    catchError(() => EMPTY),
  );
  return activity$.pipe(
    catchError(() => EMPTY), // a dead session's stream: its end is handled by the manager
    reapIdle({ idleMs, intervalMs, origin, scheduler, ...(busy$ ? { busy$ } : {}) }),
  );
}

/** For sessions without `activity$`: a value whenever `lastActivity` changed, polled once per reap interval. */
function lastActivityChanges$(session: ManagedSession, { idleMs, intervalMs, scheduler }: WatchIdleOptions): Observable<number> {
  const period = Math.max(1, intervalMs > 0 ? intervalMs : idleMs);
  return defer(() =>
    interval(period, scheduler).pipe(
      map(() => session.lastActivity),
      startWith(session.lastActivity),
      distinctUntilChanged(),
      skip(1),
    ),
  );
}
