import { asyncScheduler, map, takeUntil } from 'rxjs';
import type { Observable, SchedulerLike } from 'rxjs';
import type { InteractionRequest } from '../protocol/events.js';
import { coerceDecision } from './decisions.js';
import { answerOf } from './internal/answerOf.js';
import { failClosed } from './internal/failClosed.js';
import { fromAbortSignal } from './internal/fromAbortSignal.js';
import type { Decision, DecisionInput, PolicyAnswer, PolicyRequest } from './types.js';
import { longTimer } from '../rx/longTimer.js';

/**
 * The answer a request gets when nobody answered it in time: `decision` (coerced for that
 * request) `ms` after subscription. Emits nothing if the request is withdrawn first (its
 * `signal` aborts). If `decision` doesn't fit the request (e.g. `false` for a question) the
 * answer fails closed: `deny('policy error: …')` for a permission, `cancel()` for the rest.
 *
 * The building block of {@link timeoutDecision}; use it in a policy of your own to bound how
 * long a request may wait. Right for any duration (over 2³¹ ms too; `Infinity` never fires).
 *
 * ## Example
 * ```ts
 * // a policy: ask the UI, but deny after 30 s (a withdrawn request gets neither)
 * const policy: Policy = (request$) =>
 *   request$.pipe(mergeMap((input) => race(fromUi(input.request, input.signal), answerAfter$(input, 30_000, false))));
 * ```
 *
 * @param input The request, with the signal that withdraws it.
 * @param ms How long to wait, in milliseconds.
 * @param decision What to answer then.
 * @param scheduler Time source; default `asyncScheduler` (virtualised by `TestScheduler.run`).
 * @return An Observable of at most one answer.
 * @see {@link timeoutDecision}
 */
export function answerAfter$(input: PolicyRequest, ms: number, decision: DecisionInput, scheduler: SchedulerLike = asyncScheduler): Observable<PolicyAnswer> {
  const { request, signal } = input;
  return longTimer(ms, scheduler).pipe(
    map(() => answerOf(request, coerceSafely(request, decision))),
    takeUntil(fromAbortSignal(signal)),
  );
}

/**
 * @deprecated Renamed {@link answerAfter$}: it is one answer after a delay, not a timeout policy
 * (that is {@link timeoutDecision}). The same function.
 */
export const decisionTimeout$ = answerAfter$;

function coerceSafely(request: InteractionRequest, decision: DecisionInput): Decision {
  try {
    return coerceDecision(request, decision);
  } catch (error) {
    return failClosed(request, error);
  }
}
