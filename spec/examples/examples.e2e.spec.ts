/**
 * Runs every example in `examples/` (their exported `main`) against the real pi and the fake LLM,
 * so none rots: each must finish, print what its header promises, and leave no process behind.
 * They run concurrently (each has its own fake LLM and pi sessions; most of their time is pi
 * starting up). `examples/policies.spec.ts`, the user's own marble test, runs on its own.
 */
import { stripVTControlCharacters } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { main as demo } from '../../examples/demo.js';
import { main as manager } from '../../examples/manager.js';
import { main as mergeSessions } from '../../examples/merge-sessions.js';
import { main as policies } from '../../examples/policies.js';
import { main as streamToTerminal } from '../../examples/stream-to-terminal.js';
import { main as switchmapCancel } from '../../examples/switchmap-cancel.js';
import { main as tools } from '../../examples/tools.js';
import { descendantsOf } from '../../src/transport/processTree.js';
import { isProcessAlive, waitFor } from '../helpers/realPi.js';

/** Runs an example's `main` with a capturing writer; returns what it printed, colours stripped. */
async function output(main: (write: (text: string) => void) => Promise<void>, separator = ''): Promise<string> {
  const chunks: string[] = [];
  await main((text) => chunks.push(text));
  return stripVTControlCharacters(chunks.join(separator));
}
const lines = (main: (log: (line: string) => void) => Promise<void>) => output(main, '\n');

const liveChildren = () => descendantsOf(process.pid).filter(({ pid }) => isProcessAlive(pid));

afterAll(async () => {
  // Every example closes its sessions (`await using`) before main() resolves: no pi is left.
  // (pidriver's watchdog retires 5 s after the last pi is gone.)
  expect(await waitFor(() => liveChildren().length === 0, 30_000), `left behind: ${JSON.stringify(liveChildren())}`).toBe(true);
});

describe.concurrent('examples', () => {
  it('demo.ts streams a bash tool call and prints the usage', async () => {
    const text = await output(demo);
    expect(text).toMatch(/^pi \d+ is ready \(pi session .+, model fake\/fake-1\)/);
    expect(text).toContain('▶ bash');
    expect(text).toContain('hello from a real pi tool call');
    expect(text).toMatch(/usage: \d+ tokens/);
    expect(text).toContain("pi's own stats: 1 tool call(s)");
    expect(text).toMatch(/second run streamed \d+ deltas/);
  });

  it('stream-to-terminal.ts shows thinking, the tool call, its result and the usage', async () => {
    const text = await output(streamToTerminal);
    expect(text.split('\n')).toEqual([
      'The user wants their notes; I should read the file.',
      'Let me look.',
      expect.stringMatching(/^ {2}\[\d+ in, \d+ out, \$\d+\.\d{6}\]$/),
      '▶ read {"path":"notes.md"}',
      '◀ read: Ship the release on Friday.',
      'Got it.',
      'Your notes say: Ship the release on Friday.',
      expect.stringMatching(/^ {2}\[\d+ in/),
      expect.stringMatching(/^✔ completed, \d+ tokens in all$/),
      '',
    ]);
  });

  it('merge-sessions.ts keeps the first answer and cancels the losers', async () => {
    expect((await lines(mergeSessions)).split('\n')).toEqual([
      'winner: hare ("w0 w1 w2 ")',
      '  hare: completed',
      '  tortoise: cancelled',
      '  snail: cancelled',
    ]);
  });

  it('switchmap-cancel.ts: each new prompt cancels the previous run', async () => {
    expect((await lines(switchmapCancel)).split('\n')).toEqual([
      'answer: RxJS: events over time, composed with operators.',
      '  run 1: cancelled',
      '  run 2: cancelled',
      '  run 3: completed',
    ]);
  });

  it('manager.ts fans out, merges, and supersedes with switchMap', async () => {
    const text = await lines(manager);
    for (const id of ['alpha', 'beta', 'gamma']) {
      expect(text).toContain(`  ${id}: ${id} is done`);
      expect(text).toMatch(new RegExp(`^stopped: .*\\b${id}=closed\\b`, 'm'));
    }
    expect(text).toContain('alpha → completed: "the newer question wins"');
    expect(text).not.toContain('alpha → cancelled');
  });

  it('tools.ts: a host tool with progress, a typed structured result after an invalid one, a run stopped by maxTurns', async () => {
    const printed = (await lines(tools)).split('\n');
    const limit = printed.indexOf('3. run limit');
    expect(printed.slice(0, limit)).toEqual([
      '1. host tool',
      '  ▶ lookup_stock {"sku":"A-100"}',
      '  … checking the warehouse for A-100…',
      '  ◀ lookup_stock: 12 units of A-100',
      '  answer: Tool said: ["12 units of A-100"]',
      '  ▶ lookup_stock {"sku":"a100"}',
      expect.stringMatching(/^ {2}◀ lookup_stock \(error\): .*\bsku\b/),
      '2. structured output',
      '  ▶ submit_result {"sku":"A-100","units":"twelve","reorder":false}',
      expect.stringMatching(/^ {2}◀ submit_result \(error\): .*\bunits\b/),
      '  ▶ submit_result {"sku":"A-100","units":12,"reorder":false}',
      '  ◀ submit_result: Result recorded.',
      '  output: 12 units of A-100, reorder: false',
      '  reason: completed',
    ]);
    // The looping run: its tool calls (how far the third turn gets before the abort lands may vary), then its end.
    const looping = printed.slice(limit + 1, -2);
    expect(looping.slice(0, 6)).toEqual(
      Array.from({ length: 2 }, () => [
        '  ▶ lookup_stock {"sku":"B-200"}',
        '  … checking the warehouse for B-200…',
        '  ◀ lookup_stock: 0 units of B-200',
      ]).flat(),
    );
    for (const line of looping) expect(line).toMatch(/lookup_stock|B-200/);
    expect(printed.slice(-2)).toEqual(['  reason: limit, limit: maxTurns: the run used 3 turns (maxTurns: 2)', '  next run: completed, "Still here."']);
  });

  it('policies.ts: the CI policy denies, askHost and respond() allow', async () => {
    const text = await lines(policies);
    expect(text).toContain('safe-ci: file NOT created');
    expect(text).toContain('ask-host: file created');
    expect(text).toContain('respond: file created');
  });
});
