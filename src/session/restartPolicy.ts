import { PiConfigError } from '../errors.js';

/**
 * How a session restarts pi when it dies on its own (`client.start({ restart })`). The session
 * starts pi again on the same pi session file, so the conversation goes on with its history.
 */
export interface RestartOptions {
  /** Restarts allowed within `windowMs`; the next death ends the session as without `restart`. Default 3. */
  readonly maxRestarts?: number;
  /** The wait before a restart, doubled for each earlier restart within `windowMs` (at most 30 s). Default 1,000. */
  readonly backoffMs?: number;
  /** The window restarts are counted in, in ms: older ones are forgiven. Default 60,000. */
  readonly windowMs?: number;
}

/** {@link RestartOptions} with every field set. @internal */
export interface RestartPolicy {
  readonly maxRestarts: number;
  readonly backoffMs: number;
  readonly windowMs: number;
}

/** The longest wait before a restart, whatever the backoff doubled to. */
const MAX_BACKOFF_MS = 30_000;

/**
 * Checks `restart` and fills in the defaults: `true` is the defaults, `false` / `undefined` no
 * restarts.
 *
 * @throws {PiConfigError} naming the bad field (`restart.backoffMs`).
 * @internal
 */
export function resolveRestart(input: RestartOptions | boolean | undefined): RestartPolicy | undefined {
  if (input === undefined || input === false) return undefined;
  const options: unknown = input === true ? {} : input;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new PiConfigError('restart must be true, false or { maxRestarts?, backoffMs?, windowMs? }', { field: 'restart' });
  }
  const fields = options as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!['maxRestarts', 'backoffMs', 'windowMs'].includes(key)) throw new PiConfigError(`restart has no field "${key}"`, { field: `restart.${key}` });
  }
  return {
    maxRestarts: count(fields, 'maxRestarts', 3),
    backoffMs: count(fields, 'backoffMs', 1_000),
    windowMs: count(fields, 'windowMs', 60_000),
  };
}

/**
 * The wait before the next restart, or `undefined` when the restarts within the window are used up.
 *
 * @param policy The restart policy.
 * @param attempts Clock times of the earlier restarts (failed ones too).
 * @param now The clock time of the death.
 * @internal
 */
export function nextRestartDelay(policy: RestartPolicy, attempts: readonly number[], now: number): number | undefined {
  const recent = attempts.filter((time) => now - time < policy.windowMs).length;
  if (recent >= policy.maxRestarts) return undefined;
  return Math.min(policy.backoffMs * 2 ** recent, Math.max(MAX_BACKOFF_MS, policy.backoffMs));
}

function count(fields: Record<string, unknown>, key: string, fallback: number): number {
  const value = fields[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new PiConfigError(`restart.${key} must be a non-negative integer, got ${JSON.stringify(value) ?? typeof value}`, { field: `restart.${key}` });
  }
  return value;
}
