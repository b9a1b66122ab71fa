import { asyncScheduler, map, takeUntil, timer } from 'rxjs';
import type { Observable, SchedulerLike } from 'rxjs';
import type { InteractionRequest } from '../protocol/events.js';
import { policyContext } from './context.js';
import { coerceDecision } from './decisions.js';
import { answerOf } from './internal/answerOf.js';
import { failClosed } from './internal/failClosed.js';
import { fromAbortSignal } from './internal/fromAbortSignal.js';
import type { Decision, DecisionInput, PolicyAnswer } from './types.js';

/**
 * The answer a request gets when nobody answered it in time: `decision` (coerced for that
 * request) `ms` after subscription. Emits nothing if the request is withdrawn first (its
 * context signal aborts). If `decision` doesn't fit the request (e.g. `false` for a question) the
 * answer fails closed: `deny('policy error: …')` for a permission, `cancel()` for the rest.
 *
 * Used by {@link timeoutDecision}, and by the session to bound how long a request deferred to
 * the host may wait for `session.respond()`.
 *
 * ## Example
 * ```ts
 * // in the session: answer `false` after 30 s unless the host responded (or it was withdrawn)
 * decisionTimeout$(request, 30_000, false).pipe(takeUntil(responded$)).subscribe(answer);
 * ```
 *
 * @param request The request.
 * @param ms How long to wait, in milliseconds.
 * @param decision What to answer then.
 * @param scheduler Time source; default `asyncScheduler` (virtualised by `TestScheduler.run`).
 * @return An Observable of at most one answer.
 * @see {@link timeoutDecision}
 */
export function decisionTimeout$(
  request: InteractionRequest,
  ms: number,
  decision: DecisionInput,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<PolicyAnswer> {
  return timer(ms, scheduler).pipe(
    map(() => answerOf(request, coerceSafely(request, decision))),
    takeUntil(fromAbortSignal(policyContext(request).signal)),
  );
}

function coerceSafely(request: InteractionRequest, decision: DecisionInput): Decision {
  try {
    return coerceDecision(request, decision);
  } catch (error) {
    return failClosed(request, error);
  }
}
