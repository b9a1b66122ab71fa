import { UsageTotals } from '../usage/UsageTotals.js';
import type { ManagedSession } from './ManagedSession.js';

/** A change of the manager's registry. @internal */
export type SessionsAction<S> = { readonly type: 'add'; readonly session: S } | { readonly type: 'remove'; readonly sessionId: string };

/** The registry after `action`: a new map (`sessions$` emits immutable snapshots). @internal */
export function reduceSessions<S extends ManagedSession>(state: ReadonlyMap<string, S>, action: SessionsAction<S>): ReadonlyMap<string, S> {
  const next = new Map(state);
  if (action.type === 'add') next.set(action.session.sessionId, action.session);
  else next.delete(action.sessionId);
  return next;
}

/** The sum of every session's latest usage. @internal */
export function sumUsage(usage: ReadonlyMap<number, UsageTotals>): UsageTotals {
  let total = UsageTotals.ZERO;
  for (const totals of usage.values()) total = total.add(totals);
  return total;
}
