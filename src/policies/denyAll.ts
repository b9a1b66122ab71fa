import { map } from 'rxjs';
import type { Observable } from 'rxjs';
import { defer, deny } from './decisions.js';
import { answerOf } from './internal/answerOf.js';
import { named } from './internal/named.js';
import type { Policy, PolicyRequest } from './types.js';

/**
 * Denies every permission request; every other request is answered `defer` (to the next policy
 * in a {@link chain}, or to the host).
 *
 * ## Example
 * ```ts
 * const readOnly = chain(allowTools(['read', 'ls']), denyAll('read-only session'));
 * ```
 *
 * @param message Why, shown to the agent where the dialect supports it.
 * @return A policy.
 * @see {@link denyTools}
 * @see {@link autoApprove}
 */
export function denyAll(message?: string): Policy {
  const refusal = deny(message);
  return named('denyAll', (request$: Observable<PolicyRequest>) =>
    request$.pipe(map(({ request }) => answerOf(request, request.kind === 'permission' ? refusal : defer()))),
  );
}
