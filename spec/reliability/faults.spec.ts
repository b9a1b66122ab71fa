/**
 * Fault injection: a fake pi (spec/fixtures/fake-pi.mjs) misbehaves in one way per test. Each
 * test checks the typed error, that nothing hangs (every wait is event-driven and bounded),
 * that no process is left (by pid and by argv marker), and that no rejection or exception
 * went unhandled.
 */
import { filter, firstValueFrom, map, take, timeout, toArray } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PiConfig } from '../../src/config/PiConfig.js';
import { PiStartError, PiTimeoutError, TransportClosedError, type PiDriverError } from '../../src/errors.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { SubprocessTransport } from '../../src/transport/SubprocessTransport.js';
import type { TransportLine } from '../../src/transport/PiTransport.js';
import { cancel } from '../../src/policies/decisions.js';
import type { Policy } from '../../src/policies/types.js';
import { eventsUntilAgentEnd, isProcessAlive, joinedDeltas, nextEvent, waitFor, waitForExit } from '../helpers/realPi.js';
import { collectUnhandled, fakeConfig, record, Tracker } from './fakePi.js';

const unhandled = collectUnhandled();
const tracker = new Tracker();

beforeAll(() => unhandled.install());
afterAll(() => unhandled.uninstall());

afterEach(async () => {
  const left = await tracker.cleanUp();
  expect(left).toEqual({ leftPids: [], leftMarkers: [] });
  expect(await unhandled.flush()).toEqual([]);
});

const errorEvents = (events: readonly PiEvent[], code?: string) =>
  events.filter((event): event is Extract<PiEvent, { type: 'error' }> => event.type === 'error' && (code === undefined || event.code === code));

describe('fault injection with a fake pi', () => {
  it('sanity: the fake streams a run and closes by EOF', async () => {
    const session = await tracker.start('normal');
    const collected = eventsUntilAgentEnd(session.events$, 10_000);
    const result = await session.prompt('hello');
    expect(result).toMatchObject({ finalText: 'd0 d1 d2 ', reason: 'completed' });
    expect(joinedDeltas(await collected)).toBe('d0 d1 d2 ');
    const closed = await session.close();
    expect(closed.escalation).toBe('eof');
    expect(closed.exitCode).toBe(0);
  });

  it('exit mid-line: the half line is reported, events$ errors with TransportClosedError (exit 1), prompt rejects', async () => {
    const session = await tracker.start('exit-mid-line');
    const recorded = record(session);
    const run = session.prompt('go');
    const runError = await run.catch((error: unknown) => error);
    const { error } = await recorded.done;

    expect(error).toBeInstanceOf(TransportClosedError);
    expect((error as TransportClosedError).exitCode).toBe(1);
    expect(runError).toBeInstanceOf(TransportClosedError);
    const halfLine = errorEvents(recorded.events, 'invalid_line');
    expect(halfLine).toHaveLength(1);
    expect(halfLine[0]?.line).toContain('"type":"message_update"');
    expect(errorEvents(recorded.events, 'process_exited')).toMatchObject([{ fatal: true }]);
    expect(session.state.status).toBe('closed');
    expect(session.state.exit).toMatchObject({ exitCode: 1 });
  });

  it('kill -9 mid-run: events$ errors with signal SIGKILL; the run, a queued prompt, commands in flight and later ones reject', async () => {
    const session = await tracker.start('hang');
    const recorded = record(session);
    const run = session.prompt('go');
    run.catch(() => undefined);
    await nextEvent(session, 'message_delta', 10_000);
    const queued = session.prompt('next');
    queued.catch(() => undefined);
    const inFlight = session.command('fake_never');
    inFlight.catch(() => undefined);
    process.kill(session.pid!, 'SIGKILL');
    const { error } = await recorded.done;
    expect(error).toBeInstanceOf(TransportClosedError);
    expect((error as TransportClosedError).signal).toBe('SIGKILL');
    await expect(run).rejects.toBeInstanceOf(TransportClosedError);
    await expect(queued).rejects.toBeInstanceOf(TransportClosedError);
    await expect(inFlight).rejects.toBeInstanceOf(TransportClosedError);
    expect(session.state).toMatchObject({ status: 'closed', queuedPrompts: 0, exit: { signal: 'SIGKILL' } });
    await expect(session.getState()).rejects.toBeInstanceOf(TransportClosedError);
    await expect(session.prompt('again')).rejects.toBeInstanceOf(TransportClosedError);
    expect(await waitForExit(session.pid!)).toBe(true);
  });

  it("kill -9 while a detached grandchild runs (as pi's bash tool starts them): the orphan is reaped too", async () => {
    const session = await tracker.start('spawn-detached');
    const recorded = record(session);
    const run = session.prompt('go');
    run.catch(() => undefined);
    const grandchild = (await nextEvent(session, 'tool_start', 10_000)).arguments as { pid: number };
    expect(isProcessAlive(grandchild.pid)).toBe(true);
    process.kill(session.pid!, 'SIGKILL');
    const { error } = await recorded.done;
    expect(error).toBeInstanceOf(TransportClosedError);
    await expect(run).rejects.toBeInstanceOf(TransportClosedError);
    // The session reaps before it reports the death; the kill itself lands asynchronously.
    expect(await waitForExit(grandchild.pid)).toBe(true);
  });

  it('close() mid-run with a detached grandchild alive reaps the grandchild as well', async () => {
    const session = await tracker.start('spawn-detached');
    const run = session.prompt('go');
    run.catch(() => undefined);
    const grandchild = (await nextEvent(session, 'tool_start', 10_000)).arguments as { pid: number };
    const closed = await session.close();
    expect(closed.escalation).toBe('eof');
    await expect(run).rejects.toBeInstanceOf(TransportClosedError);
    expect(await waitForExit(grandchild.pid)).toBe(true);
  });

  it('SIGTERM ignored: close() escalates to SIGKILL after terminateTimeoutMs and reports it', async () => {
    const session = await tracker.start('ignore-term', { terminateTimeoutMs: 300 });
    const pid = session.pid!;
    const started = performance.now();
    const result = await session.close();
    const elapsed = performance.now() - started;
    expect(result.escalation).toBe('sigkill');
    expect(result.signal).toBe('SIGKILL');
    expect(result.stderrTail).toContain('ignoring SIGTERM');
    // EOF wait + SIGTERM wait, each terminateTimeoutMs; generous upper bound for a loaded CI box.
    expect(elapsed).toBeGreaterThanOrEqual(590);
    expect(elapsed).toBeLessThan(10_000);
    expect(isProcessAlive(pid)).toBe(false);
    expect(session.state.status).toBe('closed');
  });

  it('stdout closed while the process lives: the session ends with TransportClosedError and pi is reaped', async () => {
    const session = await tracker.start('close-stdout');
    const recorded = record(session);
    const run = session.prompt('go');
    const runError = await run.catch((error: unknown) => error);
    const { error } = await recorded.done;
    expect(runError).toBeInstanceOf(TransportClosedError);
    expect(error).toBeInstanceOf(TransportClosedError);
    expect((error as Error).message).toMatch(/closed its stdout/);
    expect(await waitForExit(session.pid!)).toBe(true);
    expect(session.state.status).toBe('closed');
  });

  it('a 10 MB stderr flood (at start and mid-run) does not deadlock, and the stderr tail stays bounded', async () => {
    let stderrLines = 0;
    const session = await tracker.start('stderr-flood', {}, { client: { onStderr: () => stderrLines++ } });
    const result = await session.prompt('go');
    expect(result.finalText).toBe('d0 d1 d2 ');
    const closed = await session.close();
    expect(closed.escalation).toBe('eof');
    // 2 × 10 MB of 100-byte lines went through onStderr; the tail kept at most 8 KiB of it.
    // (stderr is read to its end after the exit; wait for the last of it, bounded)
    expect(await waitFor(() => stderrLines === 200_000)).toBe(true);
    expect(closed.stderrTail.length).toBeGreaterThan(0);
    expect(closed.stderrTail.length).toBeLessThanOrEqual(8 * 1024);
  });

  it('write after death: commands after pi exited reject with TransportClosedError', async () => {
    const session = await tracker.start('exit-on-prompt');
    const recorded = record(session);
    const runError = await session.prompt('die').catch((error: unknown) => error);
    expect(runError).toBeInstanceOf(TransportClosedError);
    expect((runError as TransportClosedError).exitCode).toBe(3);
    await recorded.done;
    await expect(session.command('get_state')).rejects.toBeInstanceOf(TransportClosedError);
    await expect(session.getState()).rejects.toBeInstanceOf(TransportClosedError);
    await expect(session.steer('late')).rejects.toBeInstanceOf(TransportClosedError);
  });

  it('EPIPE: a write to a pi that closed its stdin rejects with TransportClosedError (transport level)', async () => {
    const { config, marker } = fakeConfig('close-stdin', { terminateTimeoutMs: 300 });
    tracker.markers.push(marker);
    const transport = new SubprocessTransport(PiConfig.parse(config), { cwd: process.cwd() });
    const uiRequest = firstValueFrom(
      transport.lines$.pipe(
        filter((line: TransportLine): line is string => typeof line === 'string' && line.includes('extension_ui_request')),
        timeout(10_000),
      ),
    );
    await transport.start();
    tracker.pids.push(transport.pid!);
    await transport.send({ id: 'p1', type: 'prompt', message: 'go' });
    await uiRequest; // written after the fake closed fd 0
    const first = await transport.send({ type: 'extension_ui_response', id: 'ui-1', cancelled: true }).catch((error: unknown) => error);
    expect(first).toBeInstanceOf(TransportClosedError);
    expect(((first as Error).cause as NodeJS.ErrnoException | undefined)?.code).toBe('EPIPE');
    await expect(transport.send({ type: 'get_state' })).rejects.toBeInstanceOf(TransportClosedError);
    const closed = await transport.close();
    expect(['sigterm', 'sigkill']).toContain(closed.escalation);
  });

  it('EPIPE on a host answer: respond() rejects with TransportClosedError (cause EPIPE), nothing goes unhandled', async () => {
    const session = await tracker.start('close-stdin', { terminateTimeoutMs: 300 });
    const run = session.prompt('go');
    run.catch(() => undefined);
    const request = await nextEvent(session, 'interaction_request', 10_000); // written after the fake closed fd 0
    const error = await session.respond(request.requestId, true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportClosedError);
    expect(((error as Error).cause as NodeJS.ErrnoException | undefined)?.code).toBe('EPIPE');
    expect(session.pending).toEqual([]); // withdrawn, not left open
    await expect(session.getState()).rejects.toBeInstanceOf(TransportClosedError);
    const closed = await session.close();
    expect(['sigterm', 'sigkill']).toContain(closed.escalation);
  });

  it('a 10 MB single line is delivered as one event under the default maxLineBytes', async () => {
    const session = await tracker.start('big-line');
    const collected = eventsUntilAgentEnd(session.events$, 30_000);
    const result = await session.prompt('go');
    const deltas = (await collected).filter((event) => event.type === 'message_delta').map((event) => event.text.length);
    expect(deltas).toEqual([10_000_000, 4]);
    expect(result.finalText).toBe('tail');
  });

  it('a line over maxLineBytes becomes a line_too_long error event and the session goes on', async () => {
    const session = await tracker.start('big-line', { maxLineBytes: 1_000_000 });
    const collected = eventsUntilAgentEnd(session.events$, 30_000);
    const result = await session.prompt('go');
    const events = await collected;
    const tooLong = errorEvents(events, 'line_too_long');
    expect(tooLong).toHaveLength(1);
    expect(tooLong[0]).toMatchObject({ fatal: false });
    expect(tooLong[0]?.message).toMatch(/10000\d{3}-byte line/);
    expect(joinedDeltas(events)).toBe('tail');
    expect(result.finalText).toBe('tail');
    await expect(session.getState()).resolves.toMatchObject({ sessionId: 'fake' });
  });

  it('an agent_end frame over maxLineBytes still ends the run (the dropped line head says agent_end)', async () => {
    const session = await tracker.start('big-line', { maxLineBytes: 1_000_000, env: { FAKE_PI_BIG_FINAL: '1' } });
    const run = session.prompt('go');
    run.catch(() => undefined);
    // The fake answers in order, so once this get_state is answered the oversize agent_end has
    // been read: had the session recognised it, its own settle check would have run first.
    await firstValueFrom(
      session.events$.pipe(
        filter((event) => event.type === 'error' && event.code === 'line_too_long' && (event.line ?? '').startsWith('{"type":"agent_end"')),
        timeout(30_000),
      ),
    );
    await session.getState();
    await session.getState();
    expect(session.state.status).toBe('idle');
  });

  it('invalid UTF-8 bytes become U+FFFD in the text, and a garbage line an invalid_line error event', async () => {
    const session = await tracker.start('bad-utf8');
    const collected = eventsUntilAgentEnd(session.events$, 10_000);
    const result = await session.prompt('go');
    const events = await collected;
    expect(joinedDeltas(events)).toBe('a\ufffd\ufffd\ufffdbok');
    expect(errorEvents(events, 'invalid_line')).toHaveLength(1);
    expect(result.finalText).toBe('a\ufffd\ufffd\ufffdbok');
  });

  it('a reply to an unknown id is an unmatched_response error event', async () => {
    const session = await tracker.start('normal');
    const stray = nextEvent(session, 'error', 10_000);
    const pending = session.command('fake_stray');
    pending.catch(() => undefined); // never answered under its own id; rejected at close
    const event = await stray;
    expect(event).toMatchObject({ code: 'unmatched_response', fatal: false });
    expect(event.message).toMatch(/id stray-/);
    await expect(session.getState()).resolves.toMatchObject({ sessionId: 'fake' });
  });

  it('duplicate ids: the first reply resolves the command, the second is reported, not double-resolved', async () => {
    const session = await tracker.start('normal');
    const errors = firstValueFrom(
      session.events$.pipe(
        filter((event) => event.type === 'error'),
        take(1),
        toArray(),
        timeout(10_000),
      ),
    );
    const data = await session.command('fake_dup');
    expect(data).toEqual({ n: 1 });
    const [duplicate] = await errors;
    expect(duplicate).toMatchObject({ type: 'error', code: 'unmatched_response', fatal: false });
    await expect(session.getState()).resolves.toMatchObject({ sessionId: 'fake' });
  });

  it('a command that is never answered rejects with PiTimeoutError after requestTimeoutMs', async () => {
    const session = await tracker.start('normal', { requestTimeoutMs: 300 });
    const error = await session.command('fake_never').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PiTimeoutError);
    expect((error as PiTimeoutError).timeoutMs).toBe(300);
    await expect(session.getState()).resolves.toMatchObject({ sessionId: 'fake' });
  });

  it('1,000 concurrent commands, answered out of order, each resolve with their own data', async () => {
    const session = await tracker.start('normal', { env: { FAKE_PI_REVERSE: '1' } });
    const results = (await Promise.all(Array.from({ length: 1_000 }, (_, tag) => session.command('get_state', { tag })))) as {
      echo: { id: string; tag: number };
    }[];
    expect(results.map((result) => result.echo.tag)).toEqual(Array.from({ length: 1_000 }, (_, tag) => tag));
    expect(new Set(results.map((result) => result.echo.id)).size).toBe(1_000);
  });

  it('1,000 commands in flight when pi is killed all reject with TransportClosedError; none hangs', async () => {
    const session = await tracker.start('normal');
    const recorded = record(session);
    const pending = Array.from({ length: 1_000 }, (_, index) => session.command(index % 2 === 0 ? 'fake_never' : 'fake_stray'));
    for (const command of pending) command.catch(() => undefined);
    await session.getState(); // every command above has been written and read by the fake
    process.kill(session.pid!, 'SIGKILL');
    const outcomes = await Promise.allSettled(pending);
    expect(outcomes.every((outcome) => outcome.status === 'rejected' && outcome.reason instanceof TransportClosedError)).toBe(true);
    expect((await recorded.done).error).toBeInstanceOf(TransportClosedError);
  });

  it('pi exits before it is ready: PiStartError with the exit code and the stderr tail', async () => {
    const error = await tracker.startFailing('exit-early');
    expect(error).toBeInstanceOf(PiStartError);
    expect((error as PiStartError).exitCode).toBe(1);
    expect((error as PiStartError).stderrTail).toMatch(/cannot start \(exit-early\)/);
  });

  it('pi never answers get_state: start() fails with a typed error within startTimeoutMs', async () => {
    const started = performance.now();
    const error = await tracker.startFailing('no-ready', { startTimeoutMs: 300 });
    expect(performance.now() - started).toBeLessThan(10_000);
    // #startError passes PiDriverErrors through, so the timeout arrives as PiTimeoutError.
    expect(error instanceof PiStartError || error instanceof PiTimeoutError).toBe(true);
    expect((error as PiDriverError).message).toMatch(/get_state|start/);
  });

  it('the mode can also be chosen by argv (--fake-mode=…), which wins over the env var', async () => {
    const session = await tracker.start('normal', { extraArgs: ['--fake-mode=exit-on-prompt'] });
    await expect(session.prompt('x')).rejects.toBeInstanceOf(TransportClosedError);
  });
});

describe('fault injection: failed writes nobody awaits', () => {
  // PiSession writes a policy's decision without a caller to reject (#answerQuietly); a write
  // that fails (pi closed its stdin: EPIPE) must not become an unhandled rejection. (This was a
  // bug once: a bare `void this.#answer(…)`.)
  const answerEverything: Policy = (request$) => request$.pipe(map(({ request }) => ({ requestId: request.requestId, decision: cancel() })));

  it('a policy answer that fails to write (EPIPE) is not an unhandled rejection', async () => {
    const session = await tracker.start('close-stdin', { terminateTimeoutMs: 300 }, { client: { policy: answerEverything } });
    const run = session.prompt('go');
    run.catch(() => undefined);
    await nextEvent(session, 'interaction_request', 10_000);
    await session.close();
    const seen = await unhandled.flush(); // take them, so the afterEach check stays meaningful for other tests
    expect(seen).toEqual([]);
  });
});
