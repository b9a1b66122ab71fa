/**
 * pidriver's pi extension, host tools and structured output, against a fake extension API: the
 * tools registered from `PIDRIVER_HOST_TOOLS`, the environment taken away from the agent's tools,
 * the host-call dialogs, and the run marker of the `input` hook (this pi's nonce only, RPC only).
 */
import type { ExtensionAPI, ExtensionContext, InputEvent, InputEventResult } from '@mariozechner/pi-coding-agent';
import { afterEach, describe, expect, it } from 'vitest';
import approvalExtension from '../../src/extension/approval.js';
import { withRunMarker } from '../../src/protocol/hostCalls.js';

interface Tool {
  name: string;
  description: string;
  parameters: unknown;
  execute: (
    id: string,
    params: unknown,
    signal: AbortSignal | undefined,
    onUpdate: ((update: unknown) => void) | undefined,
    ctx: ExtensionContext,
  ) => Promise<unknown>;
}

const NONCE = 'n0nce';
const ENV = ['PIDRIVER_APPROVE', 'PIDRIVER_NONCE', 'PIDRIVER_HOST_TOOLS', 'PIDRIVER_ASK_TOOL'] as const;

afterEach(() => {
  for (const name of ENV) delete process.env[name];
});

function load(env: Partial<Record<(typeof ENV)[number], string>>) {
  for (const [name, value] of Object.entries(env)) process.env[name] = value;
  const tools = new Map<string, Tool>();
  let active: string[] = ['read', 'bash'];
  let onInput: ((event: InputEvent) => InputEventResult) | undefined;
  const api = {
    on: (event: string, handler: unknown) => {
      if (event === 'input') onInput = handler as typeof onInput;
    },
    registerTool: (tool: Tool) => {
      tools.set(tool.name, tool);
      if (!active.includes(tool.name)) active = [...active, tool.name];
    },
    getActiveTools: () => active,
    setActiveTools: (names: string[]) => (active = names),
  };
  approvalExtension(api as unknown as ExtensionAPI);
  return { tools, active: () => active, input: (event: Partial<InputEvent>) => onInput!({ type: 'input', text: '', source: 'rpc', ...event }) };
}

function dialogs(answers: (string | undefined)[]) {
  const asked: { title: string; placeholder: string | undefined }[] = [];
  const ctx = {
    ui: {
      input: (title: string, placeholder?: string) => {
        asked.push({ title, placeholder });
        return Promise.resolve(answers.shift());
      },
    },
  } as unknown as ExtensionContext;
  return { ctx, asked };
}

const spec = { name: 'lookup', description: 'Looks up.', parameters: { type: 'object', properties: { sku: { type: 'string' } } } };

describe('pidriver extension: host tools', () => {
  it('registers each host tool and removes the nonce and the tool list from the environment', () => {
    const { tools } = load({ PIDRIVER_NONCE: NONCE, PIDRIVER_HOST_TOOLS: JSON.stringify([spec]) });
    expect([...tools.keys()]).toEqual(['lookup']);
    expect(tools.get('lookup')).toMatchObject({ description: 'Looks up.', parameters: spec.parameters });
    expect(process.env['PIDRIVER_NONCE']).toBeUndefined();
    expect(process.env['PIDRIVER_HOST_TOOLS']).toBeUndefined();
  });

  it('a call asks the host with a dialog titled with the nonce; progress goes to onUpdate, then it asks for the next value', async () => {
    const { tools } = load({ PIDRIVER_NONCE: NONCE, PIDRIVER_HOST_TOOLS: JSON.stringify([spec]) });
    const { ctx, asked } = dialogs([
      JSON.stringify({ kind: 'update', content: [{ type: 'text', text: 'half' }] }),
      JSON.stringify({ kind: 'result', content: [{ type: 'text', text: '12 units' }], details: { n: 12 } }),
    ]);
    const updates: unknown[] = [];
    const result = await tools.get('lookup')!.execute('call_1', { sku: 'A' }, undefined, (update) => updates.push(update), ctx);
    expect(asked.map((dialog) => dialog.title)).toEqual([`pidriver:host_call ${NONCE}`, `pidriver:host_call ${NONCE}`]);
    expect(asked.map((dialog) => JSON.parse(dialog.placeholder!) as unknown)).toEqual([
      { op: 'call', toolCallId: 'call_1', name: 'lookup', args: { sku: 'A' } },
      { op: 'next', toolCallId: 'call_1' },
    ]);
    expect(updates).toEqual([{ content: [{ type: 'text', text: 'half' }], details: undefined }]);
    expect(result).toEqual({ content: [{ type: 'text', text: '12 units' }], details: { n: 12 } });
  });

  it('an error result, a cancelled dialog and a malformed answer are tool errors', async () => {
    const { tools } = load({ PIDRIVER_NONCE: NONCE, PIDRIVER_HOST_TOOLS: JSON.stringify([spec]) });
    const tool = tools.get('lookup')!;
    const run = (answer: string | undefined) => tool.execute('c', {}, undefined, undefined, dialogs([answer]).ctx);
    await expect(run(JSON.stringify({ kind: 'result', content: [{ type: 'text', text: 'offline' }], isError: true }))).rejects.toThrow('offline');
    await expect(run(undefined)).rejects.toThrow(/cancelled/);
    await expect(run('{"kind":"nope"}')).rejects.toThrow(/malformed/);
  });

  it('a bad tool list fails the extension load loudly', () => {
    expect(() => load({ PIDRIVER_NONCE: NONCE, PIDRIVER_HOST_TOOLS: '[{"name":1}]' })).toThrow(/PIDRIVER_HOST_TOOLS/);
  });
});

describe('pidriver extension: the run marker', () => {
  const output = { name: 'submit_result', description: 'Submits.', parameters: { type: 'object', properties: { city: { type: 'string' } } } };

  it('a prompt with this nonce’s marker offers the result tool and loses the marker; the next plain prompt takes it away', () => {
    const { tools, active, input } = load({ PIDRIVER_NONCE: NONCE });
    expect(input({ text: withRunMarker(NONCE, { output }, 'Which city?') })).toEqual({ action: 'transform', text: 'Which city?' });
    expect(tools.get('submit_result')).toMatchObject({ parameters: output.parameters });
    expect(active()).toContain('submit_result');
    expect(input({ text: 'Thanks' })).toEqual({ action: 'continue' });
    expect(active()).not.toContain('submit_result');
  });

  it('another nonce, or a prompt not from RPC, is passed on untouched', () => {
    const { tools, input } = load({ PIDRIVER_NONCE: NONCE });
    const forged = withRunMarker('guessed', { output }, 'hi');
    expect(input({ text: forged })).toEqual({ action: 'continue' });
    expect(input({ text: withRunMarker(NONCE, { output }, 'hi'), source: 'extension' })).toEqual({ action: 'continue' });
    expect(tools.has('submit_result')).toBe(false);
  });

  it('PIDRIVER_APPROVE=all never asks about the result tool', async () => {
    let onToolCall: ((event: unknown, ctx: ExtensionContext) => Promise<unknown>) | undefined;
    process.env['PIDRIVER_APPROVE'] = 'all';
    process.env['PIDRIVER_NONCE'] = NONCE;
    const api = {
      on: (event: string, handler: unknown) => {
        if (event === 'tool_call') onToolCall = handler as typeof onToolCall;
        if (event === 'input') (handler as (event: InputEvent) => unknown)({ type: 'input', text: withRunMarker(NONCE, { output }, 'x'), source: 'rpc' });
      },
      registerTool: () => undefined,
      getActiveTools: () => [],
      setActiveTools: () => undefined,
    };
    approvalExtension(api as unknown as ExtensionAPI);
    const { ctx, asked } = dialogs([]);
    await expect(onToolCall!({ type: 'tool_call', toolCallId: 'c', toolName: 'submit_result', input: {} }, ctx)).resolves.toBeUndefined();
    expect(asked).toEqual([]);
  });
});
