/**
 * pidriver's approval extension: unit tests against a fake extension API, and end-to-end tests
 * that load it (from source, through pi's jiti) into the real pi 0.73.1 CLI talking to the fake LLM.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ExtensionAPI, ExtensionContext, ToolCallEvent, ToolCallEventResult } from '@mariozechner/pi-coding-agent';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import approvalExtension from '../../src/extension/approval.js';
import { startFakeLlm } from '../../src/testing/fakeLlm/startFakeLlm.js';
import type { FakeLlm } from '../../src/testing/fakeLlm/types.js';
import { writeFakeAgentDir } from '../../src/testing/fakeAgentDir.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PI_BIN = join(ROOT, 'node_modules/.bin/pi');
const EXTENSION = join(ROOT, 'src/extension/approval.ts');
const WAIT_MS = 20_000;

// ---------------------------------------------------------------------------------------------
// Unit: the extension against a fake ExtensionAPI

type ToolCallHandler = (event: ToolCallEvent, ctx: ExtensionContext) => Promise<ToolCallEventResult | undefined>;
interface RegisteredTool {
  name: string;
  execute: (id: string, params: unknown, signal: AbortSignal | undefined, onUpdate: undefined, ctx: ExtensionContext) => Promise<unknown>;
}
interface Dialog {
  method: 'select' | 'input';
  title: string;
  options?: string[];
  opts?: unknown;
}

function load(env?: string): { onToolCall: ToolCallHandler; tool: RegisteredTool } {
  const previous = process.env['PIDRIVER_APPROVE'];
  const previousAskTool = process.env['PIDRIVER_ASK_TOOL'];
  if (env === undefined) delete process.env['PIDRIVER_APPROVE'];
  else process.env['PIDRIVER_APPROVE'] = env;
  process.env['PIDRIVER_ASK_TOOL'] = '1';
  let onToolCall: ToolCallHandler | undefined;
  let tool: RegisteredTool | undefined;
  const api = {
    on: (event: string, handler: ToolCallHandler) => {
      if (event === 'tool_call') onToolCall = handler;
    },
    registerTool: (definition: RegisteredTool) => {
      tool = definition;
    },
  };
  try {
    approvalExtension(api as unknown as ExtensionAPI);
  } finally {
    if (previous === undefined) delete process.env['PIDRIVER_APPROVE'];
    else process.env['PIDRIVER_APPROVE'] = previous;
    if (previousAskTool === undefined) delete process.env['PIDRIVER_ASK_TOOL'];
    else process.env['PIDRIVER_ASK_TOOL'] = previousAskTool;
  }
  if (!onToolCall || !tool) throw new Error('the extension did not register its handler and tool');
  return { onToolCall, tool };
}

function fakeContext(reply: (dialog: Dialog) => string | undefined, signal?: AbortSignal): { ctx: ExtensionContext; dialogs: Dialog[] } {
  const dialogs: Dialog[] = [];
  // Like pi's dialogs: always a Promise, and a throwing host rejects it.
  const ask = (dialog: Dialog): Promise<string | undefined> => {
    dialogs.push(dialog);
    try {
      return Promise.resolve(reply(dialog));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };
  const ui = {
    select: (title: string, options: string[], opts?: unknown) => ask({ method: 'select', title, options, opts }),
    input: (title: string, _placeholder?: string, opts?: unknown) => ask({ method: 'input', title, opts }),
  };
  return { ctx: { ui, signal } as unknown as ExtensionContext, dialogs };
}

const call = (toolName: string, input: Record<string, unknown>, toolCallId = 'call_1') => ({ type: 'tool_call', toolCallId, toolName, input }) as ToolCallEvent;

describe('approval extension (unit)', () => {
  it('asks with the documented title and options, and passes the run signal', async () => {
    const { onToolCall } = load();
    const signal = new AbortController().signal;
    const { ctx, dialogs } = fakeContext(() => 'Approve', signal);
    await expect(onToolCall(call('bash', { command: 'ls -la' }, 'call_9'), ctx)).resolves.toBeUndefined();
    await onToolCall(call('edit', { path: 'src/a.ts', edits: [] }), ctx);
    await onToolCall(call('write', { path: 'b.txt', content: 'x' }), ctx);
    expect(dialogs).toEqual([
      {
        method: 'select',
        title: 'Allow tool: bash\nCommand: ls -la\n[pidriver toolCallId=call_9]',
        options: ['Approve', 'Approve always', 'Deny'],
        opts: { signal },
      },
      {
        method: 'select',
        title: 'Allow tool: edit\nPath: src/a.ts\n[pidriver toolCallId=call_1]',
        options: ['Approve', 'Approve always', 'Deny'],
        opts: { signal },
      },
      {
        method: 'select',
        title: 'Allow tool: write\nPath: b.txt\n[pidriver toolCallId=call_1]',
        options: ['Approve', 'Approve always', 'Deny'],
        opts: { signal },
      },
    ]);
  });

  it('shows other tools by their JSON arguments, truncated to 500 characters', async () => {
    const { onToolCall } = load('all');
    const { ctx, dialogs } = fakeContext(() => 'Approve');
    await onToolCall(call('grep', { pattern: 'x'.repeat(600) }), ctx);
    await onToolCall(call('read', { path: 'a.txt' }), ctx);
    const [grep, read] = dialogs;
    const json = JSON.stringify({ pattern: 'x'.repeat(600) });
    expect(grep?.title).toBe(`Allow tool: grep\nArguments: ${json.slice(0, 500)}…\n[pidriver toolCallId=call_1]`);
    expect(read?.title).toBe('Allow tool: read\nArguments: {"path":"a.txt"}\n[pidriver toolCallId=call_1]');
    expect(grep?.opts).toBeUndefined(); // no run signal, no options
  });

  it('guards bash, edit and write by default; `all` guards every tool but ask_user; `none` nothing; a list its names', async () => {
    const asked = async (env: string | undefined, toolName: string): Promise<boolean> => {
      const { onToolCall } = load(env);
      const { ctx, dialogs } = fakeContext(() => 'Approve');
      await onToolCall(call(toolName, { command: 'x', path: 'y' }), ctx);
      return dialogs.length > 0;
    };
    expect(await asked(undefined, 'bash')).toBe(true);
    expect(await asked(undefined, 'edit')).toBe(true);
    expect(await asked(undefined, 'write')).toBe(true);
    expect(await asked(undefined, 'read')).toBe(false);
    expect(await asked('all', 'read')).toBe(true);
    expect(await asked('ALL', 'ask_user')).toBe(false);
    expect(await asked('none', 'bash')).toBe(false);
    expect(await asked(' read , ls ', 'ls')).toBe(true);
    expect(await asked('read,ls', 'bash')).toBe(false);
  });

  it('maps the answers: Approve runs, Deny and "Deny: <reason>" block, anything else blocks as cancelled', async () => {
    const { onToolCall } = load();
    const answer = async (value: string | undefined) => onToolCall(call('bash', { command: 'ls' }), fakeContext(() => value).ctx);
    await expect(answer('Approve')).resolves.toBeUndefined();
    await expect(answer('Deny')).resolves.toEqual({ block: true, reason: 'Denied by the host' });
    await expect(answer('Deny: not in prod')).resolves.toEqual({ block: true, reason: 'not in prod' });
    await expect(answer('Deny: ')).resolves.toEqual({ block: true, reason: 'Denied by the host' });
    await expect(answer(undefined)).resolves.toEqual({ block: true, reason: 'Not approved by the host (cancelled)' });
    await expect(answer('approve')).resolves.toEqual({ block: true, reason: 'Not approved by the host (cancelled)' });
  });

  it('fails closed when asking throws', async () => {
    const { onToolCall } = load();
    const { ctx } = fakeContext(() => {
      throw new Error('ui gone');
    });
    await expect(onToolCall(call('bash', { command: 'ls' }), ctx)).resolves.toEqual({
      block: true,
      reason: 'Not approved by the host (approval failed: ui gone)',
    });
  });

  it('stops asking about a tool approved "always" (per loaded extension)', async () => {
    const { onToolCall } = load();
    const { ctx, dialogs } = fakeContext(() => 'Approve always');
    await expect(onToolCall(call('bash', { command: 'a' }), ctx)).resolves.toBeUndefined();
    await expect(onToolCall(call('bash', { command: 'b' }), ctx)).resolves.toBeUndefined();
    await onToolCall(call('edit', { path: 'c' }), ctx);
    expect(dialogs.map((dialog) => dialog.title.split('\n')[0])).toEqual(['Allow tool: bash', 'Allow tool: edit']);
    const fresh = load();
    const again = fakeContext(() => 'Approve');
    await fresh.onToolCall(call('bash', { command: 'a' }), again.ctx);
    expect(again.dialogs).toHaveLength(1);
  });

  it('ask_user asks for input and reports the answer; cancelled or invalid is a tool error', async () => {
    const { tool } = load();
    expect(tool.name).toBe('ask_user');
    const signal = new AbortController().signal;
    const answered = fakeContext(() => 'blue');
    await expect(tool.execute('call_ask', { question: 'Favourite colour?' }, signal, undefined, answered.ctx)).resolves.toEqual({
      content: [{ type: 'text', text: 'User answered: blue' }],
      details: { question: 'Favourite colour?', answer: 'blue' },
    });
    expect(answered.dialogs).toEqual([{ method: 'input', title: 'Favourite colour?', opts: { signal } }]);
    const cancelled = fakeContext(() => undefined);
    await expect(tool.execute('c', { question: 'Why?' }, undefined, undefined, cancelled.ctx)).rejects.toThrow(/did not answer/);
    await expect(tool.execute('c', { question: ' ' }, undefined, undefined, cancelled.ctx)).rejects.toThrow(/non-empty "question"/);
    await expect(tool.execute('c', {}, undefined, undefined, cancelled.ctx)).rejects.toThrow(/non-empty "question"/);
  });
});

// ---------------------------------------------------------------------------------------------
// End to end: the real pi CLI

type Frame = Record<string, unknown> & { type: string };

/** A pi process in RPC mode, with a bounded wait for frames. */
class Pi {
  readonly frames: Frame[] = [];
  readonly #child: ChildProcessWithoutNullStreams;
  #cursor = 0;
  #waiters = new Set<() => void>();
  #stderr = '';
  #exited = false;

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    this.#child = spawn(
      PI_BIN,
      [
        '--mode',
        'rpc',
        '--no-session',
        '--offline',
        '--no-extensions',
        '--no-skills',
        '--no-prompt-templates',
        '--no-themes',
        '--no-context-files',
        '--provider',
        'fake',
        '--model',
        'fake-1',
        '-e',
        EXTENSION,
      ],
      { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.#child.stderr.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-4000);
    });
    this.#child.on('exit', () => {
      this.#exited = true;
      this.#wake();
    });
    createInterface({ input: this.#child.stdout, crlfDelay: Infinity }).on('line', (line) => {
      try {
        this.frames.push(JSON.parse(line) as Frame);
      } catch {
        return; // not a frame
      }
      this.#wake();
    });
  }

  send(message: object): void {
    this.#child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  /** The next frame (after the last one returned) that matches, within {@link WAIT_MS}. */
  next(label: string, match: (frame: Frame) => boolean): Promise<Frame> {
    return new Promise((resolvePromise, reject) => {
      const check = (): void => {
        const index = this.frames.findIndex((frame, i) => i >= this.#cursor && match(frame));
        if (index >= 0) {
          this.#cursor = index + 1;
          done();
          resolvePromise(this.frames[index] as Frame);
        } else if (this.#exited) {
          done();
          reject(new Error(`pi exited while waiting for ${label}; stderr: ${this.#stderr}`));
        }
      };
      const guard = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${label}; frames: ${this.frames.map((f) => f.type).join(',')}; stderr: ${this.#stderr}`));
      }, WAIT_MS);
      const done = (): void => {
        clearTimeout(guard);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Frames of a type seen so far. */
  all(type: string): Frame[] {
    return this.frames.filter((frame) => frame.type === type);
  }

  kill(): void {
    if (!this.#exited) this.#child.kill('SIGKILL');
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

const isSelect = (frame: Frame): boolean => frame.type === 'extension_ui_request' && frame['method'] === 'select';
const isToolEnd = (frame: Frame): boolean => frame.type === 'tool_execution_end';
const isAgentEnd = (frame: Frame): boolean => frame.type === 'agent_end';
const resultText = (frame: Frame): string =>
  ((frame['result'] as { content?: { text?: string }[] } | undefined)?.content ?? []).map((part) => part.text ?? '').join('\n');

describe('approval extension in the real pi CLI', () => {
  let llm: FakeLlm;
  let home: string;
  let agentDir: string;
  let cwd: string;
  let pi: Pi | undefined;

  beforeAll(async () => {
    llm = await startFakeLlm();
    home = await mkdtemp(join(tmpdir(), 'pidriver-ext-home-'));
    agentDir = await writeFakeAgentDir({ baseUrl: llm.url, dir: join(home, 'agent') });
  });

  afterEach(async () => {
    pi?.kill();
    pi = undefined;
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  afterAll(async () => {
    await llm.close();
    await rm(home, { recursive: true, force: true });
  });

  async function startPi(extraEnv: Record<string, string> = {}): Promise<Pi> {
    cwd = await mkdtemp(join(tmpdir(), 'pidriver-ext-cwd-'));
    pi = new Pi(cwd, { PATH: process.env['PATH'] ?? '', HOME: home, PI_CODING_AGENT_DIR: agentDir, PIDRIVER_ASK_TOOL: '1', ...extraEnv });
    return pi;
  }

  async function promptBash(proc: Pi, file: string): Promise<Frame> {
    proc.send({ type: 'prompt', message: `scenario:tool-bash [[cmd:echo hi > ${file}]]` });
    return proc.next('the approval select', isSelect);
  }

  it('asks with a select; "Approve" lets the tool run', async () => {
    const proc = await startPi();
    try {
      const select = await promptBash(proc, 'made.txt');
      expect(select).toMatchObject({
        method: 'select',
        title: 'Allow tool: bash\nCommand: echo hi > made.txt\n[pidriver toolCallId=call_bash_1]',
        options: ['Approve', 'Approve always', 'Deny'],
      });
      proc.send({ type: 'extension_ui_response', id: select['id'], value: 'Approve' });
      const end = await proc.next('tool_execution_end', isToolEnd);
      expect(end).toMatchObject({ toolCallId: 'call_bash_1', isError: false });
      await proc.next('agent_end', isAgentEnd);
      expect(existsSync(join(cwd, 'made.txt'))).toBe(true);
    } finally {
      proc.kill();
    }
  });

  it('"Deny: <reason>" blocks the tool with that reason', async () => {
    const proc = await startPi();
    try {
      const select = await promptBash(proc, 'made.txt');
      proc.send({ type: 'extension_ui_response', id: select['id'], value: 'Deny: nope' });
      const end = await proc.next('tool_execution_end', isToolEnd);
      expect(end['isError']).toBe(true);
      expect(resultText(end)).toContain('nope');
      await proc.next('agent_end', isAgentEnd);
      expect(existsSync(join(cwd, 'made.txt'))).toBe(false);
    } finally {
      proc.kill();
    }
  });

  it('a cancelled dialog blocks the tool (fail closed)', async () => {
    const proc = await startPi();
    try {
      const select = await promptBash(proc, 'made.txt');
      proc.send({ type: 'extension_ui_response', id: select['id'], cancelled: true });
      const end = await proc.next('tool_execution_end', isToolEnd);
      expect(end['isError']).toBe(true);
      expect(resultText(end)).toContain('Not approved by the host (cancelled)');
      await proc.next('agent_end', isAgentEnd);
      expect(existsSync(join(cwd, 'made.txt'))).toBe(false);
    } finally {
      proc.kill();
    }
  });

  it('"Approve always" stops asking about that tool for the rest of the process', async () => {
    const proc = await startPi();
    try {
      const select = await promptBash(proc, 'one.txt');
      proc.send({ type: 'extension_ui_response', id: select['id'], value: 'Approve always' });
      await proc.next('agent_end', isAgentEnd);
      proc.send({ type: 'prompt', message: 'scenario:tool-bash [[cmd:echo hi > two.txt]]' });
      const end = await proc.next('second tool_execution_end', isToolEnd);
      expect(end['isError']).toBe(false);
      await proc.next('second agent_end', isAgentEnd);
      expect(proc.frames.filter(isSelect)).toHaveLength(1);
      expect(existsSync(join(cwd, 'one.txt'))).toBe(true);
      expect(existsSync(join(cwd, 'two.txt'))).toBe(true);
    } finally {
      proc.kill();
    }
  });

  it('PIDRIVER_APPROVE=none lets every tool run without asking', async () => {
    const proc = await startPi({ PIDRIVER_APPROVE: 'none' });
    try {
      proc.send({ type: 'prompt', message: 'scenario:tool-bash [[cmd:echo hi > free.txt]]' });
      const end = await proc.next('tool_execution_end', isToolEnd);
      expect(end['isError']).toBe(false);
      await proc.next('agent_end', isAgentEnd);
      expect(proc.all('extension_ui_request').filter((frame) => frame['method'] === 'select')).toEqual([]);
      expect(existsSync(join(cwd, 'free.txt'))).toBe(true);
    } finally {
      proc.kill();
    }
  });

  it('ask_user asks the host with an input dialog and returns the answer to the model', async () => {
    const proc = await startPi();
    try {
      proc.send({ type: 'prompt', message: 'scenario:tool-ask' });
      const input = await proc.next('the ask_user input', (frame) => frame.type === 'extension_ui_request' && frame['method'] === 'input');
      expect(input['title']).toBe('Favourite colour?');
      proc.send({ type: 'extension_ui_response', id: input['id'], value: 'blue' });
      const end = await proc.next('tool_execution_end', isToolEnd);
      expect(end).toMatchObject({ toolName: 'ask_user', isError: false });
      expect(resultText(end)).toBe('User answered: blue');
      await proc.next('agent_end', isAgentEnd);
    } finally {
      proc.kill();
    }
  });

  it('ask_user reports a cancelled question as a tool error', async () => {
    const proc = await startPi();
    try {
      proc.send({ type: 'prompt', message: 'scenario:tool-ask' });
      const input = await proc.next('the ask_user input', (frame) => frame.type === 'extension_ui_request' && frame['method'] === 'input');
      proc.send({ type: 'extension_ui_response', id: input['id'], cancelled: true });
      const end = await proc.next('tool_execution_end', isToolEnd);
      expect(end).toMatchObject({ toolName: 'ask_user', isError: true });
      expect(resultText(end)).toContain('did not answer');
      await proc.next('agent_end', isAgentEnd);
    } finally {
      proc.kill();
    }
  });
});
