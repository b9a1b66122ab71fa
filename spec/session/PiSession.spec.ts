/**
 * Unit tests of the session logic over a FakeTransport: no process, no network.
 */
import { lastValueFrom, map, toArray, VirtualTimeScheduler, type SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { PiConfig } from '../../src/config/PiConfig.js';
import { PiCommandError, PiPolicyError, PiStartError, PiTimeoutError, TransportClosedError } from '../../src/errors.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiSession } from '../../src/session/PiSession.js';
import { FakeTransport, type SentCommand } from '../../src/testing/FakeTransport.js';
import { OversizeLine } from '../../src/transport/LineSplitter.js';
import type { Policy } from '../../src/policies/types.js';

const config = PiConfig.parse({ requestTimeoutMs: 1_000, startTimeoutMs: 1_000 });

function setup(
  options: {
    respond?: (command: SentCommand, transport: FakeTransport) => void;
    policy?: Policy;
    scheduler?: SchedulerLike;
    replay?: { maxEvents?: number };
  } = {},
) {
  const transport = new FakeTransport(options.respond ? { respond: options.respond } : {});
  const session = new PiSession({
    sessionId: 's1',
    transport,
    config,
    cwd: '/work',
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
    ...(options.replay ? { replay: options.replay } : {}),
  });
  const events: PiEvent[] = [];
  session.events$.subscribe({ next: (event) => events.push(event), error: () => undefined });
  return { transport, session, events };
}

/** Lets queued microtasks (fake writes and their replies) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

const assistant = (text: string, stopReason = 'stop', extra: Record<string, unknown> = {}) => ({
  role: 'assistant',
  content: [{ type: 'text', text }],
  stopReason,
  usage: { input: 10, output: 2, cacheRead: 0, cacheWrite: 0, totalTokens: 12, cost: { total: 0.001 } },
  ...extra,
});

/** A pi that runs every prompt: deltas, message_end, agent_end; get_state reports idle. */
function runningPi(text = 'ok') {
  return (command: SentCommand, transport: FakeTransport) => {
    if (command.type === 'prompt') {
      transport.reply(command);
      transport.emitFrame({ type: 'agent_start' });
      transport.emitFrame({ type: 'message_start', message: { role: 'user', content: [{ type: 'text', text: command['message'] }] } });
      transport.emitFrame({ type: 'message_update', assistantMessageEvent: { type: 'text_delta', contentIndex: 0, delta: text } });
      transport.emitFrame({ type: 'message_end', message: assistant(text) });
      transport.emitFrame({ type: 'agent_end', messages: [] });
      return;
    }
    FakeTransport.defaultResponder(command, transport);
  };
}

describe('PiSession (fake transport)', () => {
  it('becomes idle after the first get_state and learns pi session id and model', async () => {
    const { session, transport } = setup();
    await session.start();
    expect(transport.sent[0]).toMatchObject({ type: 'get_state' });
    expect(session.state).toMatchObject({ status: 'idle', piSessionId: 'fake-pi-session', model: 'fake/fake-1' });
  });

  it('runs a prompt to its result, emitting agent_start … agent_end', async () => {
    const { session, events } = setup({ respond: runningPi('hi there') });
    await session.start();
    const result = await session.prompt('hello');
    expect(result).toMatchObject({ finalText: 'hi there', reason: 'completed' });
    expect(result.usage.inputTokens).toBe(10);
    expect(events.map((event) => event.type)).toEqual(['agent_start', 'user_message', 'message_delta', 'message_complete', 'usage', 'agent_end']);
    expect(events.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('does not end a run while pi retries after agent_end', async () => {
    let attempt = 0;
    const { session, events } = setup({
      respond: (command, transport) => {
        if (command.type === 'prompt') {
          transport.reply(command);
          transport.emitFrame({ type: 'agent_start' });
          transport.emitFrame({ type: 'message_end', message: assistant('', 'error', { errorMessage: '500 boom' }) });
          transport.emitFrame({ type: 'agent_end', messages: [] });
          transport.emitFrame({ type: 'auto_retry_start', attempt: 1, maxAttempts: 3, delayMs: 10, errorMessage: '500 boom' });
          return;
        }
        if (command.type === 'get_state' && attempt++ === 1) {
          // The retry runs after the first settle check and succeeds.
          FakeTransport.defaultResponder(command, transport);
          transport.emitFrame({ type: 'agent_start' });
          transport.emitFrame({ type: 'message_end', message: assistant('second time lucky') });
          transport.emitFrame({ type: 'auto_retry_end', success: true, attempt: 1 });
          transport.emitFrame({ type: 'agent_end', messages: [] });
          return;
        }
        FakeTransport.defaultResponder(command, transport);
      },
    });
    await session.start();
    const result = await session.prompt('flaky');
    expect(result).toMatchObject({ reason: 'completed', finalText: 'second time lucky' });
    expect(events.filter((event) => event.type === 'agent_start')).toHaveLength(1);
    expect(events.filter((event) => event.type === 'agent_end')).toHaveLength(1);
    expect(events.filter((event) => event.type === 'retry').map((event) => (event as { phase: string }).phase)).toEqual(['start', 'end']);
  });

  it('resolves a prompt handled without a run (an extension command)', async () => {
    const { session, events } = setup();
    await session.start();
    const result = await session.prompt('/ext-command');
    expect(result).toMatchObject({ finalText: '', reason: 'completed' });
    expect(events.filter((event) => event.type === 'agent_end')).toHaveLength(0);
  });

  it('rejects a prompt pi refuses with PiCommandError and runs the next one', async () => {
    const { session } = setup({
      respond: (command, transport) => {
        if (command.type === 'prompt' && command['message'] === 'bad') return transport.fail(command, 'No API key found');
        return runningPi()(command, transport);
      },
    });
    await session.start();
    const bad = session.prompt('bad');
    const good = session.prompt('good');
    await expect(bad).rejects.toBeInstanceOf(PiCommandError);
    await expect(good).resolves.toMatchObject({ reason: 'completed' });
  });

  it('turns bad lines, oversize lines and unknown frames into events, and goes on', async () => {
    const { session, transport, events } = setup();
    await session.start();
    transport.emitLine('this is not json');
    transport.emitLine(new OversizeLine(99_000_000, '{"type":"message_update"'));
    transport.emitFrame({ type: 'brand_new_frame', x: 1 });
    transport.emitLine('');
    transport.emitFrame({ type: 'tool_execution_start', toolName: 'bash' });
    expect(events.map((event) => [event.type, 'code' in event ? event.code : undefined])).toEqual([
      ['error', 'invalid_line'],
      ['error', 'line_too_long'],
      ['unknown', undefined],
      ['error', 'invalid_line'],
    ]);
    expect(events[0]).toMatchObject({ line: 'this is not json', fatal: false });
    expect(events[2]).toMatchObject({ frameType: 'brand_new_frame', line: '{"type":"brand_new_frame","x":1}' });
    await expect(session.getState()).resolves.toMatchObject({ isStreaming: false });
  });

  it('fails the oldest pending command of a type on an id-less error (pi 0.73 unknown command)', async () => {
    const { session, transport } = setup({
      respond: (command, t) => {
        if (command.type === 'frobnicate')
          return t.emitFrame({ type: 'response', command: 'frobnicate', success: false, error: 'Unknown command: frobnicate' });
        FakeTransport.defaultResponder(command, t);
      },
    });
    await session.start();
    const error = await session.command('frobnicate').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PiCommandError);
    expect((error as PiCommandError).error).toBe('Unknown command: frobnicate');
    transport.emitFrame({ type: 'response', id: 'nobody', command: 'get_state', success: true });
  });

  it('times out a command that is never answered (virtual time)', async () => {
    const scheduler = new VirtualTimeScheduler();
    const { session } = setup({
      scheduler,
      respond: (command, transport) => {
        if (command.type !== 'get_messages') FakeTransport.defaultResponder(command, transport);
      },
    });
    await session.start();
    const pending = session.getMessages().catch((e: unknown) => e);
    await settle();
    scheduler.flush();
    const error = await pending;
    expect(error).toBeInstanceOf(PiTimeoutError);
    expect((error as PiTimeoutError).timeoutMs).toBe(1_000);
  });

  it('rejects start() with PiStartError when pi exits before it is ready', async () => {
    const transport = new FakeTransport({ respond: () => undefined });
    const session = new PiSession({ sessionId: 's', transport, config, cwd: '/' });
    transport.writeStderr('Error: Unknown option: --nope\n');
    const starting = session.start();
    await settle();
    transport.exit(1);
    const error = await starting.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PiStartError);
    expect(error).toMatchObject({ exitCode: 1, stderrTail: expect.stringContaining('Unknown option') });
    expect(session.state.status).toBe('closed');
  });

  it('rejects start() when aborted', async () => {
    const transport = new FakeTransport({ respond: () => undefined });
    const session = new PiSession({ sessionId: 's', transport, config, cwd: '/' });
    const controller = new AbortController();
    const starting = session.start(controller.signal);
    controller.abort();
    await expect(starting).rejects.toThrow(/abort/i);
  });

  it('errors events$ with TransportClosedError when pi dies, and rejects what was pending', async () => {
    const { session, transport } = setup({
      respond: (command, t) => {
        if (command.type === 'prompt') {
          t.reply(command);
          t.emitFrame({ type: 'agent_start' });
          return;
        }
        FakeTransport.defaultResponder(command, t);
      },
    });
    await session.start();
    const run = session.prompt('long');
    const ended = lastValueFrom(session.events$).catch((e: unknown) => e);
    await settle();
    transport.writeStderr('fatal: out of memory\n');
    transport.exit(null, 'SIGKILL');
    const error = await ended;
    expect(error).toBeInstanceOf(TransportClosedError);
    expect(error).toMatchObject({ signal: 'SIGKILL', stderrTail: expect.stringContaining('out of memory') });
    await expect(run).rejects.toBe(error);
    expect(session.state).toMatchObject({ status: 'closed', exit: { signal: 'SIGKILL' } });
  });

  it('treats stdout closing while pi lives as death', async () => {
    const { session, transport } = setup();
    await session.start();
    const ended = lastValueFrom(session.events$).catch((e: unknown) => e);
    transport.endStdout();
    const error = await ended;
    expect(error).toBeInstanceOf(TransportClosedError);
  });

  it('replays only the current run to late subscribers, bounded', async () => {
    const { session } = setup({ respond: runningPi('abc'), replay: { maxEvents: 3 } });
    await session.start();
    await session.prompt('one');
    await session.prompt('two');
    const replayed: PiEvent[] = [];
    session.recentEvents$.subscribe((event) => replayed.push(event)).unsubscribe();
    expect(replayed.map((event) => event.type)).toEqual(['message_complete', 'usage', 'agent_end']);
    // events$ replays only a run in progress: between runs a subscriber starts fresh.
    const fresh: PiEvent[] = [];
    session.events$.subscribe((event) => fresh.push(event)).unsubscribe();
    expect(fresh).toEqual([]);
  });

  it('close() completes events$ and state$, rejects queued prompts, and is idempotent', async () => {
    const { session } = setup({
      respond: (command, t) => {
        if (command.type === 'prompt') {
          t.reply(command);
          t.emitFrame({ type: 'agent_start' });
          return;
        }
        FakeTransport.defaultResponder(command, t);
      },
    });
    await session.start();
    const running = session.prompt('one');
    const queued = session.prompt('two');
    const states = lastValueFrom(session.state$.pipe(toArray()));
    const [a, b] = await Promise.all([session.close(), session.close()]);
    expect(a).toBe(b);
    await expect(running).rejects.toBeInstanceOf(TransportClosedError);
    await expect(queued).rejects.toBeInstanceOf(TransportClosedError);
    expect((await states).at(-1)?.status).toBe('closed');
    await expect(lastValueFrom(session.events$.pipe(toArray()))).resolves.toEqual(expect.any(Array));
  });

  describe('interaction requests', () => {
    const confirmFrame = { type: 'extension_ui_request', id: 'r1', method: 'confirm', title: 'Allow bash?', message: 'Command: rm -rf /' };

    it('leaves requests to the host by default; respond() answers once', async () => {
      const { session, transport, events } = setup();
      await session.start();
      transport.emitFrame(confirmFrame);
      const request = events.find((event) => event.type === 'interaction_request');
      expect(request).toMatchObject({ requestId: 'r1', kind: 'permission', prompt: { title: 'Allow bash?', message: 'Command: rm -rf /' } });
      expect(session.pending.map((r) => r.requestId)).toEqual(['r1']);
      await expect(session.respond('r1', 'maybe')).rejects.toBeInstanceOf(PiPolicyError);
      expect(session.pending).toHaveLength(1);
      await session.respond('r1', false);
      expect(transport.sent.at(-1)).toEqual({ type: 'extension_ui_response', id: 'r1', confirmed: false });
      expect(session.pending).toHaveLength(0);
      // A late second answer is ignored: nothing more is written.
      const written = transport.sent.length;
      await expect(session.respond('r1', true)).resolves.toBeUndefined();
      expect(transport.sent).toHaveLength(written);
      await expect(session.respond('never-seen', true)).rejects.toBeInstanceOf(PiPolicyError);
    });

    it('fails closed when the policy throws', async () => {
      const throwing: Policy = (requests$) =>
        requests$.pipe(
          map(() => {
            throw new Error('boom');
          }),
        );
      const { session, transport, events } = setup({ policy: throwing });
      await session.start();
      transport.emitFrame(confirmFrame);
      await settle();
      expect(transport.sent.at(-1)).toEqual({ type: 'extension_ui_response', id: 'r1', confirmed: false });
      expect(events.some((event) => event.type === 'error' && event.code === 'policy_error')).toBe(true);
      // The policy is restarted for the next request.
      transport.emitFrame({ ...confirmFrame, id: 'r2' });
      await settle();
      expect(transport.sent.at(-1)).toEqual({ type: 'extension_ui_response', id: 'r2', confirmed: false });
    });

    it('fails closed on an answer that does not fit the request', async () => {
      const wrong: Policy = (requests$) =>
        requests$.pipe(map(({ request }) => ({ requestId: request.requestId, decision: { kind: 'answer' as const, value: 'purple' } })));
      const { session, transport } = setup({ policy: wrong });
      await session.start();
      transport.emitFrame({ type: 'extension_ui_request', id: 'c1', method: 'select', title: 'Pick', options: ['red', 'green'] });
      await settle();
      expect(transport.sent.at(-1)).toEqual({ type: 'extension_ui_response', id: 'c1', cancelled: true });
    });

    it('cancels open requests on the wire before abort', async () => {
      const { session, transport } = setup();
      await session.start();
      transport.emitFrame(confirmFrame);
      await session.abort();
      const types = transport.sent.map((command) => command.type);
      expect(types.slice(-2)).toEqual(['extension_ui_response', 'abort']);
      expect(transport.sent.at(-2)).toEqual({ type: 'extension_ui_response', id: 'r1', cancelled: true });
    });

    it('withdraws a request when pi’s own dialog timeout passes (virtual time)', async () => {
      const scheduler = new VirtualTimeScheduler();
      const { session, transport } = setup({ scheduler });
      await session.start();
      transport.emitFrame({ type: 'extension_ui_request', id: 't1', method: 'select', title: 'Quick', options: ['x', 'y'], timeout: 400 });
      expect(session.pending).toHaveLength(1);
      scheduler.flush();
      expect(session.pending).toHaveLength(0);
      // Late answers to a withdrawn request are ignored without error, and nothing is written.
      const written = transport.sent.length;
      await expect(session.respond('t1', 'x')).resolves.toBeUndefined();
      expect(transport.sent).toHaveLength(written);
    });

    it('turns fire-and-forget UI frames into ui_notice events', async () => {
      const { session, transport, events } = setup();
      await session.start();
      transport.emitFrame({ type: 'extension_ui_request', id: 'n1', method: 'notify', message: 'hello', notifyType: 'warning' });
      transport.emitFrame({ type: 'extension_ui_request', id: 'n2', method: 'setStatus', statusKey: 'k', statusText: 'busy' });
      expect(events).toMatchObject([
        { type: 'ui_notice', method: 'notify', message: 'hello', level: 'warning' },
        { type: 'ui_notice', method: 'setStatus', key: 'k', text: 'busy' },
      ]);
      expect(session.pending).toHaveLength(0);
    });
  });
});
