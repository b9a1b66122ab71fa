import { filter, map, take } from 'rxjs';
import type { OperatorFunction } from 'rxjs';
import type { UsageTotals } from '../usage/UsageTotals.js';
import { formatUsd } from './formatUsd.js';
import { parseLimits } from './parseLimits.js';
import { RunLimitsSchema, type LimitBreach, type RunLimits } from './RunLimits.js';

/** The limits of a {@link budget}: tokens and dollars, over many runs and sessions. */
export type BudgetLimits = Pick<RunLimits, 'maxTokens' | 'maxCostUsd'>;

const BudgetLimitsSchema = RunLimitsSchema.pick({ maxTokens: true, maxCostUsd: true });

/**
 * Watches running usage totals for a budget: emits one {@link LimitBreach} when they go past
 * `maxTokens` or `maxCostUsd` (checked in that order), then completes.
 *
 * The source is cumulative: each value is everything used so far (as `manager.usage$` emits it, or a
 * `scan` of `usage` events you grouped your own way, e.g. per tenant). A source that completes
 * first completes it with no value; its errors are passed on. A `PiSessionManager` with `limits`
 * applies one to its `usage$` itself.
 *
 * ## Example
 * ```ts
 * // A budget per tenant, over the sessions of one manager.
 * manager.events$.pipe(
 *   ofType('usage'),
 *   groupBy((event) => tenantOf(event.sessionId)),
 *   mergeMap((tenant$) => tenant$.pipe(
 *     scan((total, event) => total.add(event.totals), UsageTotals.ZERO),
 *     budget({ maxCostUsd: 5 }),
 *     map((breach) => ({ tenant: tenant$.key, breach })),
 *   )),
 * ).subscribe(({ tenant, breach }) => suspend(tenant, breach.message));
 * ```
 *
 * @param limits `maxTokens` and `maxCostUsd`; a missing one, or `Infinity`, is no limit.
 * @return An operator from running totals to at most one breach.
 * @throws {PiConfigError} naming the bad field (`limits.maxCostUsd`) when `limits` are invalid.
 * @see {@link watchRunLimits}
 */
export function budget(limits: BudgetLimits): OperatorFunction<Pick<UsageTotals, 'totalTokens' | 'costUsd'>, LimitBreach> {
  const { maxTokens = Infinity, maxCostUsd = Infinity } = parseLimits(BudgetLimitsSchema, limits, 'limits');
  return (usage$) =>
    usage$.pipe(
      map(({ totalTokens, costUsd }): LimitBreach | undefined => {
        if (totalTokens > maxTokens) {
          return { limit: 'maxTokens', max: maxTokens, actual: totalTokens, message: `${totalTokens} tokens used, past the budget (maxTokens: ${maxTokens})` };
        }
        if (costUsd > maxCostUsd) {
          return {
            limit: 'maxCostUsd',
            max: maxCostUsd,
            actual: costUsd,
            message: `${formatUsd(costUsd)} spent, past the budget (maxCostUsd: ${maxCostUsd})`,
          };
        }
        return undefined;
      }),
      filter((found): found is LimitBreach => found !== undefined),
      take(1),
    );
}
