import { connect, filter, merge } from 'rxjs';
import type { Observable } from 'rxjs';
import { INTERACTION_KINDS } from '../protocol/events.js';
import type { InteractionKind } from '../protocol/events.js';
import { askHost } from './askHost.js';
import { named } from './internal/named.js';
import type { Policy, PolicyRequest } from './types.js';

/** A policy per request kind, for {@link byKind}. */
export type PoliciesByKind = { readonly [K in InteractionKind]?: Policy };

/**
 * Routes each request to the policy for its kind; kinds without one go to `fallback`.
 *
 * Each policy is subscribed once and sees only the requests of its kind; `fallback` sees all
 * the other kinds together.
 *
 * ## Example
 * ```ts
 * const policy = byKind({ permission: allowTools(['read'], denyAll()), question: askHost(askUser) });
 * ```
 *
 * @param routes The policy for each kind.
 * @param fallback Policy for the kinds not in `routes`; default {@link askHost}() (left to the host).
 * @return A policy.
 * @see {@link chain}
 */
export function byKind(routes: PoliciesByKind, fallback: Policy = askHost()): Policy {
  const routed = INTERACTION_KINDS.filter((kind) => routes[kind] !== undefined);
  const unrouted = new Set<InteractionKind>(INTERACTION_KINDS.filter((kind) => routes[kind] === undefined));
  return named(`byKind(${routed.join(', ')})`, (request$: Observable<PolicyRequest>) =>
    request$.pipe(
      connect((shared$) =>
        merge(
          ...routed.map((kind) =>
            shared$.pipe(
              filter(({ request }) => request.kind === kind),
              routes[kind] as Policy,
            ),
          ),
          shared$.pipe(
            filter(({ request }) => unrouted.has(request.kind)),
            fallback,
          ),
        ),
      ),
    ),
  );
}
