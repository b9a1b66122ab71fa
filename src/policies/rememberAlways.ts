import { connect, filter, map, merge, tap } from 'rxjs';
import type { Observable } from 'rxjs';
import { askHost } from './askHost.js';
import { allow } from './decisions.js';
import { PendingRequests } from './internal/PendingRequests.js';
import { answerOf } from './internal/answerOf.js';
import { named } from './internal/named.js';
import type { Policy, PolicyRequest } from './types.js';

/**
 * Remembers "always" approvals: once `inner` answers `allowAlways` for a tool, later permission
 * requests for that tool are answered `allow()` without asking `inner`.
 *
 * The memory belongs to one subscription, so to one session (a session subscribes its policy
 * once). Requests without a `toolName` are always passed to `inner`.
 *
 * ## Example
 * ```ts
 * const policy = rememberAlways(askHost((request) => ui.ask(request))); // the UI may answer allowAlways()
 * ```
 *
 * @param inner The policy that decides; default {@link askHost}() (left to the host).
 * @return A policy.
 * @see {@link allowAlways}
 */
export function rememberAlways(inner: Policy = askHost()): Policy {
  return named(`rememberAlways(${inner.name || '<anonymous>'})`, (request$: Observable<PolicyRequest>) =>
    request$.pipe(
      connect((shared$) => {
        const always = new Set<string>();
        const pending = new PendingRequests();
        const remembered = ({ request }: PolicyRequest): boolean =>
          request.kind === 'permission' && request.toolName !== undefined && always.has(request.toolName);
        return merge(
          shared$.pipe(
            filter(remembered),
            map(({ request }) => answerOf(request, allow())),
          ),
          shared$.pipe(
            filter((input) => !remembered(input)),
            tap((input) => pending.add(input)),
            inner,
            tap((answer) => {
              const request = pending.take(answer)?.request;
              if (answer.decision.kind === 'allowAlways' && request?.kind === 'permission' && request.toolName !== undefined) {
                always.add(request.toolName);
              }
            }),
          ),
        );
      }),
    ),
  );
}
