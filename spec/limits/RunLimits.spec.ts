import { describe, expect, expectTypeOf, it } from 'vitest';
import { PiConfigError } from '../../src/errors.js';
import { LIMIT_NAMES, validateRunLimits } from '../../src/limits/RunLimits.js';
import type { LimitName, RunLimits } from '../../src/limits/RunLimits.js';
import { MAX_TIMER_MS } from '../../src/rx/longTimer.js';

/** The PiConfigError `validateRunLimits` throws. */
function rejection(limits: unknown, field = 'limits'): PiConfigError {
  try {
    validateRunLimits(limits, field);
  } catch (error) {
    expect(error).toBeInstanceOf(PiConfigError);
    return error as PiConfigError;
  }
  throw new Error(`accepted ${JSON.stringify(limits)}`);
}

describe('validateRunLimits', () => {
  it('accepts limits, Infinity (no limit) and durations past 2^31 ms, and drops undefined fields', () => {
    const limits = { maxTurns: 0, maxTokens: 1500.5, maxCostUsd: 0.25, stallTimeoutMs: MAX_TIMER_MS * 3, toolStallTimeoutMs: Infinity };
    expect(validateRunLimits(limits, 'limits')).toEqual(limits);
    expect(validateRunLimits({ maxTurns: Infinity, maxTokens: Infinity, maxCostUsd: Infinity, stallTimeoutMs: Infinity }, 'limits')).toEqual({
      maxTurns: Infinity,
      maxTokens: Infinity,
      maxCostUsd: Infinity,
      stallTimeoutMs: Infinity,
    });
    expect(validateRunLimits({ maxTurns: undefined }, 'limits')).toEqual({});
    expect(validateRunLimits(undefined, 'limits')).toEqual({});
    expect(validateRunLimits({}, 'limits')).toEqual({});
  });

  it.each([
    [{ maxTurns: -1 }, 'limits.maxTurns', 'must be an integer >= 0 (or Infinity: no limit), got -1'],
    [{ maxTurns: 2.5 }, 'limits.maxTurns', 'must be an integer >= 0 (or Infinity: no limit), got 2.5'],
    [{ maxTurns: Number.NaN }, 'limits.maxTurns', 'must be an integer >= 0 (or Infinity: no limit), got NaN'],
    [{ maxTurns: '3' }, 'limits.maxTurns', 'must be an integer >= 0 (or Infinity: no limit), got "3"'],
    [{ maxTokens: -5 }, 'limits.maxTokens', 'must be a number >= 0 (or Infinity: no limit), got -5'],
    [{ maxCostUsd: Number.NaN }, 'limits.maxCostUsd', 'must be a number >= 0 (or Infinity: no limit), got NaN'],
    [{ maxCostUsd: -Infinity }, 'limits.maxCostUsd', 'must be a number >= 0 (or Infinity: no limit), got -Infinity'],
    [{ stallTimeoutMs: 0 }, 'limits.stallTimeoutMs', 'must be a number of ms > 0 (or Infinity: no limit), got 0'],
    [{ stallTimeoutMs: -1 }, 'limits.stallTimeoutMs', 'must be a number of ms > 0 (or Infinity: no limit), got -1'],
    [{ toolStallTimeoutMs: Number.NaN }, 'limits.toolStallTimeoutMs', 'must be a number of ms > 0 (or Infinity: no limit), got NaN'],
    [{ maxTurn: 3 }, 'limits.maxTurn', 'is not a limit (unknown field)'],
    [null, 'limits', 'must be an object, got null'],
    [5, 'limits', 'must be an object, got 5'],
    [[1], 'limits', 'must be an object, got an array'],
    [{ maxTurns: {} }, 'limits.maxTurns', 'must be an integer >= 0 (or Infinity: no limit), got an object'],
  ])('rejects %j naming %s', (limits, field, message) => {
    const error = rejection(limits);
    expect(error.field).toBe(field);
    expect(error.code).toBe('PI_CONFIG_INVALID');
    expect(error.issues[0]).toEqual({ path: field, message });
    expect(error.message).toBe(`Invalid ${field}: ${message}`);
  });

  it('names the field the limits were passed in, and lists every bad one', () => {
    const error = rejection({ maxTurns: -1, maxCostUsd: -1, extra: true }, 'options.limits');
    expect(error.field).toBe('options.limits.maxTurns');
    expect(error.issues.map((issue) => issue.path).sort()).toEqual(['options.limits.extra', 'options.limits.maxCostUsd', 'options.limits.maxTurns']);
  });

  it('LimitName: every field of RunLimits', () => {
    expectTypeOf<LimitName>().toEqualTypeOf<keyof RunLimits>();
    expect(LIMIT_NAMES).toEqual(['maxTurns', 'maxTokens', 'maxCostUsd', 'stallTimeoutMs', 'toolStallTimeoutMs']);
  });
});
