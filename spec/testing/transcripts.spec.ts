/**
 * Golden tests: every recorded transcript (`spec/fixtures/transcripts/*.jsonl`, pi 0.73 and
 * omp 18.2, and `spec/fixtures/transcripts/*.jsonl`, pi 1.5 and pi 0.73 with pidriver's approval
 * extension, recorded by `spec/dialects/recordFixtures.ts`) replays through `PiClient` +
 * `replayTranscript`, driven the way it was recorded, and the session's normalized events must
 * equal `spec/golden/<name>.json`.
 *
 * `UPDATE_GOLDEN=1 npx vitest run spec/testing/transcripts.spec.ts` rewrites the golden files.
 *
 * Determinism: the session runs on a `VirtualTimeScheduler` that is never flushed, so its timers
 * (request timeouts, dialog timeouts) never fire; the replay releases records one macrotask
 * apart; every recorded `in` is sent once the replay is idle. Each transcript is replayed twice
 * and both runs must agree.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { DecisionInput } from '../../src/policies/types.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import type { RunResult } from '../../src/protocol/sessionValues.js';
import type { SentCommand } from '../../src/testing/FakeTransport.js';
import { snapshotEvents } from '../../src/testing/normalizeTranscript.js';
import { replayTranscript } from '../../src/testing/replayTranscript/replayTranscript.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURES = join(repo, 'spec', 'fixtures', 'transcripts');
const LOCAL_FIXTURES = join(repo, 'spec', 'fixtures', 'transcripts');
const GOLDEN = join(repo, 'spec', 'golden');
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';

/** One recorded `in` line and what the driver did for it. */
interface Step {
  /** Index of the `in` record (or the `close stdin` note) in the transcript. */
  readonly record: number;
  /** The recorded command without its id (`close` for a `close stdin` note). */
  readonly command: Record<string, unknown>;
  /** The session method used. */
  readonly call: string;
  /** False when the session had not written it by the time the recording did (the replay then skipped it). */
  sent: boolean;
  outcome: string;
}

interface Golden {
  readonly transcript: string;
  start: string;
  readonly steps: Step[];
  events: Record<string, unknown>[];
  end: string;
  state: Record<string, unknown> | undefined;
  /** What the session wrote, in order (its own ids). */
  sent: string[];
  deviations: unknown[];
}

const cut = (text: string, max = 160): string => (text.length > max ? `${text.slice(0, max)}…(+${text.length - max} chars)` : text);

const describeError = (error: unknown): string => (error instanceof Error ? `${error.name}: ${cut(error.message, 400)}` : `thrown: ${cut(String(error))}`);

function describeResult(call: string, value: unknown): string {
  if (call === 'prompt') {
    const result = value as RunResult;
    return `run ${result.reason}: ${JSON.stringify(cut(result.finalText))}${result.errorMessage ? ` (${cut(result.errorMessage)})` : ''}`;
  }
  if (typeof value === 'object' && value !== null) return `ok {${Object.keys(value).join(', ')}}`;
  return value === undefined ? 'ok' : `ok ${cut(JSON.stringify(value))}`;
}

/** The recorded answer to a dialog as a `respond()` value. */
function decisionOf(command: Record<string, unknown>): DecisionInput {
  if (command['cancelled'] === true) return undefined;
  if (typeof command['confirmed'] === 'boolean') return command['confirmed'];
  if (typeof command['value'] === 'string') return command['value'];
  return undefined;
}

/** The session call equivalent to a recorded command. */
function actionFor(session: PiSession, command: SentCommand): { call: string; run: () => Promise<unknown> } {
  const { id, type, ...fields } = command;
  const message = fields['message'];
  const onlyMessage = Object.keys(fields).every((key) => key === 'message');
  switch (type) {
    case 'prompt':
      if (typeof message === 'string' && onlyMessage) return { call: 'prompt', run: () => session.prompt(message) };
      break;
    case 'steer':
      if (typeof message === 'string' && onlyMessage) return { call: 'steer', run: () => session.steer(message) };
      break;
    case 'follow_up':
      if (typeof message === 'string' && onlyMessage) return { call: 'followUp', run: () => session.followUp(message) };
      break;
    case 'abort':
      return { call: 'abort', run: () => session.abort() };
    case 'extension_ui_response':
      return { call: 'respond', run: () => session.respond(String(id), decisionOf(fields)) };
    default:
      break;
  }
  return { call: 'command', run: () => session.command(type, fields) };
}

const nextMacrotask = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Replays one transcript through a session and returns what the session did. */
async function replayGolden(path: string, name: string): Promise<Golden> {
  const replay = replayTranscript(path);
  const client = new PiClient({ transportFactory: replay.transportFactory, scheduler: new VirtualTimeScheduler() });
  const golden: Golden = { transcript: name, start: 'ok', steps: [], events: [], end: 'open', state: undefined, sent: [], deviations: [] };
  const finish = () => {
    golden.sent = replay.sent.map((command) => cut(JSON.stringify(command)));
    golden.deviations = replay.deviations.map((deviation) => ('line' in deviation ? { ...deviation, line: cut(deviation.line) } : deviation));
    return golden;
  };

  let session: PiSession;
  try {
    session = await client.start({ cwd: repo, approve: 'none', sessionId: 'golden' });
  } catch (error) {
    golden.start = describeError(error);
    golden.end = `exit ${JSON.stringify(await replay.exited)}`;
    return finish();
  }

  const events: PiEvent[] = [];
  const ended = new Promise<void>((resolve) => {
    session.events$.subscribe({
      next: (event) => events.push(event),
      error: (error: unknown) => {
        golden.end = `error: ${describeError(error)}`;
        resolve();
      },
      complete: () => {
        golden.end = 'complete';
        resolve();
      },
    });
  });

  const outcomes: Promise<void>[] = [];
  for (;;) {
    const gate = await replay.idle();
    if (gate.kind === 'end') break;
    if (gate.kind === 'eof') {
      const step: Step = { record: gate.index, command: { type: 'close' }, call: 'close', sent: true, outcome: 'pending' };
      golden.steps.push(step);
      const result = await session.close();
      step.outcome = `exit ${result.exitCode} ${result.signal} (${result.escalation})`;
      break;
    }
    const { id: _id, ...recorded } = gate.command;
    const { call, run } = actionFor(session, gate.command);
    const step: Step = { record: gate.index, command: recorded, call, sent: true, outcome: 'pending' };
    golden.steps.push(step);
    outcomes.push(
      Promise.resolve()
        .then(run)
        .then(
          (value) => void (step.outcome = describeResult(call, value)),
          (error: unknown) => void (step.outcome = describeError(error)),
        ),
    );
    await nextMacrotask();
    const after = replay.gate;
    if (after.kind === 'in' && after.index === gate.index) {
      replay.skip();
      step.sent = false;
    }
  }

  // pi exited on its own (a signal, a crash): the session must notice and end by itself.
  const gate = replay.gate;
  if (gate.kind === 'end' && gate.exit) await Promise.race([ended, sleep(2_000)]);
  await session.close();
  await ended;
  await Promise.all(outcomes);
  golden.events = snapshotEvents(events);
  const state = session.state;
  golden.state = { status: state.status, runs: state.runs, piSessionId: state.piSessionId, model: state.model, exit: state.exit };
  return finish();
}

const transcriptsIn = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((file) => file.endsWith('.jsonl'))
        .sort()
    : [];
// The recorded transcripts (copied from the shared fixtures) and our own recordings live together.
const transcripts = [...new Set([...transcriptsIn(FIXTURES), ...transcriptsIn(LOCAL_FIXTURES)])];
const pathOf = (file: string): string => (existsSync(join(LOCAL_FIXTURES, file)) ? join(LOCAL_FIXTURES, file) : join(FIXTURES, file));

describe('golden transcripts (replayTranscript + PiClient)', () => {
  if (transcripts.length === 0) {
    it.skip(`no transcripts in ${FIXTURES}: golden replay tests skipped`, () => undefined);
    return;
  }

  it.each(transcripts)('%s', async (file) => {
    const name = file.replace(/\.jsonl$/, '');
    const path = pathOf(file);
    const first = JSON.parse(JSON.stringify(await replayGolden(path, file))) as Golden;
    const second = JSON.parse(JSON.stringify(await replayGolden(path, file))) as Golden;
    expect(second, 'two replays of the same transcript differ: the golden would be flaky').toEqual(first);

    const goldenPath = join(GOLDEN, `${name}.json`);
    if (UPDATE) {
      mkdirSync(GOLDEN, { recursive: true });
      writeFileSync(goldenPath, `${JSON.stringify(first, null, 2)}\n`);
      return;
    }
    if (!existsSync(goldenPath)) throw new Error(`no golden file ${goldenPath}: run UPDATE_GOLDEN=1 npx vitest run spec/testing/transcripts.spec.ts`);
    expect(first).toEqual(JSON.parse(readFileSync(goldenPath, 'utf8')));
  });
});
