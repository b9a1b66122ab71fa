/**
 * FakeTransport: the in-memory `PiTransport` users get from `pidriver/testing`. Its contract is
 * the real transport's (`src/transport/PiTransport.ts`), plus the knobs a test needs.
 */
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { TransportClosedError } from '../../src/errors.js';
import { FakeTransport, type SentCommand } from '../../src/testing/FakeTransport.js';
import type { TransportLine } from '../../src/transport/PiTransport.js';

/** Lets queued microtasks (fake writes and their replies) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Subscribes to `lines$` and records every notification. */
function record(transport: FakeTransport) {
  const lines: TransportLine[] = [];
  let completed = false;
  const subscription = transport.lines$.subscribe({ next: (line) => lines.push(line), complete: () => (completed = true) });
  return {
    lines,
    subscription,
    get completed() {
      return completed;
    },
    frames: () => lines.map((line) => JSON.parse(line as string) as Record<string, unknown>),
  };
}

describe('FakeTransport', () => {
  describe('stdout (lines$)', () => {
    it('keeps lines emitted before anyone subscribes and delivers them first, in order', () => {
      const transport = new FakeTransport();
      transport.emitLine('one');
      transport.emitFrame({ type: 'agent_start' });
      const seen = record(transport);
      transport.emitLine('three');
      expect(seen.lines).toEqual(['one', '{"type":"agent_start"}', 'three']);
    });

    it('keeps lines for the next subscriber while no one listens', () => {
      const transport = new FakeTransport();
      const first = record(transport);
      transport.emitLine('a');
      first.subscription.unsubscribe();
      transport.emitLine('b');
      const second = record(transport);
      transport.emitLine('c');
      expect(first.lines).toEqual(['a']);
      expect(second.lines).toEqual(['b', 'c']);
    });

    it('completes lines$ on endStdout, and a later subscriber gets the backlog then complete', async () => {
      const transport = new FakeTransport();
      transport.emitLine('left in the pipe');
      transport.endStdout();
      transport.emitLine('after the end: dropped');
      await expect(lastValueFrom(transport.lines$.pipe(toArray()))).resolves.toEqual(['left in the pipe']);
    });

    it('endStdout completes a live subscriber but the process lives on', async () => {
      const transport = new FakeTransport();
      await transport.start();
      const seen = record(transport);
      transport.endStdout();
      transport.endStdout(); // idempotent
      expect(seen.completed).toBe(true);
      expect(transport.exitCode).toBeNull();
      await expect(transport.send({ type: 'get_state' })).resolves.toBeUndefined(); // a broken stdout, stdin still open
    });
  });

  describe('stdin (send)', () => {
    it('rejects send() before start() with TransportClosedError', async () => {
      const transport = new FakeTransport();
      await expect(transport.send({ type: 'get_state' })).rejects.toBeInstanceOf(TransportClosedError);
      expect(transport.sent).toEqual([]);
    });

    it('records each write at once, round-tripped through JSON, and delivers it a microtask later', async () => {
      const delivered: SentCommand[] = [];
      const transport = new FakeTransport({ respond: (command) => delivered.push(command) });
      await transport.start();
      const viaSent$: SentCommand[] = [];
      transport.sent$.subscribe((command) => viaSent$.push(command));

      const written = transport.send({ id: 'c1', type: 'prompt', message: 'hi', images: undefined, when: new Date(0) });
      expect(transport.sent).toEqual([{ id: 'c1', type: 'prompt', message: 'hi', when: '1970-01-01T00:00:00.000Z' }]);
      expect(delivered).toEqual([]); // not re-entrant: nothing answers inside send()
      expect(viaSent$).toEqual([]);
      await written;
      expect(delivered).toEqual(transport.sent);
      expect(viaSent$).toEqual(transport.sent);
    });

    it('delivers writes in call order', async () => {
      const order: string[] = [];
      const transport = new FakeTransport({ respond: (command) => order.push(command.type) });
      await transport.start();
      await Promise.all(['a', 'b', 'c'].map((type) => transport.send({ type })));
      expect(order).toEqual(['a', 'b', 'c']);
    });

    it('rejects send() after the process exited, with the exit details', async () => {
      const transport = new FakeTransport();
      await transport.start();
      transport.writeStderr('fatal: boom\n');
      transport.exit(1);
      const error = await transport.send({ type: 'get_state' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransportClosedError);
      expect(error).toMatchObject({ exitCode: 1, stderrTail: 'fatal: boom\n' });
    });
  });

  describe('answering', () => {
    it('the default responder answers get_state with an idle state, other commands with success, and UI responses not at all', async () => {
      const transport = new FakeTransport();
      await transport.start();
      const seen = record(transport);
      await transport.send({ id: 's0', type: 'get_state' });
      await transport.send({ id: 'c1', type: 'abort' });
      await transport.send({ type: 'extension_ui_response', id: 'u1', confirmed: true });
      expect(seen.frames()).toEqual([
        {
          id: 's0',
          type: 'response',
          command: 'get_state',
          success: true,
          data: expect.objectContaining({ isStreaming: false, isCompacting: false, sessionId: 'fake-pi-session', model: { id: 'fake-1', provider: 'fake' } }),
        },
        { id: 'c1', type: 'response', command: 'abort', success: true },
      ]);
    });

    it('reply() and fail() write response frames for a command', async () => {
      const transport = new FakeTransport({
        respond: (command, t) => (command.type === 'set_model' ? t.fail(command, 'Model not found') : t.reply(command, { ok: 1 })),
      });
      await transport.start();
      const seen = record(transport);
      await transport.send({ id: 'm1', type: 'set_model', provider: 'x', modelId: 'y' });
      await transport.send({ id: 'g1', type: 'get_messages' });
      expect(seen.frames()).toEqual([
        { id: 'm1', type: 'response', command: 'set_model', success: false, error: 'Model not found' },
        { id: 'g1', type: 'response', command: 'get_messages', success: true, data: { ok: 1 } },
      ]);
    });

    it('a responder can stream frames after its reply, as pi does for a prompt', async () => {
      const transport = new FakeTransport({
        respond: (command, t) => {
          t.reply(command);
          t.emitFrame({ type: 'agent_start' });
          t.emitFrame({ type: 'agent_end', messages: [] });
        },
      });
      await transport.start();
      const frames = firstValueFrom(transport.lines$.pipe(take(3), toArray()));
      await transport.send({ id: 'p1', type: 'prompt', message: 'hi' });
      await expect(frames).resolves.toEqual([
        '{"id":"p1","type":"response","command":"prompt","success":true}',
        '{"type":"agent_start"}',
        '{"type":"agent_end","messages":[]}',
      ]);
    });
  });

  describe('process lifecycle', () => {
    it('has a pid only once started (424242 unless given)', async () => {
      const transport = new FakeTransport();
      expect(transport.pid).toBeUndefined();
      expect(transport.started).toBe(false);
      await transport.start();
      expect(transport.pid).toBe(424242);
      expect(transport.started).toBe(true);
      const custom = new FakeTransport({ pid: 7 });
      await custom.start();
      expect(custom.pid).toBe(7);
    });

    it('rejects start() with startError', async () => {
      const failure = new Error('spawn pi ENOENT');
      const transport = new FakeTransport({ startError: failure });
      await expect(transport.start()).rejects.toBe(failure);
      expect(transport.started).toBe(false);
    });

    it('exit() ends stdout, then resolves exited with code, signal and the stderr tail; only once', async () => {
      const transport = new FakeTransport();
      await transport.start();
      const seen = record(transport);
      transport.writeStderr('warning: a\n');
      transport.writeStderr('killed\n');
      expect(transport.stderrTail).toBe('warning: a\nkilled\n');
      transport.exit(null, 'SIGKILL');
      transport.exit(0); // ignored
      expect(seen.completed).toBe(true);
      await expect(transport.exited).resolves.toEqual({ exitCode: null, signal: 'SIGKILL', stderrTail: 'warning: a\nkilled\n' });
      expect(transport.exitCode).toBeNull();
      transport.emitLine('after exit: dropped');
      expect(seen.lines).toEqual([]);
    });

    it('close() before start() does nothing and says so', async () => {
      const transport = new FakeTransport();
      await expect(transport.close()).resolves.toEqual({ exitCode: null, signal: null, stderrTail: '', escalation: 'not-started' });
    });

    it('close() exits cleanly (EOF), then reports already-exited', async () => {
      const transport = new FakeTransport();
      await transport.start();
      const seen = record(transport);
      await expect(transport.close()).resolves.toEqual({ exitCode: 0, signal: null, stderrTail: '', escalation: 'eof' });
      expect(seen.completed).toBe(true);
      expect(transport.exitCode).toBe(0);
      await expect(transport.close()).resolves.toEqual({ exitCode: 0, signal: null, stderrTail: '', escalation: 'already-exited' });
    });

    it("with onClose 'hang', close() waits until the test exits the process", async () => {
      const transport = new FakeTransport({ onClose: 'hang' });
      await transport.start();
      let closed = false;
      const closing = Promise.resolve(transport.close()).then((result) => {
        closed = true;
        return result;
      });
      await settle();
      expect(closed).toBe(false);
      expect(transport.exitCode).toBeNull();
      await expect(transport.send({ type: 'get_state' })).resolves.toBeUndefined(); // still alive
      transport.exit(null, 'SIGTERM');
      await expect(closing).resolves.toEqual({ exitCode: null, signal: 'SIGTERM', stderrTail: '', escalation: 'eof' });
    });
  });
});
