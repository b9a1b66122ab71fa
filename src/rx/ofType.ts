import { filter, type OperatorFunction } from 'rxjs';

/**
 * Filters values by `type`, narrowing their type (like redux-observable's `ofType`). It works on
 * any stream of values tagged by a string `type`: a session's `events$`, a manager's `events$`
 * (sessions' events and notices), `prompt$()`.
 *
 * ## Example
 * ```ts
 * session.events$.pipe(ofType('message_delta')).subscribe((delta) => process.stdout.write(delta.text));
 * session.events$.pipe(ofType('tool_start', 'tool_end'));
 * ```
 *
 * @param types The types to keep.
 * @return An operator that keeps only the values of those types.
 */
export function ofType<E extends { readonly type: string }, T extends E['type']>(
  ...types: readonly T[]
): OperatorFunction<E, Extract<E, { readonly type: T }>> {
  const wanted = new Set<string>(types);
  return filter((value): value is Extract<E, { readonly type: T }> => wanted.has(value.type));
}
