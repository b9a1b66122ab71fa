/**
 * Host tools and structured output on omp, through a whole PiSession over a FakeTransport that
 * speaks omp's wire: its `ready` frame, `set_host_tools` (the tools, their JSON Schema), the
 * `host_tool_call` frames it sends and the `host_tool_update` / `host_tool_result` frames the host
 * writes back, and `prompt_result` ending each run. No process, no network.
 */
import { concat, of } from 'rxjs';
import * as z from 'zod';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PiConfig } from '../../src/config/PiConfig.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiSession } from '../../src/session/PiSession.js';
import { FakeTransport, type SentCommand } from '../../src/testing/FakeTransport.js';
import { hostTool, type AnyHostTool } from '../../src/tools/hostTool.js';

const config = PiConfig.parse({ requestTimeoutMs: 2_000, startTimeoutMs: 2_000 });
/** omp's handshake: protocol v1 only (no negotiation in these specs). */
const READY = { type: 'ready', protocolVersion: 1, supportedProtocolVersions: [1] };

const assistant = (text: string) => ({
  role: 'assistant',
  content: text ? [{ type: 'text', text }] : [],
  stopReason: 'stop',
  usage: { input: 10, output: 2, cacheRead: 0, cacheWrite: 0, totalTokens: 12, cost: { total: 0.001 } },
});

/** How the fake omp goes on after a prompt, and after each host_tool_result it gets. */
interface Script {
  /** After `agent_start`: the frames of the model's turn (a tool call…), or the end of the run. */
  readonly onPrompt: (prompt: SentCommand, omp: FakeTransport) => void;
  /** A `host_tool_result` arrived. */
  readonly onResult?: (result: SentCommand, omp: FakeTransport) => void;
}

const sessions: PiSession[] = [];
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.close()));
});

/** A session on a fake omp that runs `script`; `set_host_tools` is answered unless `refuseTools`. */
async function start(options: { tools?: readonly AnyHostTool[]; script?: Script; refuseTools?: boolean } = {}) {
  const transport = new FakeTransport({
    respond: (command, omp) => {
      switch (command.type) {
        case 'set_host_tools':
          if (options.refuseTools) omp.fail(command, 'Unknown command: set_host_tools');
          else omp.reply(command);
          return;
        case 'prompt':
          omp.reply(command);
          omp.emitFrame({ type: 'agent_start' });
          (options.script?.onPrompt ?? endRun)(command, omp);
          return;
        case 'host_tool_update':
          return; // a frame, not a command: omp answers nothing
        case 'host_tool_result':
          options.script?.onResult?.(command, omp);
          return;
        default:
          FakeTransport.defaultResponder(command, omp);
      }
    },
  });
  transport.emitFrame(READY);
  const session = new PiSession({
    sessionId: 'omp-1',
    transport,
    config,
    cwd: '/work',
    dialect: 'omp',
    version: '18.3.4', // ends each run on its prompt_result, without a get_state
    tools: options.tools ?? [],
    nonce: 'test-nonce',
  });
  sessions.push(session);
  const events: PiEvent[] = [];
  session.events$.subscribe({ next: (event) => events.push(event), error: () => undefined });
  await session.start();
  return { transport, session, events };
}

/** A fake omp's end of a run, for scripts (the prompt in flight is the last one sent). */
function endRun(prompt: SentCommand, omp: FakeTransport, text = 'done'): void {
  omp.emitFrame({ type: 'message_end', message: assistant(text) });
  omp.emitFrame({ type: 'agent_end', messages: [] });
  omp.emitFrame({ type: 'prompt_result', id: prompt.id, agentInvoked: true, status: 'completed', sessionSettled: true });
}

/** The model calls `toolName` (omp starts the tool, then asks the host to run it). */
function callTool(omp: FakeTransport, id: string, toolCallId: string, toolName: string, args: unknown): void {
  omp.emitFrame({
    type: 'message_end',
    message: { ...assistant(''), content: [{ type: 'toolCall', id: toolCallId, name: toolName, arguments: args }], stopReason: 'toolUse' },
  });
  omp.emitFrame({ type: 'tool_execution_start', toolCallId, toolName, args });
  omp.emitFrame({ type: 'host_tool_call', id, toolCallId, toolName, arguments: args });
}

/** A model that calls `toolName` once (`h1`, `call_1`); the run ends with `text` once the host answered. */
function oneCall(toolName: string, args: unknown, text?: string): Script {
  let prompt: SentCommand | undefined;
  return {
    onPrompt: (sent, omp) => {
      prompt = sent;
      callTool(omp, 'h1', 'call_1', toolName, args);
    },
    onResult: (result, omp) => {
      toolEndFromResult(result, omp, 'call_1', toolName);
      endRun(prompt!, omp, text);
    },
  };
}

/** omp gets a host_tool_result: the tool ends with it. */
function toolEndFromResult(result: SentCommand, omp: FakeTransport, toolCallId: string, toolName: string): void {
  const { content, details } = result['result'] as { content: unknown; details?: unknown };
  omp.emitFrame({ type: 'tool_execution_end', toolCallId, toolName, isError: result['isError'] === true, result: { content, details } });
}

const types = (sent: readonly SentCommand[]) => sent.map((command) => command.type);
const ofType = <T extends PiEvent['type']>(events: readonly PiEvent[], type: T) =>
  events.filter((event): event is Extract<PiEvent, { type: T }> => event.type === type);

const lookup = (execute = vi.fn(({ sku }: { sku: string }) => Promise.resolve({ content: `12 units of ${sku}`, details: { units: 12 } }))) => ({
  execute,
  tool: hostTool({
    name: 'lookup_stock',
    description: 'Looks up how many units of a SKU are in stock.',
    parameters: z.object({ sku: z.string().min(3) }),
    execute,
  }),
});

describe('host tools on omp', () => {
  it('start() gives omp the tools with set_host_tools (their JSON Schema) and waits for its answer', async () => {
    const { tool } = lookup();
    const { transport } = await start({ tools: [tool] });
    expect(types(transport.sent)).toEqual(['get_state', 'set_subagent_subscription', 'set_host_tools']);
    expect(transport.sent[2]).toEqual({
      type: 'set_host_tools',
      id: expect.any(String) as string,
      tools: [
        {
          name: 'lookup_stock',
          label: 'lookup_stock',
          description: 'Looks up how many units of a SKU are in stock.',
          parameters: { type: 'object', properties: { sku: { type: 'string', minLength: 3 } }, required: ['sku'] },
          loadMode: 'essential', // the model sees it as a function with its schema (not omp's xd:// device)
        },
      ],
    });
  });

  it('without tools nothing is set', async () => {
    const { transport } = await start();
    expect(types(transport.sent)).toEqual(['get_state', 'set_subagent_subscription']);
  });

  it('an omp that refuses set_host_tools fails start() and the session is closed', async () => {
    const { tool } = lookup();
    await expect(start({ tools: [tool], refuseTools: true })).rejects.toThrow(/set_host_tools/);
    expect(sessions.at(-1)?.status).toBe('closed');
  });

  it('a host_tool_call runs execute in the host; its value goes back as host_tool_result and the run ends', async () => {
    const { tool, execute } = lookup();
    const { transport, session, events } = await start({
      tools: [tool],
      script: oneCall('lookup_stock', { sku: 'A-100' }, '12 units in stock'),
    });
    const result = await session.prompt('how many A-100?');
    expect(result).toMatchObject({ reason: 'completed', finalText: '12 units in stock' });
    expect(execute).toHaveBeenCalledTimes(1);
    const [args, context] = execute.mock.calls[0]! as unknown as [unknown, { session: unknown; toolCallId: string; signal: AbortSignal }];
    expect(args).toEqual({ sku: 'A-100' });
    expect(context.session).toBe(session);
    expect(context.toolCallId).toBe('call_1');
    expect(transport.sent.filter((command) => command.type === 'host_tool_result')).toEqual([
      { type: 'host_tool_result', id: 'h1', result: { content: [{ type: 'text', text: '12 units of A-100' }], details: { units: 12 } } },
    ]);
    expect(ofType(events, 'tool_end')).toMatchObject([{ name: 'lookup_stock', isError: false, result: '12 units of A-100', details: { units: 12 } }]);
    expect(ofType(events, 'interaction_request')).toEqual([]);
    expect(ofType(events, 'error')).toEqual([]);
  });

  it('progress goes back as host_tool_update frames before the host_tool_result', async () => {
    const progress = hostTool({
      name: 'count_up',
      description: 'Counts to three.',
      parameters: z.object({}),
      execute: () => concat(of('step 1', 'step 2'), of({ content: 'counted to 3' })),
    });
    const { transport, session } = await start({
      tools: [progress],
      script: oneCall('count_up', {}),
    });
    await session.prompt('count');
    expect(transport.sent.filter((command) => command.type.startsWith('host_tool_'))).toEqual([
      { type: 'host_tool_update', id: 'h1', partialResult: { content: [{ type: 'text', text: 'step 1' }] } },
      { type: 'host_tool_update', id: 'h1', partialResult: { content: [{ type: 'text', text: 'step 2' }] } },
      { type: 'host_tool_result', id: 'h1', result: { content: [{ type: 'text', text: 'counted to 3' }] } },
    ]);
  });

  it('invalid arguments never reach execute: omp gets an isError host_tool_result naming the field', async () => {
    const { tool, execute } = lookup();
    const { transport, session, events } = await start({
      tools: [tool],
      script: oneCall('lookup_stock', { sku: 42 }),
    });
    await session.prompt('how many?');
    expect(execute).not.toHaveBeenCalled();
    expect(transport.sent.find((command) => command.type === 'host_tool_result')).toMatchObject({
      id: 'h1',
      isError: true,
      result: { content: [{ type: 'text', text: expect.stringMatching(/^Invalid arguments for lookup_stock: sku: /) as string }] },
    });
    expect(ofType(events, 'tool_end')).toMatchObject([{ name: 'lookup_stock', isError: true }]);
  });

  it('host_tool_cancel aborts the running call’s signal', async () => {
    let signal: AbortSignal | undefined;
    const slow = hostTool({
      name: 'slow_tool',
      description: 'Takes forever.',
      parameters: z.object({}),
      execute: (_args, context) => {
        signal = context.signal;
        return new Promise<string>(() => undefined);
      },
    });
    const { transport, session } = await start({
      tools: [slow],
      script: {
        onPrompt: (prompt, omp) => {
          callTool(omp, 'h1', 'call_1', 'slow_tool', {});
          omp.emitFrame({ type: 'host_tool_cancel', id: 'x1', targetId: 'h1' });
          omp.emitFrame({ type: 'tool_execution_end', toolCallId: 'call_1', toolName: 'slow_tool', isError: true, result: { content: [] } });
          endRun(prompt, omp);
        },
      },
    });
    await session.prompt('go slow');
    expect(signal?.aborted).toBe(true);
    expect(types(transport.sent)).not.toContain('host_tool_result');
  });
});

describe('structured output on omp', () => {
  const City = z.object({ city: z.string(), population: z.number() });
  const cityTool = (tools: unknown) => (tools as { name: string }[]).map((tool) => tool.name);
  const setHostTools = (sent: readonly SentCommand[]) =>
    sent.filter((command) => command.type === 'set_host_tools').map((command) => cityTool(command['tools']));

  it('submit_result is set before the prompt; its call is recorded as result.output; the next prompt sets the tools without it', async () => {
    const { tool } = lookup();
    const { transport, session, events } = await start({
      tools: [tool],
      script: {
        onPrompt: (prompt, omp) => {
          if (prompt['message'] === 'plain') return endRun(prompt, omp, 'just text');
          callTool(omp, 'h9', 'call_9', 'submit_result', { city: 'Paris', population: 2_100_000 });
        },
        onResult: (result, omp) => {
          toolEndFromResult(result, omp, 'call_9', 'submit_result');
          endRun(
            transport.sent.findLast((command) => command.type === 'prompt')!,
            omp,
            '',
          );
        },
      },
    });
    const result = await session.prompt('which city?', { output: City });
    expect(result).toMatchObject({ reason: 'completed', output: { city: 'Paris', population: 2_100_000 } });
    expect(result).not.toHaveProperty('errorCode');
    const population: number | undefined = result.output?.population;
    expect(population).toBe(2_100_000);
    // Set (with submit_result, its schema) right before the prompt; the prompt itself is unchanged (no run marker on omp).
    // …and set back without it once the run is over.
    expect(types(transport.sent)).toEqual([
      'get_state',
      'set_subagent_subscription',
      'set_host_tools',
      'set_host_tools',
      'prompt',
      'host_tool_result',
      'set_host_tools',
    ]);
    const offered = transport.sent[3]!;
    expect(offered['tools']).toEqual([
      expect.objectContaining({ name: 'lookup_stock' }),
      expect.objectContaining({
        name: 'submit_result',
        parameters: { type: 'object', properties: { city: { type: 'string' }, population: { type: 'number' } }, required: ['city', 'population'] },
      }),
    ]);
    expect(transport.sent[4]!['message']).toBe('which city?');
    expect(transport.sent[5]).toEqual({ type: 'host_tool_result', id: 'h9', result: { content: [{ type: 'text', text: 'Result recorded.' }] } });
    expect(ofType(events, 'agent_end')[0]?.output).toEqual({ city: 'Paris', population: 2_100_000 });

    await expect(session.prompt('plain')).resolves.toMatchObject({ reason: 'completed', finalText: 'just text' });
    expect(setHostTools(transport.sent)).toEqual([['lookup_stock'], ['lookup_stock', 'submit_result'], ['lookup_stock']]);
    // A prompt without output sends no set_host_tools: nothing to take away.
    await session.prompt('plain');
    expect(setHostTools(transport.sent)).toHaveLength(3);
  });

  it('an invalid call is answered with an isError host_tool_result naming the field; the valid retry wins', async () => {
    let calls = 0;
    const { transport, session } = await start({
      script: {
        onPrompt: (_prompt, omp) => callTool(omp, 'h1', 'call_1', 'submit_result', { city: 'Paris', population: 'lots' }),
        onResult: (result, omp) => {
          calls++;
          toolEndFromResult(result, omp, `call_${calls}`, 'submit_result');
          if (calls === 1) callTool(omp, 'h2', 'call_2', 'submit_result', { city: 'Paris', population: 2_100_000 });
          else
            endRun(
              transport.sent.findLast((command) => command.type === 'prompt')!,
              omp,
              '',
            );
        },
      },
    });
    const result = await session.prompt('which city?', { output: City });
    expect(result).toMatchObject({ reason: 'completed', output: { city: 'Paris', population: 2_100_000 } });
    const results = transport.sent.filter((command) => command.type === 'host_tool_result');
    expect(results[0]).toMatchObject({ id: 'h1', isError: true, result: { content: [{ text: expect.stringContaining('population') as string }] } });
    expect(results[1]).toEqual({ type: 'host_tool_result', id: 'h2', result: { content: [{ type: 'text', text: 'Result recorded.' }] } });
    expect(types(transport.sent).filter((type) => type === 'prompt')).toHaveLength(1);
  });

  it('a model that never calls it is asked again in the same run, then the run ends as structured_output_missing', async () => {
    const { transport, session, events } = await start({ script: { onPrompt: (prompt, omp) => endRun(prompt, omp, 'Paris, I think.') } });
    const result = await session.prompt('which city?', { output: City, outputAttempts: 2 });
    expect(result).toMatchObject({ reason: 'error', errorCode: 'structured_output_missing' });
    expect(result.output).toBeUndefined();
    const prompts = transport.sent.filter((command) => command.type === 'prompt');
    expect(prompts).toHaveLength(2);
    expect(prompts[1]!['message']).toMatch(/submit_result/);
    // Offered once for the run (the follow-up needs no new set_host_tools), taken away at its end.
    expect(types(transport.sent)).toEqual(['get_state', 'set_subagent_subscription', 'set_host_tools', 'prompt', 'prompt', 'set_host_tools']);
    expect(ofType(events, 'agent_start')).toHaveLength(1);
    expect(ofType(events, 'agent_end')).toHaveLength(1);
    // The session goes on.
    await expect(session.prompt('plain')).resolves.toMatchObject({ reason: 'completed' });
    expect(setHostTools(transport.sent)).toEqual([['submit_result'], []]);
  });
});
