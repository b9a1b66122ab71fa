/**
 * Crash recovery (`restart`) of a whole session in TestScheduler virtual time: fake pi processes
 * on the TestScheduler die when the test says so, and the session starts a new one on the same
 * session file after its backoff (doubled per restart within the window), until the restarts in
 * the window are used up. The same `PiSession` lives on: `events$` goes on with gap-free `seq`
 * and a `session_restarted` event, `state$` goes `restarting` → `idle`, `pid` changes.
 *
 * Marbles: `r` a `session_restarted` event (its `attempt`), `#` `events$` erroring; statuses as letters.
 */
import { distinctUntilChanged, filter, map, type Observable } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { PiConfig } from '../../src/config/PiConfig.js';
import { PiRestartedError, TransportClosedError } from '../../src/errors.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiSession } from '../../src/session/PiSession.js';
import type { RestartOptions } from '../../src/session/restartPolicy.js';
import type { RunResult, SessionStatus } from '../../src/session/types.js';
import { FakeTransport, type SentCommand } from '../../src/testing/FakeTransport.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

const config = PiConfig.parse({ requestTimeoutMs: 1_000, startTimeoutMs: 1_000, session: true });
const SESSION_FILE = '/agent/sessions/--work--/2026-12-08_pi-session-1.jsonl';

const STATUS: Record<SessionStatus, string> = { starting: 's', idle: 'i', running: 'r', restarting: 'R', closing: 'c', closed: 'x' };

/** A pi 0.73 that knows its session file: a prompt starts a run and a bash tool that never ends. */
function pi073(command: SentCommand, pi: FakeTransport): void {
  switch (command.type) {
    case 'get_state':
      pi.reply(command, {
        isStreaming: false,
        isCompacting: false,
        sessionId: 'pi-session-1',
        sessionFile: SESSION_FILE,
        messageCount: 0,
        pendingMessageCount: 0,
      });
      return;
    case 'prompt':
      pi.reply(command);
      pi.emitFrame({ type: 'agent_start' });
      if (command['message'] === 'tool') {
        pi.emitFrame({ type: 'tool_execution_start', toolCallId: 't1', toolName: 'bash', args: { command: 'sleep 1d' } });
      } else {
        pi.emitFrame({ type: 'message_end', message: { role: 'assistant', content: [{ type: 'text', text: 'ok' }], stopReason: 'stop' } });
        pi.emitFrame({ type: 'agent_end', messages: [] });
      }
      return;
    default:
      FakeTransport.defaultResponder(command, pi);
  }
}

interface Fleet {
  readonly session: PiSession;
  /** Every process the session started, the first one first. */
  readonly processes: FakeTransport[];
  /** The session file each restart was asked to resume. */
  readonly resumed: (string | undefined)[];
}

/** A session started at frame 0 whose processes are fakes on the TestScheduler (pids 100, 101, …). */
function restartingSession(
  scheduler: TestScheduler,
  cold: (marbles: string) => Observable<string>,
  restart: RestartOptions | boolean,
  options: { readonly restartsHang?: boolean } = {},
): Fleet {
  const processes: FakeTransport[] = [];
  const resumed: (string | undefined)[] = [];
  const spawn = () => {
    const respond = options.restartsHang && processes.length > 0 ? () => undefined : pi073;
    const transport = new FakeTransport({ scheduler, respond, pid: 100 + processes.length });
    processes.push(transport);
    return transport;
  };
  const session = new PiSession({
    sessionId: 's1',
    transport: spawn(),
    config,
    cwd: '/work',
    scheduler,
    nonce: 'test-nonce',
    restart,
    respawn: (sessionFile) => {
      resumed.push(sessionFile);
      return spawn();
    },
  });
  cold('a').subscribe(() => void session.start());
  return { session, processes, resumed };
}

/** Kills the newest process at each of `frames`. */
function killAt(cold: (marbles: string) => Observable<string>, fleet: Fleet, frames: readonly number[]): void {
  for (const frame of frames) cold(`${frame}ms a`).subscribe(() => fleet.processes.at(-1)?.exit(null, 'SIGKILL'));
}

const restarts = (session: PiSession) =>
  session.events$.pipe(
    filter((event): event is Extract<PiEvent, { type: 'session_restarted' }> => event.type === 'session_restarted'),
    map((event) => event.attempt),
  );

const statuses = (session: PiSession) =>
  session.state$.pipe(
    map((state) => STATUS[state.status]),
    distinctUntilChanged(),
  );

describe('restart in virtual time', () => {
  it('restarts after backoffMs, doubled per restart within the window; one death too many ends the session', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const fleet = restartingSession(scheduler, cold, { maxRestarts: 3, backoffMs: 100, windowMs: 60_000 });
      // Deaths at 10, 120, 330, 740: restarts 100, 200, 400 ms after each; the fourth death is one too many.
      killAt(cold, fleet, [10, 120, 330, 740]);
      const error = new TransportClosedError('pi exited unexpectedly (killed by SIGKILL)', { exitCode: null, signal: 'SIGKILL', stderrTail: '' });
      expectObservable(restarts(fleet.session)).toBe('110ms a 209ms b 409ms c 9ms #', { a: 1, b: 2, c: 3 }, error);
      expectObservable(statuses(fleet.session)).toBe('(si) 6ms R 99ms i 9ms R 199ms i 9ms R 399ms i 9ms (x|)');
    });
  });

  it('restarts that lie further apart than windowMs are forgiven', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const fleet = restartingSession(scheduler, cold, { maxRestarts: 1, backoffMs: 10, windowMs: 1_000 });
      killAt(cold, fleet, [100, 1_200, 2_300]);
      expectObservable(restarts(fleet.session)).toBe('110ms a 1099ms b 1099ms c 689ms |', { a: 1, b: 2, c: 3 });
      cold('3000ms a').subscribe(() => void fleet.session.close());
    });
  });

  it('the same session lives on: gap-free seq, a new pid, the session file resumed, the run in flight failed, the next prompt runs', async () => {
    const scheduler = createTestScheduler();
    let fleet!: Fleet;
    let inFlight!: Promise<RunResult>;
    let next!: Promise<RunResult>;
    let aborted!: Promise<void>;
    const seen: PiEvent[] = [];
    const pids: (number | undefined)[] = [];
    scheduler.run(({ cold }) => {
      fleet = restartingSession(scheduler, cold, true);
      fleet.session.events$.subscribe({ next: (event) => seen.push(event), error: () => undefined });
      cold('5ms a').subscribe(() => {
        inFlight = fleet.session.prompt('tool');
        inFlight.catch(() => undefined);
        pids.push(fleet.session.pid);
      });
      killAt(cold, fleet, [20]);
      // Sent while pi restarts: a prompt waits for the new process; abort() has no run to abort.
      cold('500ms a').subscribe(() => {
        next = fleet.session.prompt('hello');
        next.catch(() => undefined);
        aborted = fleet.session.abort();
      });
      cold('2000ms a').subscribe(() => {
        pids.push(fleet.session.pid);
        void fleet.session.close();
      });
    });
    await expect(inFlight).rejects.toBeInstanceOf(PiRestartedError);
    await expect(inFlight).rejects.toMatchObject({ code: 'PI_RESTARTED', signal: 'SIGKILL' });
    await expect(next).resolves.toMatchObject({ reason: 'completed', finalText: 'ok' });
    await expect(aborted).resolves.toBeUndefined();
    expect(pids).toEqual([100, 101]);
    expect(fleet.resumed).toEqual([SESSION_FILE]);
    expect(seen.map((event) => event.seq)).toEqual(seen.map((_, index) => index + 1));
    expect(seen.map((event) => event.type)).toEqual([
      'agent_start',
      'tool_start',
      'error', // process_exited, not fatal
      'tool_end', // the tool pi was running when it died
      'agent_end',
      'session_restarted',
      'agent_start',
      'message_complete',
      'agent_end',
    ]);
    expect(seen[2]).toMatchObject({ type: 'error', code: 'process_exited', fatal: false });
    expect(seen[3]).toMatchObject({ type: 'tool_end', toolCallId: 't1', isError: true });
    expect(seen[4]).toMatchObject({ type: 'agent_end', reason: 'error', errorCode: 'process_exited' });
    expect(seen[5]).toMatchObject({ type: 'session_restarted', attempt: 1, signal: 'SIGKILL', exitCode: null, pid: 101, piSessionId: 'pi-session-1' });
    expect(fleet.session.state).toMatchObject({ status: 'closed', restarts: 1 });
    // The second process was asked for its state, then got the prompt (and a state check at its end).
    expect(fleet.processes[1]?.sent.map((command) => command.type)).toEqual(['get_state', 'prompt', 'get_state']);
  });

  it('close() during the backoff starts no process; close() during a restart closes the one starting', () => {
    const scheduler = createTestScheduler();
    let waiting!: Fleet;
    let starting!: Fleet;
    scheduler.run(({ cold, expectObservable }) => {
      waiting = restartingSession(scheduler, cold, { backoffMs: 1_000 });
      killAt(cold, waiting, [10]);
      cold('500ms a').subscribe(() => void waiting.session.close());
      expectObservable(statuses(waiting.session)).toBe('(si) 6ms R 489ms (cx|)');

      // A pi that never answers get_state once restarted: the restart is under way when close() comes.
      starting = restartingSession(scheduler, cold, { backoffMs: 10 }, { restartsHang: true });
      killAt(cold, starting, [10]);
      cold('50ms a').subscribe(() => void starting.session.close());
      expectObservable(statuses(starting.session)).toBe('(si) 6ms R 39ms (cx|)');
    });
    expect(waiting.processes).toHaveLength(1);
    expect(starting.processes).toHaveLength(2);
    expect(starting.processes[1]?.exitInfo).toBeDefined();
    expect(starting.session.state.status).toBe('closed');
  });

  it('a restart that fails to start counts as a restart: a pi that never comes back ends the session', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      // Restarted processes never answer get_state: each start fails after startTimeoutMs (1,000).
      const fleet = restartingSession(scheduler, cold, { maxRestarts: 2, backoffMs: 10 }, { restartsHang: true });
      killAt(cold, fleet, [10]);
      // Death at 10; start at 20 fails at 1020; start at 1040 (backoff doubled) fails at 2040: the end.
      expectObservable(statuses(fleet.session)).toBe('(si) 6ms R 2029ms (x|)');
      cold('2100ms a').subscribe(() => expect(fleet.processes.map((process) => process.exitInfo !== undefined)).toEqual([true, true, true]));
    });
  });

  it('open requests are withdrawn when pi dies', () => {
    const scheduler = createTestScheduler();
    let fleet!: Fleet;
    const pendingCounts: number[] = [];
    scheduler.run(({ cold }) => {
      fleet = restartingSession(scheduler, cold, { backoffMs: 10 });
      fleet.session.pending$.subscribe((pending) => pendingCounts.push(pending.length));
      cold('5ms a').subscribe(() =>
        fleet.processes[0]?.emitFrame({ type: 'extension_ui_request', id: 'q1', method: 'confirm', title: 'Allow bash?', message: 'rm -rf build' }),
      );
      killAt(cold, fleet, [10]);
      cold('100ms a').subscribe(() => void fleet.session.close());
    });
    expect(pendingCounts).toEqual([0, 1, 0]);
  });

  it('a session without restart ends at the first death, as before', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const fleet = restartingSession(scheduler, cold, false);
      killAt(cold, fleet, [10]);
      expectObservable(statuses(fleet.session)).toBe('(si) 6ms (x|)');
    });
  });
});
