import { describe, expect, it } from 'vitest';
import { PromptQueue, PromptTicket } from '../../src/session/PromptQueue.js';
import { UsageTotals } from '../../src/usage/UsageTotals.js';

describe('PromptQueue and PromptTicket', () => {
  it('keeps prompts in order; remove() takes one out if still waiting', () => {
    const queue = new PromptQueue();
    const [a, b, c] = ['a', 'b', 'c'].map((message) => new PromptTicket(message)) as [PromptTicket, PromptTicket, PromptTicket];
    queue.push(a);
    queue.push(b);
    queue.push(c);
    expect(queue.remove(b)).toBe(true);
    expect(queue.remove(b)).toBe(false);
    expect(queue.shift()).toBe(a);
    expect(queue.drain()).toEqual([c]);
    expect(queue.length).toBe(0);
  });

  it('refuse() rejects only `accepted` (a run that goes on settles the result); fail() rejects both', async () => {
    const going = new PromptTicket('x');
    going.refuse(new Error('late refusal'));
    const result = { finalText: 'done', reason: 'completed' as const, usage: UsageTotals.ZERO };
    going.settle(result);
    await expect(going.accepted).rejects.toThrow('late refusal');
    await expect(going.result).resolves.toBe(result);

    const failed = new PromptTicket('y');
    failed.fail(new Error('closed'));
    await expect(failed.accepted).rejects.toThrow('closed');
    await expect(failed.result).rejects.toThrow('closed');
  });
});
