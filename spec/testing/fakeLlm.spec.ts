import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';
import { FAKE_MODEL, FAKE_PROVIDER, FAKE_THINKING_MODEL, writeFakeAgentDir } from '../../src/testing/fakeAgentDir.js';
import { scenarioReply } from '../../src/testing/fakeLlm/scenarios.js';
import { startFakeLlm } from '../../src/testing/fakeLlm/startFakeLlm.js';
import type { FakeLlm, FakeLlmRequest } from '../../src/testing/fakeLlm/types.js';

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// HTTP helpers

interface ChatMessage {
  readonly role: string;
  readonly content: unknown;
  readonly tool_call_id?: string;
}

/** A request body shaped like the ones pi 0.73.1 sends (OpenAI chat completions, streamed). */
function chatBody(userText: string, after: readonly ChatMessage[] = []): Json {
  return {
    model: FAKE_MODEL,
    messages: [{ role: 'system', content: 'You are a test.' }, { role: 'user', content: [{ type: 'text', text: userText }] }, ...after],
    stream: true,
    stream_options: { include_usage: true },
    tools: ['read', 'bash'].map((name) => ({ type: 'function', function: { name, parameters: {} } })),
  };
}

interface SseResult {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed `data:` payloads, `[DONE]` excluded. */
  readonly chunks: readonly Json[];
  readonly done: boolean;
  /** Set when the body stream failed (cut connection). */
  readonly error: unknown;
}

/** Reads the whole body, keeping what arrived before a cut connection. */
async function readAll(response: Response): Promise<{ text: string; error: unknown }> {
  const reader = response.body?.getReader();
  if (reader === undefined) return { text: '', error: undefined };
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, error: undefined };
      text += decoder.decode(value as Uint8Array, { stream: true });
    }
  } catch (error) {
    return { text, error };
  }
}

async function postChat(llm: FakeLlm, body: unknown): Promise<SseResult> {
  const response = await fetch(`${llm.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer fake-key' },
    body: JSON.stringify(body),
  });
  const { text, error } = await readAll(response);
  const events = text
    .split('\n\n')
    .filter((event) => event.startsWith('data: '))
    .map((event) => event.slice('data: '.length));
  const chunks = events.filter((data) => data !== '[DONE]').map((data) => JSON.parse(data) as Json);
  return { status: response.status, headers: response.headers, chunks, done: events.at(-1) === '[DONE]', error };
}

function deltasOf(chunks: readonly Json[]): Json[] {
  return chunks.flatMap((chunk) => {
    const choices = chunk['choices'] as Json[];
    return choices.map((choice) => choice['delta'] as Json);
  });
}

function textOf(chunks: readonly Json[], field = 'content'): string[] {
  return deltasOf(chunks).flatMap((delta) => (typeof delta[field] === 'string' && delta[field] !== '' ? [delta[field]] : []));
}

function finishReasonOf(chunks: readonly Json[]): unknown {
  const choices = chunks.flatMap((chunk) => chunk['choices'] as Json[]);
  return choices.map((choice) => choice['finish_reason']).find((reason) => reason !== null);
}

interface ToolCallSeen {
  id: string;
  name: string;
  arguments: string;
}

/** Reassembles streamed tool calls by `index`, the way pi does. */
function toolCallsOf(chunks: readonly Json[]): ToolCallSeen[] {
  const calls: ToolCallSeen[] = [];
  for (const delta of deltasOf(chunks)) {
    for (const part of (delta['tool_calls'] as Json[] | undefined) ?? []) {
      const index = part['index'] as number;
      const fn = part['function'] as Json;
      const call = (calls[index] ??= { id: '', name: '', arguments: '' });
      if (typeof part['id'] === 'string') call.id = part['id'];
      if (typeof fn['name'] === 'string') call.name = fn['name'];
      call.arguments += typeof fn['arguments'] === 'string' ? fn['arguments'] : '';
    }
  }
  return calls;
}

async function withLlm(run: (llm: FakeLlm) => Promise<void>, options: Parameters<typeof startFakeLlm>[0] = {}): Promise<void> {
  const llm = await startFakeLlm(options);
  try {
    await run(llm);
  } finally {
    await llm.close();
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP level

describe('startFakeLlm (HTTP)', () => {
  it('streams the default text scenario in the SSE format pi accepts', async () => {
    await withLlm(async (llm) => {
      expect(llm.url).toBe(`http://127.0.0.1:${llm.port}/v1`);
      const result = await postChat(llm, chatBody('scenario:text Say hello'));

      expect(result.status).toBe(200);
      expect(result.headers.get('content-type')).toBe('text/event-stream');
      expect(result.done).toBe(true);
      expect(deltasOf(result.chunks)[0]).toEqual({ role: 'assistant', content: '' });
      expect(textOf(result.chunks)).toEqual(['Hello', ' from', ' the', ' fake', ' LLM.']);
      expect(finishReasonOf(result.chunks)).toBe('stop');
      const last = result.chunks.at(-1);
      expect(last).toMatchObject({ id: 'chatcmpl-fake-1', object: 'chat.completion.chunk', model: FAKE_MODEL, choices: [] });
      expect(last?.['usage']).toEqual({
        prompt_tokens: 100,
        completion_tokens: 5,
        total_tokens: 105,
        prompt_tokens_details: { cached_tokens: 40 },
      });

      expect(llm.requests).toHaveLength(1);
      expect(llm.requests[0]).toMatchObject({
        n: 1,
        method: 'POST',
        url: '/v1/chat/completions',
        scenario: 'text',
        step: 0,
        attempt: 1,
        model: FAKE_MODEL,
        roles: ['system', 'user'],
        tools: ['read', 'bash'],
        lastUserText: 'scenario:text Say hello',
      });
      expect(llm.requests[0]?.headers['authorization']).toBe('Bearer fake-key');
    });
  });

  it('defaults to text without a scenario token and honours [[text:…]]', async () => {
    await withLlm(async (llm) => {
      const plain = await postChat(llm, { messages: [{ role: 'user', content: 'hi' }] });
      expect(textOf(plain.chunks).join('')).toBe('Hello from the fake LLM.');

      const custom = await postChat(llm, chatBody('scenario:text [[text:Exactly  this, please.]]'));
      expect(textOf(custom.chunks).join('')).toBe('Exactly  this, please.');
      expect(textOf(custom.chunks).length).toBeGreaterThan(1);
    });
  });

  it('sends reasoning deltas before text for think', async () => {
    await withLlm(async (llm) => {
      const { chunks } = await postChat(llm, chatBody('scenario:think What is the answer?'));
      const kinds = deltasOf(chunks)
        .slice(1)
        .flatMap((delta) => Object.keys(delta));
      expect(kinds).toEqual(['reasoning_content', 'reasoning_content', 'reasoning_content', 'content', 'content']);
      expect(textOf(chunks, 'reasoning_content').join('')).toBe('Let me think about this.');
      expect(textOf(chunks).join('')).toBe('The answer is 42.');
      expect(chunks.at(-1)?.['usage']).toMatchObject({ completion_tokens: 5 });
    });
  });

  it('calls bash at step 0 of tool-bash, with a [[cmd:…]] override', async () => {
    await withLlm(async (llm) => {
      const { chunks } = await postChat(llm, chatBody('scenario:tool-bash please'));
      expect(textOf(chunks)).toEqual(['Running it.']);
      expect(toolCallsOf(chunks)).toEqual([{ id: 'call_bash_1', name: 'bash', arguments: '{"command":"echo hi"}' }]);
      expect(finishReasonOf(chunks)).toBe('tool_calls');
      // The id/name chunk carries empty arguments; the JSON follows in two halves.
      const argumentParts = deltasOf(chunks).flatMap((delta) =>
        ((delta['tool_calls'] as Json[] | undefined) ?? []).map((part) => (part['function'] as Json)['arguments']),
      );
      expect(argumentParts).toEqual(['', '{"command":', '"echo hi"}']);

      const custom = await postChat(llm, chatBody('scenario:tool-bash [[cmd:ls -la | wc -l]] go'));
      expect(JSON.parse(toolCallsOf(custom.chunks)[0]?.arguments ?? '')).toEqual({ command: 'ls -la | wc -l' });
    });
  });

  it('echoes the tool results at step 1 of tool-bash', async () => {
    await withLlm(async (llm) => {
      const { chunks } = await postChat(
        llm,
        chatBody('scenario:tool-bash please', [
          { role: 'assistant', content: 'Running it.' },
          { role: 'tool', tool_call_id: 'call_bash_1', content: 'hi\n' },
        ]),
      );
      expect(textOf(chunks).join('')).toBe('Tool said: ["hi\\n"]');
      expect(finishReasonOf(chunks)).toBe('stop');
      expect(llm.requests[0]).toMatchObject({ step: 1, roles: ['system', 'user', 'assistant', 'tool'], toolResults: ['hi\n'] });
    });
  });

  it('calls two tools in parallel for tool-two, and reads [[path:…]] for tool-read', async () => {
    await withLlm(async (llm) => {
      const two = await postChat(llm, chatBody('scenario:tool-two please'));
      expect(toolCallsOf(two.chunks).map(({ id, name }) => ({ id, name }))).toEqual([
        { id: 'call_a', name: 'bash' },
        { id: 'call_b', name: 'bash' },
      ]);
      expect(toolCallsOf(two.chunks).map((call) => JSON.parse(call.arguments) as unknown)).toEqual([{ command: 'echo a' }, { command: 'sleep 0.2; echo b' }]);
      expect(two.chunks.at(-1)?.['usage']).toMatchObject({ completion_tokens: 2 });

      const read = await postChat(llm, chatBody('scenario:tool-read [[path:src/a b.txt]]'));
      expect(toolCallsOf(read.chunks)).toEqual([{ id: 'call_read_1', name: 'read', arguments: '{"path":"src/a b.txt"}' }]);
    });
  });

  it('answers http500 with an OpenAI-style error, adding x-should-retry:false for noretry', async () => {
    await withLlm(async (llm) => {
      const plain = await fetch(`${llm.url}/chat/completions`, {
        method: 'POST',
        body: JSON.stringify(chatBody('scenario:http500 boom')),
      });
      expect(plain.status).toBe(500);
      expect(plain.headers.get('x-should-retry')).toBeNull();
      expect(await plain.json()).toEqual({ error: { message: 'fake 500 error', type: 'server_error', code: null } });

      const noRetry = await fetch(`${llm.url}/chat/completions`, {
        method: 'POST',
        body: JSON.stringify(chatBody('scenario:http429 noretry please')),
      });
      expect(noRetry.status).toBe(429);
      expect(noRetry.headers.get('x-should-retry')).toBe('false');
      await noRetry.arrayBuffer();
    });
  });

  it('fails flaky500 only on the first attempt of a prompt', async () => {
    await withLlm(async (llm) => {
      const first = await postChat(llm, chatBody('scenario:flaky500 once'));
      const second = await postChat(llm, chatBody('scenario:flaky500 once'));
      const other = await postChat(llm, chatBody('scenario:flaky500 another prompt'));
      expect([first.status, second.status, other.status]).toEqual([500, 200, 500]);
      expect(textOf(second.chunks).join('')).toBe('Hello from the fake LLM.');
      expect(llm.requests.map((request) => request.attempt)).toEqual([1, 2, 1]);
    });
  });

  it('cuts the stream after two deltas for cut', async () => {
    await withLlm(async (llm) => {
      const result = await postChat(llm, chatBody('scenario:cut please'));
      expect(result.status).toBe(200);
      expect(textOf(result.chunks)).toEqual(['This will ', 'be cut']);
      expect(result.done).toBe(false);
      expect(result.error).toBeInstanceOf(Error);
    });
  });

  it('streams finish_reason length, slow:N:MS and long:N', async () => {
    await withLlm(async (llm) => {
      const length = await postChat(llm, chatBody('scenario:length'));
      expect(finishReasonOf(length.chunks)).toBe('length');

      const started = performance.now();
      const slow = await postChat(llm, chatBody('scenario:slow:4:30'));
      expect(performance.now() - started).toBeGreaterThanOrEqual(80);
      expect(textOf(slow.chunks)).toEqual(['w0 ', 'w1 ', 'w2 ', 'w3 ']);

      const long = await postChat(llm, chatBody('scenario:long:300'));
      const deltas = textOf(long.chunks);
      expect(deltas).toHaveLength(300);
      expect(deltas.every((delta) => delta.length === 6)).toBe(true);
    });
  });

  it('echo[:N] replies with the last user message, in at most N deltas, never splitting a surrogate pair', async () => {
    await withLlm(async (llm) => {
      const text = `scenario:echo "quoted" é 😀😀😀 \u2028\u2029 end`;
      const echoed = await postChat(llm, chatBody(text));
      expect(textOf(echoed.chunks).join('')).toBe(text);
      expect(textOf(echoed.chunks)).toHaveLength(4);

      for (const parts of [1, 3, 7, 40, 1000]) {
        const many = `scenario:echo:${parts} ${'😀'.repeat(9)}`;
        const deltas = textOf((await postChat(llm, chatBody(many))).chunks);
        expect(deltas.join('')).toBe(many);
        expect(deltas.length).toBeLessThanOrEqual(parts);
        expect(deltas.every((delta) => !/[\ud800-\udbff]$/.test(delta) && !/^[\udc00-\udfff]/.test(delta))).toBe(true);
      }
    });
  });

  it('hangs after the headers, and close() still resolves', async () => {
    const llm = await startFakeLlm();
    const response = await fetch(`${llm.url}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify(chatBody('scenario:hang')),
    });
    expect(response.status).toBe(200);
    const body = readAll(response);
    await llm.close();
    await llm.close(); // idempotent
    const { text, error } = await body;
    expect(text).toBe('');
    expect(error).toBeInstanceOf(Error);
  });

  it('closes through Symbol.asyncDispose', async () => {
    const llm = await startFakeLlm();
    await llm[Symbol.asyncDispose]();
    await expect(fetch(`${llm.url}/models`)).rejects.toThrow();
  });

  it('lists the models, answers 404 elsewhere and 400 for a non-JSON body', async () => {
    await withLlm(async (llm) => {
      const models = await fetch(`${llm.url}/models`);
      const list = (await models.json()) as { data: { id: string }[] };
      expect(list.data.map((model) => model.id)).toEqual([FAKE_MODEL, FAKE_THINKING_MODEL]);

      const missing = await fetch(`${llm.url}/embeddings`, { method: 'POST', body: '{}' });
      expect(missing.status).toBe(404);
      await missing.arrayBuffer();

      const wrongMethod = await fetch(`${llm.url}/chat/completions`);
      expect(wrongMethod.status).toBe(404);
      await wrongMethod.arrayBuffer();

      const bad = await fetch(`${llm.url}/chat/completions`, { method: 'POST', body: 'not json' });
      expect(bad.status).toBe(400);
      await bad.arrayBuffer();
      expect(llm.requests).toHaveLength(0);
    });
  });

  it('lets script override the scenarios and fall back to them', async () => {
    const seen: FakeLlmRequest[] = [];
    await withLlm(
      async (llm) => {
        const custom = await postChat(llm, chatBody('scenario:custom'));
        expect(textOf(custom.chunks, 'reasoning_content')).toEqual(['hmm']);
        expect(toolCallsOf(custom.chunks)).toEqual([{ id: 'call_write_1', name: 'write', arguments: '{"path":"x"}' }]);
        expect(finishReasonOf(custom.chunks)).toBe('tool_calls');
        expect(custom.chunks.at(-1)?.['usage']).toEqual({
          prompt_tokens: 7,
          completion_tokens: 3,
          total_tokens: 10,
          prompt_tokens_details: { cached_tokens: 0 },
        });

        const fallback = await postChat(llm, chatBody('scenario:think'));
        expect(textOf(fallback.chunks).join('')).toBe('The answer is 42.');

        const failing = await postChat(llm, chatBody('scenario:boom'));
        expect(failing.status).toBe(500);
        expect(failing.headers.get('x-should-retry')).toBe('false');
        expect(seen.map((request) => request.scenario)).toEqual(['custom', 'think', 'boom']);
      },
      {
        onRequest: (request) => seen.push(request),
        script: (request) => {
          if (request.scenario === 'boom') throw new Error('script bug');
          if (request.scenario !== 'custom') return undefined;
          return {
            thinking: 'hmm',
            toolCalls: [{ name: 'write', arguments: { path: 'x' } }],
            usage: { promptTokens: 7, completionTokens: 3 },
          };
        },
      },
    );
  });

  it('exposes the scenario table for composition', () => {
    const request: FakeLlmRequest = {
      n: 1,
      method: 'POST',
      url: '/v1/chat/completions',
      scenario: 'unknown-thing',
      step: 0,
      attempt: 1,
      model: undefined,
      roles: ['user'],
      tools: [],
      lastUserText: 'scenario:unknown-thing noretry',
      scenarioText: 'scenario:unknown-thing noretry',
      toolResults: [],
      body: {},
      headers: {},
    };
    expect(scenarioReply(request)).toEqual({ text: 'Unknown fake scenario "unknown-thing".', noRetry: true });
    expect(scenarioReply({ ...request, scenario: 'http401' })).toMatchObject({ status: 401 });
  });

  it("subagent[:MS]: the parent calls omp's task tool with the scenario; a request offering yield is the subagent's", () => {
    const parent: FakeLlmRequest = {
      n: 1,
      method: 'POST',
      url: '/v1/chat/completions',
      scenario: 'subagent:40',
      step: 0,
      attempt: 1,
      model: 'fake-1',
      roles: ['system', 'user'],
      tools: ['read', 'bash', 'task'],
      lastUserText: 'scenario:subagent:40 please',
      scenarioText: 'scenario:subagent:40 please',
      toolResults: [],
      body: {},
      headers: {},
    };
    expect(scenarioReply(parent)).toEqual({
      toolCalls: [{ id: 'call_task_1', name: 'task', arguments: { agent: 'task', task: 'scenario:subagent:40 Say hello.' } }],
    });
    const override = 'scenario:subagent [[task:scenario:text Just this.]]';
    expect(scenarioReply({ ...parent, scenario: 'subagent', scenarioText: override, lastUserText: override })).toMatchObject({
      toolCalls: [{ arguments: { agent: 'task', task: 'scenario:text Just this.' } }],
    });
    expect(scenarioReply({ ...parent, step: 1, toolResults: ['<task-result>'] })).toEqual({ text: ['Tool said: ', '["<task-result>"]'] });

    // omp's prompt for the subagent: its own text carries the token on.
    const childText = 'Complete assignment thoroughly:\n\nscenario:subagent:40 Say hello.';
    const child = { ...parent, n: 2, tools: ['read', 'bash', 'task', 'yield'], lastUserText: childText, scenarioText: childText };
    expect(scenarioReply(child)).toEqual({
      text: ['Hello ', 'from ', 'the ', 'subagent.'],
      delayMs: 40,
      toolCalls: [{ id: 'call_yield_1', name: 'yield', arguments: { data: 'Hello from the subagent.' } }],
    });
    expect(scenarioReply({ ...child, step: 1 })).toEqual({ text: 'Done.' });
  });

  it('refuses non-loopback hosts and the ports oh-my-pi probes', async () => {
    await expect(startFakeLlm({ host: '0.0.0.0' })).rejects.toThrow(RangeError);
    await expect(startFakeLlm({ port: 11434 })).rejects.toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------
// writeFakeAgentDir

describe('writeFakeAgentDir', () => {
  it('writes models.json and fast-retry settings.json', async () => {
    const dir = await writeFakeAgentDir({ baseUrl: 'http://127.0.0.1:5555/v1' });
    try {
      const models = JSON.parse(await readFile(join(dir, 'models.json'), 'utf8')) as unknown;
      const cost = { input: 1, output: 2, cacheRead: 0.1, cacheWrite: 1.25 };
      const model = { input: ['text'], contextWindow: 100000, maxTokens: 4096, cost };
      expect(models).toEqual({
        providers: {
          [FAKE_PROVIDER]: {
            baseUrl: 'http://127.0.0.1:5555/v1',
            api: 'openai-completions',
            apiKey: 'fake-key',
            compat: { supportsDeveloperRole: false, supportsReasoningEffort: false },
            models: [
              { id: 'fake-1', name: 'Fake One', reasoning: false, ...model },
              { id: 'fake-think', name: 'Fake Thinker', reasoning: true, ...model },
            ],
          },
        },
      });
      const settings = JSON.parse(await readFile(join(dir, 'settings.json'), 'utf8')) as unknown;
      expect(settings).toEqual({ retry: { baseDelayMs: 50 } });
      expect(dir.startsWith(join(tmpdir(), 'pidriver-agent-'))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('merges retry options and extra settings into a given dir', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'pidriver-spec-'));
    try {
      const dir = await writeFakeAgentDir({
        baseUrl: 'http://127.0.0.1:5555/v1',
        dir: join(parent, 'agent'),
        retry: { enabled: false },
        settings: { retry: { provider: { maxRetries: 0 } }, hideThinkingBlock: true },
      });
      expect(dir).toBe(join(parent, 'agent'));
      const settings = JSON.parse(await readFile(join(dir, 'settings.json'), 'utf8')) as unknown;
      expect(settings).toEqual({
        retry: { baseDelayMs: 50, enabled: false, provider: { maxRetries: 0 } },
        hideThinkingBlock: true,
      });
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Real pi smoke tests

const PI_BIN = fileURLToPath(new URL('../../node_modules/.bin/pi', import.meta.url));
const PI_ARGS = [
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
  FAKE_PROVIDER,
  '--model',
  FAKE_MODEL,
];
const GUARD_MS = 20_000;

/** A spawned pi in RPC mode with its stdout split into JSON frames (on `\n` only). */
class PiUnderTest {
  readonly frames: Json[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiters = new Set<() => void>();
  #stdout = '';
  #stderr = '';

  constructor(agentDir: string, home: string, cwd: string) {
    this.#child = spawn(PI_BIN, PI_ARGS, {
      cwd,
      env: { PATH: process.env['PATH'], HOME: home, PI_CODING_AGENT_DIR: agentDir },
      stdio: 'pipe',
    });
    this.exited = new Promise((resolveExit) => {
      this.#child.once('exit', (code, signal) => resolveExit({ code, signal }));
    });
    this.#child.stdout.setEncoding('utf8').on('data', (text: string) => this.#onStdout(text));
    this.#child.stderr.setEncoding('utf8').on('data', (text: string) => (this.#stderr += text));
  }

  send(command: Json): void {
    this.#child.stdin.write(`${JSON.stringify(command)}\n`);
  }

  /** Resolves with the first frame (already seen or future) matching, or rejects after the guard. */
  waitFor(predicate: (frame: Json) => boolean, what: string): Promise<Json> {
    return new Promise((resolveFrame, reject) => {
      const check = (): void => {
        const frame = this.frames.find(predicate);
        if (frame === undefined) return;
        cleanup();
        resolveFrame(frame);
      };
      const timer = setTimeout(() => {
        cleanup();
        const types = this.frames.map((f) => String(f['type'])).join(',');
        reject(new Error(`no ${what} within ${GUARD_MS} ms; frames: ${types}; stderr: ${this.#stderr.slice(-2000)}`));
      }, GUARD_MS);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Ends stdin (pi exits 0 on EOF) and waits for the exit, within the guard. */
  async endAndWait(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.#child.stdin.end();
    let timer: NodeJS.Timeout | undefined;
    const guard = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`pi did not exit within ${GUARD_MS} ms`)), GUARD_MS);
    });
    try {
      return await Promise.race([this.exited, guard]);
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
  }

  #onStdout(text: string): void {
    const lines = (this.#stdout + text).split('\n');
    this.#stdout = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') this.frames.push(JSON.parse(line) as Json);
    for (const check of [...this.#waiters]) check();
  }
}

/** Starts the fake server, an agent dir, a HOME and a cwd, runs `body`, then cleans everything up. */
async function withPi(body: (pi: PiUnderTest, llm: FakeLlm, cwd: string) => Promise<void>): Promise<void> {
  const llm = await startFakeLlm();
  const root = await mkdtemp(join(tmpdir(), 'pidriver-pi-'));
  let pi: PiUnderTest | undefined;
  try {
    const agentDir = await writeFakeAgentDir({ baseUrl: llm.url, dir: join(root, 'agent') });
    const home = await mkdtemp(join(root, 'home-'));
    const cwd = await mkdtemp(join(root, 'work-'));
    pi = new PiUnderTest(agentDir, home, cwd);
    await body(pi, llm, cwd);
  } finally {
    pi?.kill();
    await llm.close();
    await rm(root, { recursive: true, force: true });
  }
}

const isType = (type: string) => (frame: Json) => frame['type'] === type;

describe('real pi against the fake LLM', () => {
  it('runs a bash tool call end to end', { timeout: 60_000 }, async () => {
    await withPi(async (pi, llm, cwd) => {
      pi.send({ id: 'p1', type: 'prompt', message: 'scenario:tool-bash [[cmd:echo hi > made.txt]] go' });
      await pi.waitFor(isType('agent_end'), 'agent_end');

      expect(pi.frames.find((frame) => frame['id'] === 'p1')).toMatchObject({ type: 'response', success: true });
      const toolEnd = pi.frames.find(isType('tool_execution_end'));
      expect(toolEnd).toMatchObject({ toolCallId: 'call_bash_1', toolName: 'bash', isError: false });
      expect(existsSync(join(cwd, 'made.txt'))).toBe(true);
      expect(await readFile(join(cwd, 'made.txt'), 'utf8')).toBe('hi\n');
      expect(llm.requests.map(({ scenario, step }) => ({ scenario, step }))).toEqual([
        { scenario: 'tool-bash', step: 0 },
        { scenario: 'tool-bash', step: 1 },
      ]);

      expect(await pi.endAndWait()).toEqual({ code: 0, signal: null });
    });
  });

  it('streams the text scenario', { timeout: 60_000 }, async () => {
    await withPi(async (pi) => {
      pi.send({ id: 'p1', type: 'prompt', message: 'scenario:text Say hello' });
      await pi.waitFor(isType('agent_end'), 'agent_end');

      const deltas = pi.frames
        .filter(isType('message_update'))
        .map((frame) => frame['assistantMessageEvent'] as Json)
        .filter((event) => event['type'] === 'text_delta')
        .map((event) => String(event['delta']));
      expect(deltas.join('')).toBe('Hello from the fake LLM.');
      const end = pi.frames.filter(isType('message_end')).at(-1);
      expect(end?.['message']).toMatchObject({ role: 'assistant', stopReason: 'stop', usage: { input: 60, cacheRead: 40, output: 5 } });

      expect(await pi.endAndWait()).toEqual({ code: 0, signal: null });
    });
  });
});
