/**
 * CommandChannel: correlating commands with pi's responses by id (pi answers out of order,
 * and pi 0.73 drops the id from some failures). Timeouts are RxJS timers, so these tests run them in virtual time.
 */
import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { PiCommandError, PiTimeoutError, TransportClosedError } from '../../src/errors.js';
import type { PiCommand } from '../../src/protocol/commands.js';
import type { ResponseFrame } from '../../src/protocol/frames.js';
import { CommandChannel } from '../../src/session/CommandChannel.js';

type Written = PiCommand & { readonly id: string };

/** A channel over a recording writer and a virtual clock that only moves when the test says so. */
function setup(options: { timeoutMs?: number | null; idPrefix?: string; write?: (command: PiCommand) => Promise<void> } = {}) {
  const scheduler = new VirtualTimeScheduler();
  const written: Written[] = [];
  const channel = new CommandChannel({
    write:
      options.write ??
      ((command) => {
        written.push(command as Written);
        return Promise.resolve();
      }),
    timeoutMs: options.timeoutMs === undefined ? 1_000 : options.timeoutMs,
    scheduler,
    ...(options.idPrefix === undefined ? {} : { idPrefix: options.idPrefix }),
  });
  /** Runs every timer due at or before `ms` (virtual time). */
  const advanceTo = (ms: number) => {
    scheduler.maxFrames = ms;
    scheduler.flush();
  };
  return { channel, scheduler, written, advanceTo };
}

const ok = (id: string | undefined, command: string, data?: unknown): ResponseFrame => ({
  type: 'response',
  success: true,
  command,
  ...(id === undefined ? {} : { id }),
  ...(data === undefined ? {} : { data }),
});

const failure = (id: string | undefined, command: string | undefined, error: string, data?: unknown): ResponseFrame => ({
  type: 'response',
  success: false,
  error,
  ...(id === undefined ? {} : { id }),
  ...(command === undefined ? {} : { command }),
  ...(data === undefined ? {} : { data }),
});

/** Settles a promise into a value for synchronous-looking assertions. */
const outcome = (promise: Promise<unknown>) =>
  promise.then(
    (value) => ({ status: 'resolved' as const, value }),
    (error: unknown) => ({ status: 'rejected' as const, error }),
  );

/** Lets queued microtasks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('CommandChannel', () => {
  describe('id correlation', () => {
    it('writes each command with a fresh id and resolves with the data of the response carrying that id', async () => {
      const { channel, written } = setup();
      const state = channel.request({ type: 'get_state' });
      const stats = channel.request({ type: 'get_session_stats' });
      expect(written.map((command) => command.type)).toEqual(['get_state', 'get_session_stats']);
      const [first, second] = written;
      expect(first?.id).not.toBe(second?.id);
      expect(channel.size).toBe(2);

      expect(channel.handleResponse(ok(first!.id, 'get_state', { isStreaming: false }))).toBe(true);
      expect(channel.handleResponse(ok(second!.id, 'get_session_stats', { cost: 1 }))).toBe(true);
      await expect(state).resolves.toEqual({ isStreaming: false });
      await expect(stats).resolves.toEqual({ cost: 1 });
      expect(channel.size).toBe(0);
    });

    it('keeps the fields of the command and prefixes ids with idPrefix', () => {
      const { channel, written } = setup({ idPrefix: 's7-' });
      void channel.request({ type: 'set_model', provider: 'fake', modelId: 'fake-1' }).catch(() => undefined);
      void channel.request({ type: 'abort' }).catch(() => undefined);
      expect(written).toEqual([
        { type: 'set_model', provider: 'fake', modelId: 'fake-1', id: expect.stringMatching(/^s7-/) },
        { type: 'abort', id: expect.stringMatching(/^s7-/) },
      ]);
      channel.rejectAll(new Error('test over'));
    });

    it('resolves with undefined for a success without data', async () => {
      const { channel, written } = setup();
      const abort = channel.request({ type: 'abort' });
      channel.handleResponse(ok(written[0]!.id, 'abort'));
      await expect(abort).resolves.toBeUndefined();
    });

    it('matches replies that come out of order (pi runs commands concurrently)', async () => {
      const { channel, written } = setup();
      const requests = ['prompt', 'get_messages', 'get_session_stats', 'bash'].map((type) => channel.request({ type }));
      // pi answers a fast command sent after a slow one first; `bash` answers last.
      for (const index of [1, 2, 0, 3]) {
        const command = written[index]!;
        channel.handleResponse(ok(command.id, command.type, { answered: command.type }));
      }
      await expect(Promise.all(requests)).resolves.toEqual([
        { answered: 'prompt' },
        { answered: 'get_messages' },
        { answered: 'get_session_stats' },
        { answered: 'bash' },
      ]);
    });

    it('rejects with PiCommandError (command, error, data) on success: false', async () => {
      const { channel, written } = setup();
      const setModel = channel.request({ type: 'set_model', provider: 'x', modelId: 'y' });
      channel.handleResponse(failure(written[0]!.id, 'set_model', 'Model not found: x/y', { tried: ['x/y'] }));
      const error = await setModel.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PiCommandError);
      expect(error).toMatchObject({ command: 'set_model', error: 'Model not found: x/y', data: { tried: ['x/y'] } });
    });

    it('names the pending command type when a failure has no command field', async () => {
      const { channel, written } = setup();
      const compact = channel.request({ type: 'compact' });
      channel.handleResponse(failure(written[0]!.id, undefined, 'boom'));
      await expect(compact).rejects.toMatchObject({ command: 'compact', error: 'boom' });
    });

    it('returns false for a response that matches nothing: unknown id, duplicate, id-less success', async () => {
      const { channel, written } = setup();
      const state = channel.request({ type: 'get_state' });
      expect(channel.handleResponse(ok('nobody', 'get_state'))).toBe(false);
      expect(channel.handleResponse(ok(undefined, 'get_state'))).toBe(false);
      expect(channel.size).toBe(1);
      expect(channel.handleResponse(ok(written[0]!.id, 'get_state', 1))).toBe(true);
      expect(channel.handleResponse(ok(written[0]!.id, 'get_state', 2))).toBe(false);
      await expect(state).resolves.toBe(1);
    });
  });

  describe('id-less failures (pi 0.73 unknown command)', () => {
    it('fail the oldest pending command of that type, one per failure', async () => {
      const { channel } = setup();
      const first = outcome(channel.request({ type: 'frobnicate' }));
      const other = outcome(channel.request({ type: 'get_state' }));
      const second = outcome(channel.request({ type: 'frobnicate' }));

      expect(channel.handleResponse(failure(undefined, 'frobnicate', 'Unknown command: frobnicate'))).toBe(true);
      expect(channel.size).toBe(2);
      const firstResult = await first;
      expect(firstResult).toMatchObject({ status: 'rejected', error: { command: 'frobnicate', error: 'Unknown command: frobnicate' } });
      expect((firstResult as { error: unknown }).error).toBeInstanceOf(PiCommandError);

      expect(channel.handleResponse(failure(undefined, 'frobnicate', 'Unknown command: frobnicate'))).toBe(true);
      await expect(second).resolves.toMatchObject({ status: 'rejected' });
      expect(channel.size).toBe(1); // get_state is still waiting for its own answer
      channel.rejectAll(new Error('test over'));
      await expect(other).resolves.toMatchObject({ status: 'rejected', error: { message: 'test over' } });
    });

    it('match nothing when no command of that type is pending, or when the failure names no command', () => {
      const { channel } = setup();
      void channel.request({ type: 'get_state' }).catch(() => undefined);
      // A malformed line: pi answers `command: "parse"` without an id.
      expect(channel.handleResponse(failure(undefined, 'parse', 'Failed to parse command: Unexpected token'))).toBe(false);
      expect(channel.handleResponse(failure(undefined, undefined, 'mystery'))).toBe(false);
      expect(channel.size).toBe(1);
      channel.rejectAll(new Error('test over'));
    });

    it('prefer the id when a failure carries one', async () => {
      const { channel, written } = setup();
      const older = outcome(channel.request({ type: 'bash', command: 'a' }));
      const newer = outcome(channel.request({ type: 'bash', command: 'b' }));
      channel.handleResponse(failure(written[1]!.id, 'bash', 'second failed'));
      await expect(newer).resolves.toMatchObject({ status: 'rejected', error: { error: 'second failed' } });
      expect(channel.size).toBe(1);
      channel.handleResponse(ok(written[0]!.id, 'bash', { exitCode: 0 }));
      await expect(older).resolves.toEqual({ status: 'resolved', value: { exitCode: 0 } });
    });
  });

  describe('timeouts (virtual time)', () => {
    it('rejects with PiTimeoutError when no response arrives within timeoutMs, not before', async () => {
      const { channel, advanceTo } = setup({ timeoutMs: 1_000 });
      let settled = false;
      const pending = outcome(channel.request({ type: 'get_messages' })).finally(() => (settled = true));
      advanceTo(999);
      await settle();
      expect(settled).toBe(false);
      expect(channel.size).toBe(1);

      advanceTo(1_000);
      const result = await pending;
      expect(result.status).toBe('rejected');
      const error = (result as { error: unknown }).error;
      expect(error).toBeInstanceOf(PiTimeoutError);
      expect(error).toMatchObject({ timeoutMs: 1_000, operation: 'pi command "get_messages"' });
      expect(channel.size).toBe(0);
    });

    it('takes a per-command timeout, and null waits forever', async () => {
      const { channel, scheduler, written, advanceTo } = setup({ timeoutMs: 1_000 });
      const quick = outcome(channel.request({ type: 'abort' }, { timeoutMs: 50 }));
      const patient = outcome(channel.request({ type: 'compact' }, { timeoutMs: null }));
      advanceTo(50);
      await expect(quick).resolves.toMatchObject({ status: 'rejected', error: { timeoutMs: 50 } });
      scheduler.maxFrames = Number.POSITIVE_INFINITY;
      scheduler.flush();
      expect(scheduler.frame).toBe(50); // no timer is left for the patient command
      expect(channel.size).toBe(1);
      channel.handleResponse(ok(written[1]!.id, 'compact', { summary: 's' }));
      await expect(patient).resolves.toEqual({ status: 'resolved', value: { summary: 's' } });
    });

    it('waits forever when the default timeout is null', () => {
      const { channel, scheduler } = setup({ timeoutMs: null });
      void channel.request({ type: 'get_state' }).catch(() => undefined);
      scheduler.flush();
      expect(scheduler.actions).toHaveLength(0);
      expect(channel.size).toBe(1);
      channel.rejectAll(new Error('test over'));
    });

    it('cancels the timer once the response arrives', async () => {
      const { channel, scheduler, written } = setup({ timeoutMs: 1_000 });
      const state = channel.request({ type: 'get_state' });
      expect(scheduler.actions).toHaveLength(1);
      channel.handleResponse(ok(written[0]!.id, 'get_state', 'ready'));
      scheduler.flush();
      await expect(state).resolves.toBe('ready');
    });

    it('ignores a late reply after the timeout (it matches nothing)', async () => {
      const { channel, written, advanceTo } = setup({ timeoutMs: 100 });
      const pending = outcome(channel.request({ type: 'get_messages' }));
      advanceTo(100);
      expect(channel.handleResponse(ok(written[0]!.id, 'get_messages', { messages: [] }))).toBe(false);
      expect(channel.handleResponse(failure(undefined, 'get_messages', 'late id-less failure'))).toBe(false);
      const result = await pending;
      expect((result as { error: unknown }).error).toBeInstanceOf(PiTimeoutError);
    });
  });

  describe('failing commands', () => {
    it('failCommand fails only that command, once', async () => {
      const { channel, written } = setup();
      const huge = outcome(channel.request({ type: 'get_messages' }));
      const state = channel.request({ type: 'get_state' });
      const cause = new Error('response too large');
      expect(channel.failCommand(written[0]!.id, cause)).toBe(true);
      expect(channel.failCommand(written[0]!.id, cause)).toBe(false);
      expect(channel.failCommand('nobody', cause)).toBe(false);
      await expect(huge).resolves.toEqual({ status: 'rejected', error: cause });
      expect(channel.size).toBe(1);
      // Its late response is ignored too.
      expect(channel.handleResponse(ok(written[0]!.id, 'get_messages'))).toBe(false);
      channel.handleResponse(ok(written[1]!.id, 'get_state', 'fine'));
      await expect(state).resolves.toBe('fine');
    });

    it('rejectAll fails every pending command and every later one with the first error, without writing', async () => {
      const { channel, scheduler, written } = setup();
      const pending = [channel.request({ type: 'prompt', message: 'x' }), channel.request({ type: 'get_state' })].map(outcome);
      const died = new TransportClosedError('pi exited unexpectedly', { exitCode: 1 });
      channel.rejectAll(died);
      expect(channel.size).toBe(0);
      expect(scheduler.actions).toHaveLength(0); // timers are gone with their commands
      await expect(Promise.all(pending)).resolves.toEqual([
        { status: 'rejected', error: died },
        { status: 'rejected', error: died },
      ]);

      channel.rejectAll(new Error('a second, later error'));
      await expect(channel.request({ type: 'get_state' })).rejects.toBe(died);
      expect(written).toHaveLength(2);
      expect(channel.handleResponse(ok(written[1]!.id, 'get_state'))).toBe(false);
    });

    it('rejects with the write error when the write fails, and forgets the command', async () => {
      const broken = new TransportClosedError('send() after the pi process exited');
      const { channel, scheduler } = setup({ write: () => Promise.reject(broken) });
      await expect(channel.request({ type: 'get_state' })).rejects.toBe(broken);
      expect(channel.size).toBe(0);
      expect(scheduler.actions).toHaveLength(0);
    });

    it('wraps a non-Error write failure in an Error', async () => {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the case under test
      const { channel } = setup({ write: () => Promise.reject('EPIPE as a string') });
      const error = await channel.request({ type: 'get_state' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toBe('EPIPE as a string');
      expect(channel.size).toBe(0);
    });
  });

  it('correlates 1,000 concurrent commands answered in a scrambled order', async () => {
    const { channel, scheduler, written } = setup({ timeoutMs: 30_000 });
    const count = 1_000;
    const requests = Array.from({ length: count }, (_, index) => channel.request({ type: index % 2 ? 'get_state' : 'bash', n: index }));
    expect(channel.size).toBe(count);
    expect(new Set(written.map((command) => command.id)).size).toBe(count);

    // A deterministic scramble: stride through the commands with a step coprime to 1,000.
    const order = Array.from({ length: count }, (_, index) => (index * 617) % count);
    expect(new Set(order).size).toBe(count);
    for (const index of order) {
      const command = written[index]!;
      expect(channel.handleResponse(ok(command.id, command.type, { n: command['n'] }))).toBe(true);
    }
    const results = await Promise.all(requests);
    expect(results).toEqual(Array.from({ length: count }, (_, index) => ({ n: index })));
    expect(channel.size).toBe(0);
    expect(scheduler.actions).toHaveLength(0);
  });
});
