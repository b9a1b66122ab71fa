import { filter, type OperatorFunction } from 'rxjs';
import type { PiEvent, PiEventOf, PiEventType } from '../protocol/events.js';

/**
 * Filters events by `type`, narrowing the type (like redux-observable's `ofType`).
 *
 * ## Example
 * ```ts
 * session.events$.pipe(ofType('message_delta')).subscribe((delta) => process.stdout.write(delta.text));
 * session.events$.pipe(ofType('tool_start', 'tool_end'));
 * ```
 *
 * @param types The event types to keep.
 * @return An operator that keeps only those events.
 */
export function ofType<T extends PiEventType>(...types: readonly T[]): OperatorFunction<PiEvent, PiEventOf<T>> {
  const wanted = new Set<PiEventType>(types);
  return filter((event): event is PiEventOf<T> => wanted.has(event.type));
}
