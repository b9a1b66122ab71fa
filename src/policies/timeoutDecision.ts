import { EMPTY, Subject, asyncScheduler, concat, connect, defer as deferred, filter, finalize, map, merge, mergeMap, of, takeUntil, tap } from 'rxjs';
import type { Observable, SchedulerLike } from 'rxjs';
import { PiDriverError } from '../errors.js';
import { askHost } from './askHost.js';
import { decisionTimeout$ } from './decisionTimeout.js';
import { named } from './internal/named.js';
import { isDuration } from '../rx/longTimer.js';
import type { DecisionInput, Policy, PolicyRequest } from './types.js';

/** Options of {@link timeoutDecision}. */
export interface TimeoutDecisionOptions {
  /** Time source; default `asyncScheduler` (virtualised by `TestScheduler.run`). */
  readonly scheduler?: SchedulerLike;
}

/** A request, and what `inner` sees of it: the same request, with a signal that also aborts when it is settled here. */
interface Entry {
  readonly input: PolicyRequest;
  readonly proxy: PolicyRequest;
  /** Aborts the proxy's signal and stops forwarding the original one. */
  readonly settle: () => void;
}

/**
 * Bounds how long a request may stay unanswered: runs `inner`, and a request that `inner` has
 * not answered (or has answered `defer`) `ms` after it arrived gets `decision` instead.
 *
 * An `inner` answer that isn't `defer` and comes in time wins, and cancels the timer. When the
 * time is up, `inner` is told: it sees each request with a signal of its own that aborts when
 * the request's does *or* when the request is settled here, so {@link askHost} dismisses the
 * host's prompt and moves on to its next request. A `defer` from `inner` is passed on: the
 * session shows the request to the host (`session.pending$`, `events$`) and takes whichever
 * comes first, `session.respond()` or the timeout's `decision`. So
 * `timeoutDecision(30_000, false)` means "leave it to the host, deny after 30 s". A withdrawn
 * request gets no answer. If `decision` doesn't fit a request (e.g. `false` for a question) that
 * request fails closed (deny / cancel). A duration over 2³¹ ms is waited out in full (not cut to
 * 1 ms as by a bare `setTimeout`); `Infinity` never times out.
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
export function timeoutDecision(ms: number, decision: DecisionInput, inner: Policy = askHost(), options: TimeoutDecisionOptions = {}): Policy {
  if (!isDuration(ms)) {
    throw new PiDriverError(`timeoutDecision: ms must be a number of milliseconds >= 0 (or Infinity), got ${String(ms)}`, { code: 'PI_INVALID_ARGUMENT' });
  }
  const scheduler = options.scheduler ?? asyncScheduler;
  return named(`timeoutDecision(${ms}, ${inner.name || '<anonymous>'})`, (request$: Observable<PolicyRequest>) =>
    request$.pipe(
      map(toEntry),
      connect((entry$) => {
        // Requests with a running timer; the first answer (inner's or the timer's) closes one.
        const open = new Set<string>();
        // Requests `inner` deferred: passed on once (the host may answer them), timer still running.
        const deferredIds = new Set<string>();
        const answered$ = new Subject<string>();
        // Subscribed before `inner`, so a timer exists when `inner` answers synchronously.
        const timeouts$ = entry$.pipe(
          mergeMap(({ input, settle }) => {
            const { request } = input;
            open.add(request.requestId);
            return decisionTimeout$(input, ms, decision, scheduler).pipe(
              tap(() => open.delete(request.requestId)),
              takeUntil(answered$.pipe(filter((id) => id === request.requestId))),
              finalize(() => {
                open.delete(request.requestId);
                deferredIds.delete(request.requestId);
                settle();
              }),
            );
          }),
        );
        const answers$ = entry$.pipe(
          map((entry) => entry.proxy),
          inner,
          filter((answer) => {
            const id = answer.requestId;
            if (answer.decision.kind !== 'defer') return open.delete(id);
            if (!open.has(id) || deferredIds.has(id)) return false;
            deferredIds.add(id);
            return true;
          }),
          // Deliver the answer first, then stop its timer: stopping it settles the request, which
          // may complete `inner` re-entrantly, and an answer still on the stack would be lost.
          mergeMap((answer) =>
            answer.decision.kind === 'defer'
              ? of(answer)
              : concat(
                  of(answer),
                  deferred(() => (answered$.next(answer.requestId), EMPTY)),
                ),
          ),
        );
        return merge(timeouts$, answers$);
      }),
    ),
  );
}

function toEntry(input: PolicyRequest): Entry {
  const { request, signal } = input;
  const controller = new AbortController();
  const forward = (): void => controller.abort(signal.reason);
  if (signal.aborted) forward();
  else signal.addEventListener('abort', forward, { once: true });
  const settle = (): void => {
    signal.removeEventListener('abort', forward);
    controller.abort(new PiDriverError(`interaction request ${request.requestId} was settled`, { code: 'PI_REQUEST_SETTLED' }));
  };
  return { input, proxy: { ...input, signal: controller.signal }, settle };
}
