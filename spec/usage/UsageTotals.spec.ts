import { describe, expect, it } from 'vitest';
import { UsageTotals } from '../../src/usage/UsageTotals.js';

describe('UsageTotals', () => {
  it('reads both pi usage shapes and adds them', () => {
    const message = UsageTotals.fromAssistantUsage({ input: 60, output: 2, cacheRead: 40, cacheWrite: 0, cost: { total: 0.000068 } });
    const stats = UsageTotals.fromSessionStats({ tokens: { input: 120, output: 4, cacheRead: 80, cacheWrite: 0 }, cost: 0.000136 });
    expect(message.totalTokens).toBe(102);
    const sum = message.add(stats);
    expect(sum.toJSON()).toEqual({
      inputTokens: 180,
      outputTokens: 6,
      cacheReadTokens: 120,
      cacheWriteTokens: 0,
      totalTokens: 306,
      costUsd: 0.000068 + 0.000136,
    });
    expect(Object.isFrozen(sum)).toBe(true);
  });

  it('treats missing values as zero and replaces cost with withCost', () => {
    expect(UsageTotals.fromAssistantUsage(undefined).isZero).toBe(true);
    expect(UsageTotals.fromSessionStats({ tokens: null }).totalTokens).toBe(0);
    const withCost = UsageTotals.fromSessionStats({ tokens: { input: 1 } }).withCost(0.42);
    expect(withCost.costUsd).toBe(0.42);
    expect(withCost.inputTokens).toBe(1);
    expect(UsageTotals.fromJSON(withCost.toJSON()).equals(withCost)).toBe(true);
  });
});
