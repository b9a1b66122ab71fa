import {
  EMPTY,
  catchError,
  concat,
  connect,
  defer as deferred,
  filter,
  from,
  ignoreElements,
  map,
  merge,
  mergeMap,
  of,
  retry,
  startWith,
  take,
  tap,
  throwError,
} from 'rxjs';
import type { Observable } from 'rxjs';
import { PiDriverError } from '../errors.js';
import { defer } from './decisions.js';
import { PendingRequests } from './internal/PendingRequests.js';
import { answerOf } from './internal/answerOf.js';
import { failClosed } from './internal/failClosed.js';
import { named } from './internal/named.js';
import type { Policy, PolicyAnswer, PolicyRequest } from './types.js';

/** What one stage of a chain does with a request: answer it, or pass it to the next stage. */
type Step = { readonly answer: PolicyAnswer } | { readonly next: PolicyRequest };

/**
 * Offers each request to the policies in order: the first answer that isn't `defer` wins; a
 * request every policy defers is answered `defer` (left to the host).
 *
 * Each policy is subscribed once per subscription of the chain and sees a stream of requests:
 * all of them for the first policy, and for policy N+1 only those policy N deferred, *after* it
 * deferred them (the same {@link PolicyRequest}s, signal and session included). So stateful
 * policies keep their state across requests ({@link rememberAlways}) and {@link askHost} still
 * asks one at a time.
 *
 * A policy that errors, or completes while requests are still coming, fails closed: the
 * requests it had not answered are denied (permissions) or cancelled (the rest). It is
 * subscribed again, fresh, for the next request. Answers for unknown or already answered requests
 * are ignored.
 *
 * The returned policy is named `chain(<names>)` for debugging, like redux-observable's
 * `combineEpics`.
 *
 * ## Example
 * ```ts
 * const policy = chain(denyTools(['rm']), allowTools(['read', 'ls'], denyAll()), askHost(ask));
 * ```
 *
 * @param policies The policies, in order.
 * @return A policy.
 * @see {@link byKind}
 */
export function chain(...policies: readonly Policy[]): Policy {
  const names = policies.map((policy) => policy.name || '<anonymous>').join(', ');
  const through = (request$: Observable<PolicyRequest>, index: number): Observable<PolicyAnswer> => {
    const policy = policies[index];
    if (policy === undefined) return request$.pipe(map(({ request }) => answerOf(request, defer())));
    return request$.pipe(
      stage(policy),
      connect((step$) =>
        merge(
          step$.pipe(
            filter((step) => 'answer' in step),
            map((step) => step.answer),
          ),
          through(
            step$.pipe(
              filter((step) => 'next' in step),
              map((step) => step.next),
            ),
            index + 1,
          ),
        ),
      ),
    );
  };
  return named(`chain(${names})`, (request$: Observable<PolicyRequest>) => through(request$, 0));
}

/**
 * Runs one policy of a chain over a stream of requests. Its first answer per request is kept
 * (`defer` → passed on to the next stage); if the policy dies, what it held fails closed and a
 * fresh copy is subscribed when the next request comes (with `retry`, so a policy that keeps
 * dying doesn't nest subscriptions).
 */
function stage(policy: Policy): (request$: Observable<PolicyRequest>) => Observable<Step> {
  const label = policy.name || '<anonymous>';
  return (request$) =>
    request$.pipe(
      connect((shared$) => {
        const pending = new PendingRequests();
        let sourceDone = false;
        // The request that woke a dead policy up: the fresh copy starts with it.
        let carried: PolicyRequest | undefined;
        const track$ = shared$.pipe(tap({ next: (input) => pending.add(input), complete: () => (sourceDone = true) }), ignoreElements());
        const requests$ = deferred(() => {
          const first = carried;
          carried = undefined;
          return first === undefined ? shared$ : shared$.pipe(startWith(first));
        });
        const route = (answer: PolicyAnswer): Observable<Step> => {
          const input = pending.take(answer);
          if (input === undefined) return EMPTY; // unknown, or answered already
          return of(answer.decision.kind === 'defer' ? { next: input } : { answer });
        };
        const failPending = (error: unknown): Observable<Step> =>
          deferred(() => from(pending.drain().map(({ request }) => ({ answer: answerOf(request, failClosed(request, error)) }))));
        const run$ = concat(
          // Called per (re)subscription, so a policy that keeps state in its closure starts afresh.
          deferred(() => policy(requests$)).pipe(mergeMap(route)),
          deferred(() => (sourceDone ? EMPTY : throwError(() => new PiDriverError(`policy ${label} completed`)))),
        ).pipe(
          catchError((error: unknown) =>
            concat(
              failPending(error),
              throwError(() => error),
            ),
          ),
          retry({
            delay: () =>
              shared$.pipe(
                take(1),
                tap((input) => (carried = input)),
              ),
          }),
        );
        // track$ first, so a request is pending before the policy can answer it.
        return merge(track$, run$);
      }),
    );
}
