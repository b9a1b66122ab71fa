/**
 * Load through the real pi 0.73.1 CLI: 20 concurrent sessions in one PiSessionManager on the
 * bundled fake LLM, 5 runs each, every run with tool calls (a bash call, or two parallel ones)
 * approved through pidriver's approval extension by an `autoApprove()` policy.
 *
 * For every session: `seq` runs 1…N with no gap or repeat (nothing lost or duplicated, and N is
 * the session's own `eventCount`), every `tool_start` has exactly one later `tool_end` with its
 * id, every run's final text is exact (in the RunResult, the `agent_end` event and the deltas),
 * and afterwards no process is left: not pi (by pid) and not anything it started (no process
 * has its cwd under the sessions' directories).
 *
 * It takes about 20-30 s on a 2-core machine, most of it pi's own startup and tool spawns.
 */
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PiSessionManager } from '../../src/manager/PiSessionManager.js';
import { autoApprove } from '../../src/policies/autoApprove.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import type { RunResult } from '../../src/protocol/sessionValues.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import { isProcessAlive, waitFor } from '../helpers/realPi.js';
import { collectUnhandled } from './fakePi.js';

const SESSIONS = 20;
const RUNS = 5;

const unhandled = collectUnhandled();
let env: FakePiEnv;
let root: string;

beforeAll(async () => {
  unhandled.install();
  env = await startFakePiEnv();
  root = mkdtempSync(join(tmpdir(), 'pidriver-load-'));
});

afterAll(async () => {
  unhandled.uninstall();
  await env.close();
  rmSync(root, { recursive: true, force: true });
});

/** Run `r` of session `s`: the prompt, its exact final text, and the tool calls it makes. */
function plan(s: number, r: number): { prompt: string; finalText: string; toolCalls: number } {
  if (r === 2) return { prompt: `scenario:tool-two s${s}`, finalText: 'Tool said: ["a\\n","b\\n"]', toolCalls: 2 };
  const word = `s${s}-r${r}`;
  return { prompt: `scenario:tool-bash [[cmd:echo ${word}]]`, finalText: `Tool said: ["${word}\\n"]`, toolCalls: 1 };
}

/** Pids of live processes whose working directory is under `dir`. */
function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if ((cwd === dir || cwd.startsWith(dir + sep)) && isProcessAlive(pid)) pids.push(pid);
    } catch {
      // gone, or not ours
    }
  }
  return pids;
}

type Of<T extends PiEvent['type']> = Extract<PiEvent, { type: T }>;

/** Splits a session's events into runs (agent_start … agent_end). */
function runsOf(events: readonly PiEvent[]): PiEvent[][] {
  const runs: PiEvent[][] = [];
  for (const event of events) {
    if (event.type === 'agent_start') runs.push([]);
    runs.at(-1)?.push(event);
  }
  return runs;
}

/** Checks one run's events: tools paired, approvals asked, deltas and agent_end agree with the final text. */
function checkRun(events: readonly PiEvent[], expected: ReturnType<typeof plan>, where: string): void {
  expect(events[0]?.type, where).toBe('agent_start');
  expect(events.at(-1)?.type, where).toBe('agent_end');
  const starts = events.filter((event): event is Of<'tool_start'> => event.type === 'tool_start');
  const ends = events.filter((event): event is Of<'tool_end'> => event.type === 'tool_end');
  expect(starts, where).toHaveLength(expected.toolCalls);
  expect(ends.map((end) => end.toolCallId).sort(), where).toEqual(starts.map((start) => start.toolCallId).sort());
  for (const start of starts) {
    const end = ends.find((candidate) => candidate.toolCallId === start.toolCallId);
    expect(end && end.seq > start.seq, `${where}: ${start.toolCallId} ends after it starts`).toBe(true);
    expect(end?.isError, `${where}: ${start.toolCallId} ran`).toBe(false);
  }
  expect(
    events.filter((event) => event.type === 'interaction_request'),
    where,
  ).toHaveLength(expected.toolCalls);
  // The last assistant message's deltas concatenate to exactly the final text.
  const lastStart = events.findLastIndex((event) => event.type === 'turn_start');
  const lastDeltas = events
    .slice(lastStart)
    .filter((event): event is Of<'message_delta'> => event.type === 'message_delta' && event.channel === 'assistant')
    .map((event) => event.text)
    .join('');
  expect(lastDeltas, where).toBe(expected.finalText);
  expect(events.at(-1), where).toMatchObject({ type: 'agent_end', reason: 'completed', finalText: expected.finalText });
}

describe('load through the real pi CLI', () => {
  it(`${SESSIONS} concurrent sessions × ${RUNS} runs with tool calls: nothing lost, duplicated or left behind`, async () => {
    const client = new PiClient({ config: env.config, policy: autoApprove() });
    const manager = new PiSessionManager({ factory: (options) => client.start(options), maxSessions: SESSIONS, idleTimeoutMs: null });
    const recorded = new Map<string, { events: PiEvent[]; failure: unknown }>();
    const pids: number[] = [];
    try {
      const sessions = await Promise.all(
        Array.from({ length: SESSIONS }, async (_, s): Promise<PiSession> => {
          const cwd = join(root, `s${s}`);
          mkdirSync(cwd);
          const session = await manager.create({ cwd, sessionId: `s${s}` });
          pids.push(session.pid!);
          // No run has started yet, so this subscriber sees every event from seq 1.
          const record = { events: [] as PiEvent[], failure: undefined as unknown };
          recorded.set(session.sessionId, record);
          session.events$.subscribe({ next: (event) => record.events.push(event), error: (error: unknown) => (record.failure = error) });
          return session;
        }),
      );
      expect(manager.size).toBe(SESSIONS);

      const results: RunResult[][] = await Promise.all(
        sessions.map(async (session, s) => {
          const own: RunResult[] = [];
          for (let r = 0; r < RUNS; r++) own.push(await session.prompt(plan(s, r).prompt));
          return own;
        }),
      );

      sessions.forEach((session, s) => {
        const { events, failure } = recorded.get(session.sessionId)!;
        expect(failure, session.sessionId).toBeUndefined();
        expect(results[s]?.map((result) => result.finalText)).toEqual(Array.from({ length: RUNS }, (_, r) => plan(s, r).finalText));
        expect(results[s]?.every((result) => result.reason === 'completed')).toBe(true);
        // No event lost or duplicated: seq is exactly 1…N, and N is what the session counted.
        expect(events.map((event) => event.seq)).toEqual(Array.from({ length: events.length }, (_, index) => index + 1));
        expect(events.length).toBe(session.state.eventCount);
        expect(events.every((event) => event.sessionId === session.sessionId)).toBe(true);
        const runs = runsOf(events);
        expect(runs).toHaveLength(RUNS);
        runs.forEach((run, r) => checkRun(run, plan(s, r), `${session.sessionId} run ${r}`));
      });

      const stopped = await manager.stopAll({ timeoutMs: 10_000 });
      expect(stopped.map((result) => result.status)).toEqual(Array.from({ length: SESSIONS }, () => 'closed'));
    } finally {
      await manager.stopAll({ timeoutMs: 10_000 }).catch(() => undefined);
    }
    expect(pids).toHaveLength(SESSIONS);
    expect(await waitFor(() => pids.every((pid) => !isProcessAlive(pid)))).toBe(true);
    expect(await waitFor(() => processesUnder(root).length === 0)).toBe(true);
    expect(await unhandled.flush()).toEqual([]);
  });
});
