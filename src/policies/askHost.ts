import { catchError, concatMap, defaultIfEmpty, map, mergeMap, of, take, takeUntil } from 'rxjs';
import type { Observable, ObservableInput } from 'rxjs';
import { PiDriverError } from '../errors.js';
import type { InteractionRequest } from '../protocol/events.js';
import { coerceDecision, defer, isDecision } from './decisions.js';
import { answerOf } from './internal/answerOf.js';
import { failClosed } from './internal/failClosed.js';
import { fromAbortSignal } from './internal/fromAbortSignal.js';
import { fromAbortable } from './internal/fromAbortable.js';
import { named } from './internal/named.js';
import type { DecisionInput, Policy, PolicyAnswer, PolicyContext, PolicyRequest } from './types.js';

/**
 * A host callback: asked about one request, it answers with a {@link DecisionInput} directly, or
 * with (the first value of) an `ObservableInput` of one: an Observable, a Promise, an array… A
 * string returned directly is the answer itself, not an iterable of characters.
 *
 * `context.signal` aborts when the request is withdrawn (run aborted, session closed, pi's own
 * dialog timeout) or when pidriver stops listening; stop asking then.
 */
export type HostCallback = (request: InteractionRequest, context: PolicyContext) => ObservableInput<DecisionInput> | DecisionInput;

/** Options of {@link askHost}. */
export interface AskHostOptions {
  /**
   * How many requests may be asked at the same time. Default 1: one at a time, in order
   * (`concatMap`), which suits a UI. More uses `mergeMap` with this limit; `Infinity` for no limit.
   */
  readonly concurrency?: number;
}

/**
 * Asks the host about each request through a callback; without one, leaves every request to the
 * host (`defer`), who answers with `session.respond()`. That is a session's default policy.
 *
 * With a callback, requests are asked **one at a time** by default (`concatMap`: the next
 * request waits until the current one is answered or withdrawn); `concurrency > 1` asks up to
 * that many at once (`mergeMap`). The first value the callback produces is coerced with
 * {@link coerceDecision}.
 *
 * When a request is withdrawn, the callback's signal aborts, its Observable is unsubscribed and
 * **no answer** is emitted (the session cancels withdrawn requests itself); a request withdrawn
 * while it waits its turn is never asked. The callback's signal also aborts once its answer is
 * taken or the policy is unsubscribed.
 *
 * Fails closed, and never errors: when the callback throws, errors, completes without a value
 * or answers something that doesn't fit the request, the answer is `deny('policy error: …')` for
 * a permission and `cancel()` for anything else.
 *
 * ## Example
 * ```ts
 * const questions = askHost((request) => (request.kind === 'question' ? 'blue' : undefined));
 * const policy = askHost(async (request, { signal }) => {
 *   const ok = await ui.confirm(request.prompt.title, { signal });
 *   return ok; // true → allow, false → deny
 * });
 * ```
 *
 * @param callback Asks the host; omitted: every request is answered `defer`.
 * @param options `concurrency` (default 1).
 * @return A policy.
 * @see {@link chain}
 * @see {@link timeoutDecision}
 */
export function askHost(callback?: HostCallback, options: AskHostOptions = {}): Policy {
  if (callback === undefined) {
    return named('askHost', (request$: Observable<PolicyRequest>) => request$.pipe(map(({ request }) => answerOf(request, defer()))));
  }
  const concurrency = options.concurrency ?? 1;
  if (!(concurrency >= 1 && (Number.isInteger(concurrency) || concurrency === Infinity))) {
    throw new PiDriverError(`askHost: concurrency must be a positive integer or Infinity, got ${concurrency}`, {
      code: 'PI_INVALID_ARGUMENT',
    });
  }
  const ask = ({ request, signal: withdrawn, session }: PolicyRequest): Observable<PolicyAnswer> => {
    // The host's own signal: aborts when the request is withdrawn, and once its answer is taken.
    const context = (signal: AbortSignal): PolicyContext => (session === undefined ? { signal } : { signal, session });
    return fromAbortable((signal) => asObservableInput(callback(request, context(signal))), withdrawn).pipe(
      take(1),
      map((input) => coerceDecision(request, input)),
      defaultIfEmpty(undefined),
      map((decision) => decision ?? failClosed(request, 'the host callback completed without an answer')),
      catchError((error: unknown) => of(failClosed(request, error))),
      map((decision) => answerOf(request, decision)),
      takeUntil(fromAbortSignal(withdrawn)),
    );
  };
  return named('askHost', (request$: Observable<PolicyRequest>) => request$.pipe(concurrency === 1 ? concatMap(ask) : mergeMap(ask, concurrency)));
}

/** A plain answer (a string, boolean, number, `undefined` or a Decision) as a one-value input. */
function asObservableInput(result: ObservableInput<DecisionInput> | DecisionInput): ObservableInput<DecisionInput> {
  if (typeof result !== 'object' || isDecision(result)) return [result];
  return result;
}
