/**
 * The vocabulary of run limits: what a run may use ({@link RunLimits}), which limit a run went past
 * ({@link LimitName}) and by how much ({@link LimitBreach}), and the check of user input
 * ({@link validateRunLimits}).
 */
import * as z from 'zod';
import { isDuration } from '../rx/longTimer.js';
import { parseLimits } from './parseLimits.js';

/**
 * What one run may use before pidriver aborts it (it then ends with `reason: 'limit'`). Every
 * field is optional; a missing one, or `Infinity`, is no limit. A limit is *exceeded* when the run
 * goes past it: more than `maxTurns` turns, more than `maxTokens` tokens, more than `maxCostUsd`
 * dollars, longer than the stall allowance without an event.
 *
 * ## Example
 * ```ts
 * await client.start({ cwd, limits: { maxTurns: 20, maxCostUsd: 0.5, stallTimeoutMs: 60_000 } });
 * await session.prompt('Just rename the file', { limits: { maxTurns: 2 } }); // per prompt: wins
 * ```
 *
 * @see {@link watchRunLimits}
 */
export interface RunLimits {
  /**
   * How many LLM turns one run may take: a turn is one assistant message and the tool calls it
   * makes (a `turn_start` event). The run is stopped when turn `maxTurns + 1` starts. An integer
   * `>= 0`.
   */
  readonly maxTurns?: number;
  /** How many tokens one run may use: the sum of its `usage` events' `totalTokens` (input, output, cache read and write). */
  readonly maxTokens?: number;
  /** How much one run may cost, in US dollars: the sum of its `usage` events' `costUsd`, as pi prices them. */
  readonly maxCostUsd?: number;
  /**
   * How long a run may go without an event, in ms (a stuck provider, a hung stream). Every event
   * restarts the wait. Not counted as a stall: the time a tool runs (see `toolStallTimeoutMs`), a
   * request waiting for the host's answer, a retry's announced delay. Any duration waits in full
   * (none is cut short at 2³¹ ms).
   */
  readonly stallTimeoutMs?: number;
  /**
   * How long a run may go without an event while a tool runs (between a `tool_start` and its
   * `tool_end`, any of several parallel tools) or pi compacts the context, in ms. Default
   * `10 × stallTimeoutMs`; set alone, it limits tools only.
   */
  readonly toolStallTimeoutMs?: number;
}

/** The names of the {@link RunLimits}, in the order a run's limits are checked. */
export const LIMIT_NAMES = ['maxTurns', 'maxTokens', 'maxCostUsd', 'stallTimeoutMs', 'toolStallTimeoutMs'] as const;

/**
 * Which limit a run (or a budget) went past. A run stuck while a tool runs names
 * `toolStallTimeoutMs`, so a hung tool tells itself apart from a stalled model.
 */
export type LimitName = (typeof LIMIT_NAMES)[number];

/**
 * A limit a run (or a budget) went past: what `watchRunLimits` and `budget` emit, what a run
 * ended as `limit` names, what a `PiLimitError` carries.
 *
 * ## Example
 * ```ts
 * { limit: 'maxTurns', max: 2, actual: 3, message: 'the run used 3 turns (maxTurns: 2)' }
 * ```
 */
export interface LimitBreach {
  /** The limit. */
  readonly limit: LimitName;
  /** Its value: the turns, tokens, dollars or ms allowed. */
  readonly max: number;
  /** What was used when it was noticed (turns, tokens, dollars, or ms without an event); more than `max`. */
  readonly actual: number;
  /** Says so in words, e.g. `the run used 3 turns (maxTurns: 2)`. */
  readonly message: string;
}

const NO_LIMIT = ' (or Infinity: no limit)';
const isNumber = (value: unknown): value is number => typeof value === 'number' && !Number.isNaN(value);
const count = z.custom<number>((value) => isNumber(value) && value >= 0 && (Number.isInteger(value) || value === Infinity), {
  message: `must be an integer >= 0${NO_LIMIT}`,
});
const amount = z.custom<number>((value) => isNumber(value) && value >= 0, { message: `must be a number >= 0${NO_LIMIT}` });
const duration = z.custom<number>((value) => isDuration(value) && value > 0, { message: `must be a number of ms > 0${NO_LIMIT}` });

/**
 * The schema of {@link RunLimits} (unknown fields are rejected); {@link validateRunLimits} applies it.
 * @internal
 */
export const RunLimitsSchema = z.strictObject({
  maxTurns: count.optional(),
  maxTokens: amount.optional(),
  maxCostUsd: amount.optional(),
  stallTimeoutMs: duration.optional(),
  toolStallTimeoutMs: duration.optional(),
});

/**
 * Checks limits given by a user: every value a number `>= 0` (`Infinity`: no limit), turns an
 * integer, durations `> 0`, no unknown field. `undefined` is no limits.
 *
 * ## Example
 * ```ts
 * validateRunLimits({ maxTurns: 2.5 }, 'limits'); // throws PiConfigError: field 'limits.maxTurns'
 * ```
 *
 * @param limits What the user passed.
 * @param field Where it was passed, for the error (`limits`, `prompt options.limits`).
 * @return The limits, typed.
 * @throws {PiConfigError} naming the first bad field (`limits.maxTurns`), and listing every one in `issues`.
 */
export function validateRunLimits(limits: unknown, field: string): RunLimits {
  return parseLimits(RunLimitsSchema, limits, field);
}
