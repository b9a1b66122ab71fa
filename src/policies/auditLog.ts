import { asyncScheduler, defer as deferred, tap } from 'rxjs';
import type { Observable, SchedulerLike } from 'rxjs';
import type { InteractionRequest } from '../protocol/events.js';
import { askHost } from './askHost.js';
import { PendingRequests } from './internal/PendingRequests.js';
import { named } from './internal/named.js';
import type { Policy, PolicyAnswer, PolicyRequest } from './types.js';

/** One line of an audit log: a request as it arrived (no `answer`), or the answer it got. */
export interface AuditEntry {
  readonly request: InteractionRequest;
  readonly answer?: PolicyAnswer;
  /** `scheduler.now()` when it happened. */
  readonly at: number;
}

/** Options of {@link auditLog}. */
export interface AuditLogOptions {
  /** Clock; default `asyncScheduler` (virtualised by `TestScheduler.run`). */
  readonly scheduler?: SchedulerLike;
}

/**
 * Runs `inner` and reports each request as it arrives, and the first answer `inner` gives it, to
 * `sink`. Decisions are not changed; a `sink` that throws is ignored, so auditing never changes
 * what is decided.
 *
 * ## Example
 * ```ts
 * const policy = auditLog((entry) => log.info(entry), chain(allowTools(['read']), askHost(ask)));
 * ```
 *
 * @param sink Receives the entries, synchronously.
 * @param inner The policy to audit; default {@link askHost}() (left to the host).
 * @param options `scheduler`: the clock for `at`.
 * @return A policy.
 */
export function auditLog(sink: (entry: AuditEntry) => void, inner: Policy = askHost(), options: AuditLogOptions = {}): Policy {
  const scheduler = options.scheduler ?? asyncScheduler;
  const write = (entry: AuditEntry): void => {
    try {
      sink(entry);
    } catch {
      // Auditing must not change decisions: a failing sink is the sink's problem.
    }
  };
  return named(`auditLog(${inner.name || '<anonymous>'})`, (request$: Observable<PolicyRequest>) =>
    deferred(() => {
      const pending = new PendingRequests();
      return request$.pipe(
        tap((input) => {
          pending.add(input);
          write({ request: input.request, at: scheduler.now() });
        }),
        inner,
        tap((answer) => {
          const request = pending.take(answer)?.request;
          if (request !== undefined) write({ request, answer, at: scheduler.now() });
        }),
      );
    }),
  );
}
