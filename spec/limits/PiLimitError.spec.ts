import { describe, expect, expectTypeOf, it } from 'vitest';
import { isPiDriverError, PiDriverError, PiLimitError } from '../../src/errors.js';
import type { LimitBreach } from '../../src/limits/RunLimits.js';

describe('PiLimitError', () => {
  const breach: LimitBreach = { limit: 'maxCostUsd', max: 10, actual: 10.5, message: '$10.50 spent, past the budget (maxCostUsd: 10)' };

  it('is a PiDriverError with code PI_LIMIT that carries the breach', () => {
    const error = new PiLimitError(breach);
    expect(error).toBeInstanceOf(PiDriverError);
    expect(isPiDriverError(error)).toBe(true);
    expect(error.name).toBe('PiLimitError');
    expect(error.code).toBe('PI_LIMIT');
    expect(error.breach).toBe(breach);
    expect(error.message).toBe('Limit exceeded: $10.50 spent, past the budget (maxCostUsd: 10)');
  });

  it('keeps its breach the shape of LimitBreach (errors.ts repeats it to import nothing)', () => {
    expectTypeOf<PiLimitError['breach']>().toEqualTypeOf<LimitBreach>();
  });
});
