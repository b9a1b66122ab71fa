/**
 * The session's dialect logic over a FakeTransport (no process): run end per dialect (pi 1.x
 * `agent_settled`, omp `prompt_result` / `session_settled`, pi 0.73 / omp 18.2 `agent_end` +
 * idle check), omp's startup handshake and double prompt response, `cancel` frames, protocol v2
 * chunks, wire learning and `PiUnsupportedError`.
 */
import { describe, expect, it } from 'vitest';
import { PiConfig } from '../../src/config/PiConfig.js';
import type { Dialect } from '../../src/protocol/dialects.js';
import { PiCommandError, PiUnsupportedError } from '../../src/errors.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiSession } from '../../src/session/PiSession.js';
import { FakeTransport, type SentCommand } from '../../src/testing/FakeTransport.js';

const config = PiConfig.parse({ requestTimeoutMs: 2_000, startTimeoutMs: 2_000 });

const READY = { type: 'ready', protocolVersion: 1, supportedProtocolVersions: [1, 2], maxFrameBytes: 1048576, maxReassembledFrameBytes: 67108864 };

const assistant = (text: string, stopReason = 'stop') => ({
  role: 'assistant',
  content: [{ type: 'text', text }],
  stopReason,
  usage: { input: 10, output: 2, cacheRead: 0, cacheWrite: 0, totalTokens: 12, cost: { total: 0.001 } },
});

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Setup {
  readonly dialect?: Dialect;
  readonly version?: string;
  /** Frames written before the first command is answered (omp: `ready`). */
  readonly startup?: readonly object[];
  readonly respond?: (command: SentCommand, transport: FakeTransport) => void;
}

async function start(options: Setup = {}) {
  const transport = new FakeTransport({
    respond: (command, fake) => {
      if (options.respond) options.respond(command, fake);
      else FakeTransport.defaultResponder(command, fake);
    },
  });
  for (const frame of options.startup ?? []) transport.emitFrame(frame);
  const session = new PiSession({
    sessionId: 'd1',
    transport,
    config,
    cwd: '/work',
    ...(options.dialect ? { dialect: options.dialect } : {}),
    ...(options.version ? { version: options.version } : {}),
  });
  const events: PiEvent[] = [];
  session.events$.subscribe({ next: (event) => events.push(event), error: () => undefined });
  await session.start();
  return { transport, session, events };
}

/** The frames of one text run, without its end signal. */
function runFrames(transport: FakeTransport, text: string): void {
  transport.emitFrame({ type: 'agent_start' });
  transport.emitFrame({ type: 'message_update', assistantMessageEvent: { type: 'text_delta', contentIndex: 0, delta: text } });
  transport.emitFrame({ type: 'message_end', message: assistant(text) });
  transport.emitFrame({ type: 'agent_end', messages: [] });
}

const types = (sent: readonly SentCommand[]) => sent.map((command) => command.type);

describe('run end per dialect', () => {
  it('pi 1.x ends a run on agent_settled, without asking get_state', async () => {
    let promptCommand: SentCommand | undefined;
    const { transport, session } = await start({
      dialect: 'pi-1',
      version: '1.5.2',
      respond: (command, fake) => {
        if (command.type === 'prompt') {
          promptCommand = command;
          fake.reply(command, { disposition: 'started' });
          runFrames(fake, 'settled');
          return;
        }
        FakeTransport.defaultResponder(command, fake);
      },
    });
    const result = session.prompt('hi');
    let done = false;
    void result.then(() => (done = true));
    for (let i = 0; i < 5; i++) await settle();
    expect(promptCommand).toBeDefined();
    expect(done).toBe(false); // agent_end alone is not the end in pi 1.x
    expect(types(transport.sent)).toEqual(['get_state', 'prompt']);
    transport.emitFrame({ type: 'agent_settled', aborted: false });
    await expect(result).resolves.toMatchObject({ finalText: 'settled', reason: 'completed' });
    expect(types(transport.sent)).toEqual(['get_state', 'prompt']);
    expect(session.capabilities).toMatchObject({ dialect: 'pi-1', agentSettled: true, version: '1.5.2' });
    await session.close();
  });

  it('pi 1.x disposition "handled" (an extension command) ends the prompt at once', async () => {
    const { session, events } = await start({
      dialect: 'pi-1',
      version: '1.5.2',
      respond: (command, fake) => (command.type === 'prompt' ? fake.reply(command, { disposition: 'handled' }) : FakeTransport.defaultResponder(command, fake)),
    });
    await expect(session.prompt('/cmd')).resolves.toMatchObject({ reason: 'completed', finalText: '' });
    expect(events.some((event) => event.type === 'agent_end')).toBe(false);
    expect(session.status).toBe('idle');
    await session.close();
  });

  it('pi 0.73 ends a run on agent_end plus an idle get_state', async () => {
    const { transport, session } = await start({
      respond: (command, fake) => {
        if (command.type === 'prompt') {
          fake.reply(command);
          runFrames(fake, 'classic');
          return;
        }
        FakeTransport.defaultResponder(command, fake);
      },
    });
    await expect(session.prompt('hi')).resolves.toMatchObject({ finalText: 'classic' });
    expect(types(transport.sent)).toEqual(['get_state', 'prompt', 'get_state']);
    expect(session.capabilities.dialect).toBe('pi-0.73');
    await session.close();
  });

  it('omp 18.3 ends a run on its prompt_result (by id), without asking get_state', async () => {
    const { transport, session } = await start({
      dialect: 'omp',
      version: '18.3.4',
      startup: [READY],
      respond: (command, fake) => {
        if (command.type === 'prompt') {
          fake.reply(command);
          runFrames(fake, 'from omp');
          fake.emitFrame({ type: 'prompt_result', id: 'someone-else', agentInvoked: true, status: 'completed', sessionSettled: false });
          fake.emitFrame({ type: 'prompt_result', id: command.id, agentInvoked: true, status: 'completed', sessionSettled: true });
          fake.emitFrame({ type: 'session_settled' });
          return;
        }
        if (command.type === 'negotiate_protocol') return fake.reply(command, { protocolVersion: 2 });
        FakeTransport.defaultResponder(command, fake);
      },
    });
    expect(session.protocolVersion).toBe(2);
    await expect(session.prompt('hi')).resolves.toMatchObject({ finalText: 'from omp', reason: 'completed' });
    expect(types(transport.sent)).toEqual(['get_state', 'negotiate_protocol', 'set_subagent_subscription', 'prompt']);
    await session.close();
  });

  it('omp: a prompt_result with status error and no assistant message gives reason error', async () => {
    const { session } = await start({
      dialect: 'omp',
      version: '18.3.4',
      startup: [READY],
      respond: (command, fake) => {
        if (command.type === 'prompt') {
          fake.reply(command);
          fake.emitFrame({
            type: 'prompt_result',
            id: command.id,
            agentInvoked: true,
            status: 'error',
            error: { message: 'No API key', retryable: false },
            sessionSettled: true,
          });
          return;
        }
        FakeTransport.defaultResponder(command, fake);
      },
    });
    await expect(session.prompt('hi')).resolves.toMatchObject({ reason: 'error', errorMessage: 'No API key' });
    await session.close();
  });

  it('omp 18.2 ends a local slash command on prompt_result agentInvoked:false, and agent runs on agent_end + idle', async () => {
    const { transport, session } = await start({
      dialect: 'omp',
      version: '18.2.3',
      startup: [READY],
      respond: (command, fake) => {
        if (command.type === 'prompt' && command['message'] === '/ask') {
          fake.reply(command);
          fake.emitFrame({ type: 'prompt_result', id: command.id, agentInvoked: false });
          return;
        }
        if (command.type === 'prompt') {
          fake.reply(command);
          runFrames(fake, 'eighteen-two');
          return;
        }
        FakeTransport.defaultResponder(command, fake);
      },
    });
    let localDone = false;
    const local = session.prompt('/ask').then((result) => {
      localDone = true;
      return result;
    });
    await settle();
    await expect(local).resolves.toMatchObject({ reason: 'completed', finalText: '' });
    expect(localDone).toBe(true);
    await expect(session.prompt('hi')).resolves.toMatchObject({ finalText: 'eighteen-two' });
    expect(types(transport.sent).filter((type) => type === 'get_state')).toHaveLength(2); // startup + the idle check
    expect(session.capabilities).toMatchObject({ dialect: 'omp', promptResult: false, version: '18.2.3' });
    await session.close();
  });

  it('omp: a non-terminal agent_end does not end the run', async () => {
    let prompt: SentCommand | undefined;
    const { transport, session } = await start({
      dialect: 'omp',
      version: '18.3.4',
      startup: [READY],
      respond: (command, fake) => {
        if (command.type === 'prompt') {
          prompt = command;
          fake.reply(command);
          fake.emitFrame({ type: 'agent_start' });
          fake.emitFrame({ type: 'message_end', message: assistant('part one') });
          fake.emitFrame({ type: 'agent_end', messages: [], isTerminal: false });
          return;
        }
        FakeTransport.defaultResponder(command, fake);
      },
    });
    const result = session.prompt('hi');
    for (let i = 0; i < 5; i++) await settle();
    expect(session.status).toBe('running');
    transport.emitFrame({ type: 'message_end', message: assistant('part two') });
    transport.emitFrame({ type: 'agent_end', messages: [] });
    transport.emitFrame({ type: 'prompt_result', id: prompt?.id, agentInvoked: true, status: 'completed', sessionSettled: true });
    await expect(result).resolves.toMatchObject({ finalText: 'part two' });
    await session.close();
  });
});

describe('omp specifics', () => {
  it('start() waits for the ready frame and negotiates protocol v2 when offered', async () => {
    const transport = new FakeTransport({
      respond: (command, fake) => {
        if (command.type === 'negotiate_protocol') return fake.reply(command, { protocolVersion: 2 });
        FakeTransport.defaultResponder(command, fake);
      },
    });
    const session = new PiSession({ sessionId: 'r', transport, config, cwd: '/work', dialect: 'omp' });
    let ready = false;
    const started = session.start().then(() => (ready = true));
    for (let i = 0; i < 5; i++) await settle();
    expect(ready).toBe(false); // get_state answered, but omp has not said ready
    transport.emitFrame(READY);
    await started;
    expect(session.protocolVersion).toBe(2);
    expect(types(transport.sent)).toEqual(['get_state', 'negotiate_protocol', 'set_subagent_subscription']);
    expect(transport.sent[2]).toMatchObject({ level: 'events' });
    await session.close();
  });

  it('an omp that refuses set_subagent_subscription still starts, and its session works', async () => {
    const { session, transport, events } = await start({
      startup: [READY],
      respond: (command, fake) =>
        command.type === 'set_subagent_subscription' ? fake.fail(command, 'Subagent event bus is unavailable') : FakeTransport.defaultResponder(command, fake),
    });
    expect(types(transport.sent)).toContain('set_subagent_subscription');
    await expect(session.getState()).resolves.toMatchObject({ isStreaming: false });
    expect(events.filter((event) => event.type === 'error')).toEqual([]); // the refusal is not an error event
    await session.close();
  });

  it('a failed negotiation leaves protocol v1 and the session works', async () => {
    const { session } = await start({
      startup: [READY],
      respond: (command, fake) =>
        command.type === 'negotiate_protocol' ? fake.fail(command, 'Unsupported RPC protocol version: 2') : FakeTransport.defaultResponder(command, fake),
    });
    expect(session.protocolVersion).toBe(1);
    expect(session.capabilities.dialect).toBe('omp'); // learned from the ready frame
    await session.close();
  });

  it('a prompt answered twice (success, then failure with the same id) rejects, and the next prompt runs', async () => {
    let prompts = 0;
    const { session } = await start({
      startup: [READY],
      respond: (command, fake) => {
        if (command.type === 'prompt' && prompts++ === 0) {
          fake.reply(command);
          fake.emitLine(
            JSON.stringify({
              id: command.id,
              type: 'response',
              command: 'prompt',
              success: false,
              error: 'Agent is already processing. Use steer() or followUp() to queue messages, or wait for completion.',
            }),
          );
          return;
        }
        if (command.type === 'prompt') {
          fake.reply(command);
          runFrames(fake, 'second');
          return;
        }
        FakeTransport.defaultResponder(command, fake);
      },
    });
    const first = session.prompt('one');
    await expect(first).rejects.toBeInstanceOf(PiCommandError);
    await expect(first).rejects.toThrow(/already processing/);
    expect(session.status).toBe('idle');
    await expect(session.prompt('two')).resolves.toMatchObject({ finalText: 'second' });
    await session.close();
  });

  it('a cancel frame withdraws the open dialog it names', async () => {
    const { transport, session, events } = await start({ startup: [READY] });
    transport.emitFrame({ type: 'extension_ui_request', id: 'dlg1', method: 'select', title: 'Pick', options: ['a', 'b'] });
    await settle();
    expect(session.pending.map((request) => request.requestId)).toEqual(['dlg1']);
    transport.emitFrame({ type: 'extension_ui_request', id: 'c1', method: 'cancel', targetId: 'dlg1' });
    await settle();
    expect(session.pending).toEqual([]);
    expect(events.find((event) => event.type === 'ui_notice')).toMatchObject({ method: 'cancel', key: 'dlg1' });
    await session.respond('dlg1', 'a'); // late: ignored
    expect(transport.sent.filter((command) => command.type === 'extension_ui_response')).toEqual([]);
    await session.close();
  });
});

describe('protocol v2 chunks', () => {
  const chunked = (frame: object, chunkId: string, pieces = 3) => {
    const data = Buffer.from(JSON.stringify(frame), 'utf8');
    const size = Math.ceil(data.length / pieces);
    return Array.from({ length: pieces }, (_, index) => ({
      type: 'rpc_chunk',
      chunkId,
      index,
      count: pieces,
      byteLength: data.length,
      data: data.subarray(index * size, (index + 1) * size).toString('base64'),
    }));
  };

  it('reassembles an oversize frame (split inside a multi-byte character) into its events', async () => {
    const text = `big ${'é'.repeat(50)} 🙂 end`;
    const { transport, session, events } = await start({
      startup: [READY],
      respond: (command, fake) => {
        if (command.type === 'negotiate_protocol') return fake.reply(command, { protocolVersion: 2 });
        if (command.type === 'prompt') {
          fake.reply(command);
          fake.emitFrame({ type: 'agent_start' });
          fake.emitFrame({ type: 'message_update', assistantMessageEvent: { type: 'text_delta', contentIndex: 0, delta: text } });
          for (const chunk of chunked({ type: 'message_end', message: assistant(text) }, 'rpc-1', 7)) fake.emitFrame(chunk);
          fake.emitFrame({ type: 'agent_end', messages: [] });
          return;
        }
        FakeTransport.defaultResponder(command, fake);
      },
    });
    await expect(session.prompt('hi')).resolves.toMatchObject({ finalText: text });
    expect(events.find((event) => event.type === 'message_complete')).toMatchObject({ text });
    expect(events.filter((event) => event.type === 'error')).toEqual([]);
    expect(transport.sent.map((command) => command.type)).toContain('negotiate_protocol');
    await session.close();
  });

  it('a broken sequence is one error event and the stream goes on', async () => {
    const { transport, session, events } = await start({ startup: [READY] });
    const [first, second, third] = chunked({ type: 'extension_ui_request', id: 'n', method: 'notify', message: 'x'.repeat(100) }, 'rpc-2');
    transport.emitFrame(first!);
    transport.emitFrame(third!); // skipped index 1
    transport.emitFrame(second!); // the rest of the broken sequence is dropped quietly
    transport.emitFrame({ type: 'extension_ui_request', id: 'n2', method: 'notify', message: 'after' });
    await settle();
    expect(events.filter((event) => event.type === 'error').map((event) => (event as { code: string }).code)).toEqual(['invalid_chunk']);
    expect(events.filter((event) => event.type === 'ui_notice')).toMatchObject([{ message: 'after' }]);
    await session.close();
  });
});

describe('capabilities and PiUnsupportedError', () => {
  it('learns omp from the ready frame and pi 1.x from agent_settled', async () => {
    const omp = await start({ startup: [READY] });
    expect(omp.session.capabilities).toMatchObject({ dialect: 'omp', approvals: 'builtin', readyFrame: true });
    await omp.session.close();

    const pi1 = await start();
    expect(pi1.session.capabilities.dialect).toBe('pi-0.73');
    pi1.transport.emitFrame({ type: 'agent_settled', aborted: false });
    await settle();
    expect(pi1.session.capabilities).toMatchObject({ dialect: 'pi-1', agentSettled: true, clearQueue: true });
    await pi1.session.close();
  });

  it('rejects commands only other dialects have, without sending them; unknown commands still go out', async () => {
    const { transport, session } = await start();
    await expect(session.command('clear_queue')).rejects.toBeInstanceOf(PiUnsupportedError);
    await expect(session.command('branch', { entryId: 'e1' })).rejects.toThrow(/pi 0\.73 \(it calls it "fork"\)/);
    await expect(session.setThinking('max')).rejects.toBeInstanceOf(PiUnsupportedError);
    await expect(session.command('some_future_command')).resolves.toBeUndefined();
    expect(types(transport.sent)).toEqual(['get_state', 'some_future_command']);
    await session.close();

    const omp = await start({ dialect: 'omp', version: '18.2.3', startup: [READY] });
    await expect(omp.session.command('fork', { entryId: 'e1' })).rejects.toThrow(/omp 18\.2\.3 \(it calls it "branch"\)/);
    await expect(omp.session.command('set_event_filter', { events: null })).rejects.toBeInstanceOf(PiUnsupportedError); // 18.3.1+
    await expect(omp.session.command('get_available_commands')).resolves.toBeUndefined();
    await omp.session.close();
  });
});
