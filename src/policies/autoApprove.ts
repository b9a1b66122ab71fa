import { map } from 'rxjs';
import type { Observable } from 'rxjs';
import type { InteractionRequest } from '../protocol/events.js';
import { allow, allowAlways, defer } from './decisions.js';
import { answerOf } from './internal/answerOf.js';
import { failClosed } from './internal/failClosed.js';
import { named } from './internal/named.js';
import { safePredicate } from './internal/safePredicate.js';
import type { Policy, PolicyRequest } from './types.js';

/** Options of {@link autoApprove}. */
export interface AutoApproveOptions {
  /** Which permission requests to approve; default all. A predicate that throws denies that request. */
  readonly allow?: (request: InteractionRequest) => boolean;
  /** Answer `allowAlways()` instead of `allow()`. */
  readonly always?: boolean;
}

/**
 * Approves permission requests (those that pass `options.allow`); every other request is
 * answered `defer`, so it goes to the next policy in a {@link chain}, or to the host.
 *
 * ## Example
 * ```ts
 * const policy = chain(autoApprove({ allow: (r) => r.toolName === 'read' }), askHost(ask));
 * ```
 *
 * @param options `allow`: which permissions to approve (default all); `always`: answer
 *   `allowAlways()`.
 * @return A policy.
 * @see {@link allowTools}
 * @see {@link denyAll}
 */
export function autoApprove(options: AutoApproveOptions = {}): Policy {
  const approval = options.always === true ? allowAlways() : allow();
  const predicate = options.allow ?? (() => true);
  return named('autoApprove', (request$: Observable<PolicyRequest>) =>
    request$.pipe(
      map(({ request }) => {
        if (request.kind !== 'permission') return answerOf(request, defer());
        const verdict = safePredicate(predicate, request);
        if ('error' in verdict) return answerOf(request, failClosed(request, verdict.error));
        return answerOf(request, verdict.ok ? approval : defer());
      }),
    ),
  );
}
