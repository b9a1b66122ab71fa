import { connect, filter, map, merge } from 'rxjs';
import type { Observable } from 'rxjs';
import type { InteractionRequest } from '../protocol/events.js';
import { askHost } from './askHost.js';
import { deny } from './decisions.js';
import { answerOf } from './internal/answerOf.js';
import { failClosed } from './internal/failClosed.js';
import { named } from './internal/named.js';
import { safePredicate } from './internal/safePredicate.js';
import type { Decision, Policy, PolicyRequest } from './types.js';

/** Which tools {@link denyTools} refuses: a list of names, or a predicate on the tool name. */
export type ToolMatcher = Iterable<string> | ((toolName: string, request: InteractionRequest) => boolean);

/**
 * Denies permission requests for the matching tools (`deny('tool <name> is not allowed')`);
 * every other request goes to `fallback`.
 *
 * A permission whose tool is unknown (no `toolName`) goes to `fallback`. A predicate that throws
 * denies the request (fail closed).
 *
 * ## Example
 * ```ts
 * const policy = denyTools((name) => name.startsWith('mcp_'), autoApprove());
 * ```
 *
 * @param tools Tool names, or a predicate `(toolName, request) => boolean`.
 * @param fallback Policy for everything else; default {@link askHost}() (left to the host).
 * @return A policy.
 * @see {@link allowTools}
 * @see {@link denyAll}
 */
export function denyTools(tools: ToolMatcher, fallback: Policy = askHost()): Policy {
  const { matches, label } = matcherOf(tools);
  // The verdict of each request, computed once (a predicate may be impure).
  const verdict = (request: InteractionRequest): Decision | undefined => {
    if (request.kind !== 'permission' || request.toolName === undefined) return undefined;
    const result = safePredicate(matches, request.toolName, request);
    if ('error' in result) return failClosed(request, result.error);
    return result.ok ? deny(`tool ${request.toolName} is not allowed`) : undefined;
  };
  return named(`denyTools(${label})`, (request$: Observable<PolicyRequest>) =>
    request$.pipe(
      map((input) => ({ input, decision: verdict(input.request) })),
      connect((shared$) =>
        merge(
          shared$.pipe(
            filter((routed) => routed.decision !== undefined),
            map(({ input, decision }) => answerOf(input.request, decision as Decision)),
          ),
          shared$.pipe(
            filter((routed) => routed.decision === undefined),
            map(({ input }) => input),
            fallback,
          ),
        ),
      ),
    ),
  );
}

function matcherOf(tools: ToolMatcher): {
  readonly matches: (toolName: string, request: InteractionRequest) => boolean;
  readonly label: string;
} {
  if (typeof tools === 'function') return { matches: tools, label: tools.name || '<predicate>' };
  const names = new Set(tools);
  return { matches: (toolName) => names.has(toolName), label: [...names].join(', ') };
}
