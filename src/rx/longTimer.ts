import { NEVER, asyncScheduler, concatMap, defer, map, timer, type Observable, type SchedulerLike } from 'rxjs';

/**
 * The longest delay a JavaScript timer keeps: Node and browsers store it in 32 bits, so
 * `setTimeout(f, 2 ** 31)` fires after 1 ms. Every pidriver timer goes through {@link longTimer}.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Like RxJS `timer(ms, scheduler)`, but right for every duration: a delay longer than
 * {@link MAX_TIMER_MS} is waited out in steps instead of firing at once, and `Infinity` never
 * fires. Emits `0` once and completes.
 *
 * @param ms Milliseconds, `>= 0` (or `Infinity`).
 * @param scheduler Time source; default `asyncScheduler` (virtualised by `TestScheduler.run`).
 * @internal
 */
export function longTimer(ms: number, scheduler: SchedulerLike = asyncScheduler): Observable<0> {
  if (ms === Infinity) return NEVER;
  if (ms <= MAX_TIMER_MS) return timer(Math.max(0, ms), scheduler);
  return defer(() => timer(MAX_TIMER_MS, scheduler)).pipe(
    concatMap(() => longTimer(ms - MAX_TIMER_MS, scheduler)),
    map(() => 0 as const),
  );
}

/**
 * Whether `value` is a duration {@link longTimer} can wait: a non-negative number of
 * milliseconds, or `Infinity`. Not NaN, not negative.
 * @internal
 */
export function isDuration(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && !Number.isNaN(value) && (Number.isFinite(value) || value === Infinity);
}
