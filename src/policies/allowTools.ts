import { connect, filter, map, merge } from 'rxjs';
import type { Observable } from 'rxjs';
import { askHost } from './askHost.js';
import { allow } from './decisions.js';
import { answerOf } from './internal/answerOf.js';
import { named } from './internal/named.js';
import type { Policy, PolicyRequest } from './types.js';

/**
 * Approves permission requests for the named tools; every other request goes to `fallback`.
 *
 * A permission whose tool is unknown (no `toolName`) is never approved here.
 *
 * ## Example
 * ```ts
 * const policy = allowTools(['read', 'ls', 'grep'], askHost(ask));
 * ```
 *
 * @param names Tool names to approve without asking.
 * @param fallback Policy for everything else; default {@link askHost}() (left to the host).
 * @return A policy.
 * @see {@link denyTools}
 * @see {@link autoApprove}
 */
export function allowTools(names: Iterable<string>, fallback: Policy = askHost()): Policy {
  const allowed = new Set(names);
  const approved = ({ request }: PolicyRequest): boolean => request.kind === 'permission' && request.toolName !== undefined && allowed.has(request.toolName);
  return named(`allowTools(${[...allowed].join(', ')})`, (request$: Observable<PolicyRequest>) =>
    request$.pipe(
      connect((shared$) =>
        merge(
          shared$.pipe(
            filter(approved),
            map(({ request }) => answerOf(request, allow())),
          ),
          shared$.pipe(
            filter((input) => !approved(input)),
            fallback,
          ),
        ),
      ),
    ),
  );
}
