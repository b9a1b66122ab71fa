/**
 * The wire's `RunResult`: what `pidriver/browser`'s `prompt()` resolves with, revived from the
 * bridge's JSON, keeps every field a run result has (structured output, error codes, limits).
 */
import { describe, expect, it } from 'vitest';
import { UsageTotals } from '../../src/usage/UsageTotals.js';
import { RunResultWireSchema } from '../../src/wire/values.js';

describe('RunResultWireSchema', () => {
  it('keeps output, errorCode and limit, and revives usage', () => {
    const usage = UsageTotals.ZERO;
    const json = JSON.parse(JSON.stringify({ finalText: 'Done.', reason: 'completed', output: { city: 'Paris', population: 2_100_000 }, usage })) as unknown;
    const parsed = RunResultWireSchema.parse(json);
    expect(parsed).toEqual({ finalText: 'Done.', reason: 'completed', output: { city: 'Paris', population: 2_100_000 }, usage });
    expect(parsed.usage).toBeInstanceOf(UsageTotals);
    const limited = RunResultWireSchema.parse(
      JSON.parse(JSON.stringify({ finalText: '', reason: 'limit', limit: 'maxTurns', errorMessage: 'too many', usage })),
    );
    expect(limited).toMatchObject({ reason: 'limit', limit: 'maxTurns', errorMessage: 'too many' });
    const invalid = RunResultWireSchema.parse(
      JSON.parse(JSON.stringify({ finalText: '', reason: 'error', errorCode: 'structured_output_invalid', errorMessage: 'city: required', usage })),
    );
    expect(invalid).toMatchObject({ errorCode: 'structured_output_invalid' });
    expect(RunResultWireSchema.parse(JSON.parse(JSON.stringify({ finalText: 'x', reason: 'completed', usage })))).not.toHaveProperty('output');
  });
});
