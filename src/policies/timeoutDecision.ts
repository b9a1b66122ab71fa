import { Subject, asyncScheduler, connect, filter, finalize, merge, mergeMap, takeUntil, tap } from 'rxjs';
import type { Observable, SchedulerLike } from 'rxjs';
import type { InteractionRequest } from '../protocol/events.js';
import { askHost } from './askHost.js';
import { decisionTimeout$ } from './decisionTimeout.js';
import { named } from './internal/named.js';
import type { DecisionInput, Policy } from './types.js';

/** Options of {@link timeoutDecision}. */
export interface TimeoutDecisionOptions {
  /** Time source; default `asyncScheduler` (virtualised by `TestScheduler.run`). */
  readonly scheduler?: SchedulerLike;
}

/**
 * Bounds how long a request may stay unanswered: runs `inner`, and a request that `inner` has
 * not answered (or has answered `defer`) `ms` after it arrived gets `decision` instead.
 *
 * An `inner` answer that isn't `defer` and comes in time wins, and cancels the timer. A `defer`
 * from `inner` is not passed on: the request stays open (it is in `session.pending$` from the
 * start, and `session.respond()` answers it) until the host responds or the time is up. So
 * `timeoutDecision(30_000, false)` means "ask the host, deny after 30 s". A withdrawn request gets
 * no answer. If `decision` doesn't fit a request (e.g. `false` for a question) that request fails
 * closed (deny / cancel).
 *
 * Deferring to the host through `session.respond()` is raced the same way by the session
 * itself when it is asked to bound deferral: it wraps the user's policy in this operator, or uses
 * the {@link decisionTimeout$} helper this operator is built on.
 *
 * ## Example
 * ```ts
 * const policy = timeoutDecision(60_000, deny('no answer within a minute'), askHost(askInUi));
 * ```
 *
 * @param ms How long to wait, in milliseconds, from each request's arrival.
 * @param decision What to answer when time is up (a {@link DecisionInput}, coerced per request).
 * @param inner The policy to give the time to; default {@link askHost}() (left to the host).
 * @param options `scheduler`.
 * @return A policy.
 * @see {@link decisionTimeout$}
 */
export function timeoutDecision(
  ms: number,
  decision: DecisionInput,
  inner: Policy = askHost(),
  options: TimeoutDecisionOptions = {},
): Policy {
  const scheduler = options.scheduler ?? asyncScheduler;
  return named(`timeoutDecision(${ms}, ${inner.name || '<anonymous>'})`, (request$: Observable<InteractionRequest>) =>
    request$.pipe(
      connect((shared$) => {
        // Requests with a running timer; the first answer (inner's or the timer's) closes one.
        const open = new Set<string>();
        const answered$ = new Subject<string>();
        // Subscribed before `inner`, so a timer exists when `inner` answers synchronously.
        const timeouts$ = shared$.pipe(
          mergeMap((request) => {
            open.add(request.requestId);
            return decisionTimeout$(request, ms, decision, scheduler).pipe(
              tap(() => open.delete(request.requestId)),
              takeUntil(answered$.pipe(filter((id) => id === request.requestId))),
              finalize(() => open.delete(request.requestId)),
            );
          }),
        );
        const answers$ = shared$.pipe(
          inner,
          filter((answer) => answer.decision.kind !== 'defer' && open.delete(answer.requestId)),
          tap((answer) => answered$.next(answer.requestId)),
        );
        return merge(timeouts$, answers$);
      }),
    ),
  );
}
