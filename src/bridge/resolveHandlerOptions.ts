import { PiConfigError } from '../errors.js';
import { isDuration } from '../rx/longTimer.js';
import type { SseLimits } from './SseConnection.js';
import type { SseTotalLimits } from './SseBudget.js';

/** Bounds of one stream, and of all the streams of a handler, with their defaults filled in. */
export interface ResolvedLimits {
  readonly stream: SseLimits;
  readonly total: SseTotalLimits;
  readonly maxBodyBytes: number;
}

/** The numeric options of `sessionHandler`, as given. */
export interface LimitOptions extends Partial<SseLimits>, Partial<SseTotalLimits> {
  readonly maxBodyBytes?: number;
}

export const DEFAULT_LIMITS: SseLimits & SseTotalLimits & { readonly maxBodyBytes: number } = {
  // A reconnecting client gets the whole replay window (10,000 events / 16 MiB by default) at
  // once: the bounds hold it twice over.
  maxBufferedBytes: 32 * 1024 * 1024,
  maxBufferedEvents: 20_000,
  // Four streams' worth of the per-stream bound: a handful of clients replaying the window at
  // once fit; a pile of clients that stopped reading does not pin more than this.
  maxTotalBufferedBytes: 128 * 1024 * 1024,
  maxStreams: 1_000,
  heartbeatMs: 15_000,
  dropGraceMs: 5_000,
  maxBodyBytes: 8 * 1024 * 1024,
};

/**
 * Fills in the defaults of the bounds and durations, and validates them.
 *
 * @param options What `sessionHandler` was given.
 * @return The bounds to use.
 * @throws {PiConfigError} naming the first bad field: a negative or NaN number, a heartbeat of 0.
 */
export function resolveLimits(options: LimitOptions): ResolvedLimits {
  const size = (field: 'maxBufferedBytes' | 'maxBufferedEvents' | 'maxTotalBufferedBytes' | 'maxStreams' | 'maxBodyBytes'): number => {
    const value = options[field] ?? DEFAULT_LIMITS[field];
    if (typeof value !== 'number' || !(value > 0)) throw invalidOption(field, `must be a number > 0 (Infinity: unbounded), got ${String(value)}`);
    return value;
  };
  const heartbeatMs = options.heartbeatMs === undefined ? DEFAULT_LIMITS.heartbeatMs : options.heartbeatMs;
  if (heartbeatMs !== null && !(isDuration(heartbeatMs) && heartbeatMs > 0)) {
    throw invalidOption('heartbeatMs', `must be milliseconds > 0, Infinity or null (no heartbeat), got ${String(heartbeatMs)}`);
  }
  const dropGraceMs = options.dropGraceMs ?? DEFAULT_LIMITS.dropGraceMs;
  if (!isDuration(dropGraceMs)) throw invalidOption('dropGraceMs', `must be milliseconds >= 0 or Infinity, got ${String(dropGraceMs)}`);
  return {
    stream: { maxBufferedBytes: size('maxBufferedBytes'), maxBufferedEvents: size('maxBufferedEvents'), heartbeatMs, dropGraceMs },
    total: { maxTotalBufferedBytes: size('maxTotalBufferedBytes'), maxStreams: size('maxStreams') },
    maxBodyBytes: size('maxBodyBytes'),
  };
}

/**
 * The error of an invalid `sessionHandler` option.
 *
 * @param field The option.
 * @param problem What is wrong with it (never its value, when that is a secret).
 * @return A `PiConfigError` naming it.
 */
export function invalidOption(field: string, problem: string): PiConfigError {
  return new PiConfigError(`sessionHandler option ${field} ${problem}`, { field });
}
