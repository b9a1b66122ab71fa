/**
 * A fake OpenAI-compatible chat-completions server that streams scripted replies over SSE, so the
 * real `pi` CLI (and the SDK around it) can be tested offline and deterministically.
 *
 * The reply is chosen from the request alone: a `scenario:<name>` token in the last user message
 * picks the scenario, and the number of `role:"tool"` messages after that user message is the
 * step. A tool round-trip therefore needs no server state. The SSE wire format is the one pi
 * 0.73.1 was recorded accepting (real-pi.md §3.1). Only `node:http` is used.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FAKE_MODEL, FAKE_THINKING_MODEL } from './fakeAgentDir.js';

/** One chat-completions request the fake server received. */
export interface FakeLlmRequest {
  /** 1-based request counter (per server). */
  readonly n: number;
  readonly method: string;
  readonly url: string;
  /** The `scenario:` token of the last user message without the prefix (e.g. `slow:10:5`); `text` if none. */
  readonly scenario: string;
  /** Number of `role:"tool"` messages after the last user message. */
  readonly step: number;
  /**
   * How many requests so far (this one included) had the same last user text and step. pi's
   * retries repeat a request unchanged, so this is 1 for a first try and 2+ for retries.
   */
  readonly attempt: number;
  readonly model: string | undefined;
  /** Roles of `body.messages`, in order. */
  readonly roles: readonly string[];
  /** Names of `body.tools`. */
  readonly tools: readonly string[];
  /** Text of the last user message (text parts joined with `\n`). */
  readonly lastUserText: string;
  /** Text content of the `role:"tool"` messages after the last user message, in order. */
  readonly toolResults: readonly string[];
  /** The parsed JSON body. */
  readonly body: unknown;
  /** Request headers, lower-cased; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string | undefined>>;
}

/** A scripted tool call in a {@link FakeReply}. */
export interface FakeToolCall {
  /** Tool call id; default `call_<name>_<index+1>`. */
  readonly id?: string;
  readonly name: string;
  readonly arguments: Record<string, unknown>;
}

/** A scripted reply: a stream of deltas, or an HTTP error, or a broken stream. */
export interface FakeReply {
  /** Assistant text: one delta, or the list of deltas. */
  readonly text?: string | readonly string[];
  /** `reasoning_content` deltas, sent before the text. */
  readonly thinking?: string | readonly string[];
  /** Tool calls, sent after the text; each as an id/name chunk and two argument halves. */
  readonly toolCalls?: readonly FakeToolCall[];
  /** Default `tool_calls` when there are tool calls, else `stop`. */
  readonly finishReason?: 'stop' | 'length' | 'tool_calls';
  /** Answer with this HTTP status and body `{"error":{"message":"fake <status> error",…}}` instead of a stream. */
  readonly status?: number;
  /** Adds `x-should-retry: false`, which stops the OpenAI SDK inside pi from retrying on its own. */
  readonly noRetry?: boolean;
  /** Delay between content chunks, in milliseconds. */
  readonly delayMs?: number;
  /** Destroys the socket after this many content chunks (pi reports `terminated`). */
  readonly cutAfter?: number;
  /** Sends the SSE headers, then nothing until the client or {@link FakeLlm.close} ends it. */
  readonly hang?: boolean;
  /** Usage in the final chunk. Default: 100 prompt tokens (40 cached), one completion token per delta or tool call. */
  readonly usage?: { readonly promptTokens: number; readonly completionTokens: number; readonly cachedTokens?: number };
}

/** Options for {@link startFakeLlm}. */
export interface FakeLlmOptions {
  /** Loopback address to listen on: `127.x.x.x`, `::1` or `localhost`. Default `127.0.0.1`. */
  readonly host?: string;
  /** Port; default 0 (random). 8080, 1234 and 11434 are refused: oh-my-pi probes them for local LLMs. */
  readonly port?: number;
  /** Custom replies; when it returns `undefined` the built-in {@link scenarioReply} answers. */
  readonly script?: (request: FakeLlmRequest) => FakeReply | undefined;
  /** Called for every chat-completions request, before the reply is chosen. */
  readonly onRequest?: (request: FakeLlmRequest) => void;
}

/** A running fake server. `await using llm = await startFakeLlm()` closes it at scope exit. */
export interface FakeLlm extends AsyncDisposable {
  /** The base URL for `models.json`: `http://127.0.0.1:<port>/v1`. */
  readonly url: string;
  readonly port: number;
  /** Every chat-completions request received so far (a live array; other routes are not logged). */
  readonly requests: readonly FakeLlmRequest[];
  /** Stops listening and destroys open sockets, hanging streams included. Idempotent. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Scenarios

const DEFAULT_TEXT = ['Hello', ' from', ' the', ' fake', ' LLM.'] as const;
const SLOW_DEFAULTS = { count: 60, intervalMs: 100 } as const;
const LONG_DEFAULT_COUNT = 1000;
const ECHO_DEFAULT_PARTS = 4;
const HTTP_SCENARIOS: Readonly<Record<string, number>> = { http500: 500, http401: 401, http429: 429, http400: 400 };

type ScenarioFn = (request: FakeLlmRequest, params: readonly number[]) => FakeReply;

/** Scenarios whose step 0 calls a tool; their later steps echo the tool results. */
const TOOL_SCENARIOS: ReadonlyMap<string, ScenarioFn> = new Map<string, ScenarioFn>([
  [
    'tool-bash',
    (request) => ({
      text: 'Running it.',
      toolCalls: [{ id: 'call_bash_1', name: 'bash', arguments: { command: override(request, 'cmd') ?? 'echo hi' } }],
    }),
  ],
  [
    'tool-read',
    (request) => ({
      toolCalls: [{ id: 'call_read_1', name: 'read', arguments: { path: override(request, 'path') ?? 'hello.txt' } }],
    }),
  ],
  [
    'tool-two',
    // The sleep makes call_b finish after call_a, as in the recorded parallel run.
    () => ({
      toolCalls: [
        { id: 'call_a', name: 'bash', arguments: { command: 'echo a' } },
        { id: 'call_b', name: 'bash', arguments: { command: 'sleep 0.2; echo b' } },
      ],
    }),
  ],
  [
    'tool-ask',
    () => ({ toolCalls: [{ id: 'call_ask_1', name: 'ask_user', arguments: { question: 'Favourite colour?' } }] }),
  ],
]);

const PLAIN_SCENARIOS: ReadonlyMap<string, ScenarioFn> = new Map<string, ScenarioFn>([
  ['text', (request) => ({ text: textOverride(request) ?? DEFAULT_TEXT })],
  ['think', () => ({ thinking: ['Let me ', 'think about ', 'this.'], text: ['The answer ', 'is 42.'] })],
  [
    'slow',
    (_request, [count = SLOW_DEFAULTS.count, intervalMs = SLOW_DEFAULTS.intervalMs]) => ({
      text: Array.from({ length: count }, (_, i) => `w${i} `),
      delayMs: intervalMs,
    }),
  ],
  ['long', (_request, [count = LONG_DEFAULT_COUNT]) => ({ text: Array.from({ length: count }, (_, i) => sixChars(i)) })],
  // pi's retries resend the same request, so `attempt` tells a first try from a retry without server state.
  ['flaky500', (request) => (request.attempt === 1 ? { status: 500 } : { text: DEFAULT_TEXT })],
  // Replies with the last user message itself, so a test can check a prompt survived both hops
  // (host → pi → LLM and back) byte for byte. Few deltas: pi 0.73 resends the whole partial
  // message with every delta, so a 1 MB echo in many deltas would be quadratic on its stdout.
  ['echo', (request, [parts = ECHO_DEFAULT_PARTS]) => ({ text: splitEvenly(request.lastUserText, parts) })],
  ['cut', () => ({ text: ['This will ', 'be cut'], cutAfter: 2 })],
  ['length', () => ({ text: 'Truncated answ', finishReason: 'length' })],
  ['hang', () => ({ hang: true })],
  ...Object.entries(HTTP_SCENARIOS).map(([name, status]): [string, ScenarioFn] => [name, () => ({ status })]),
]);

/**
 * The built-in scenario table: the reply the fake server sends when no `script` overrides it.
 *
 * The scenario comes from `request.scenario` (`text`, `think`, `tool-bash`, `tool-read`, `tool-two`,
 * `tool-ask`, `slow[:N[:MS]]`, `long[:N]`, `echo[:N]`, `http500`, `http401`, `http429`, `http400`,
 * `flaky500`, `cut`, `length`, `hang`). `echo[:N]` replies with the last user message itself, in
 * at most N deltas (default 4). Tool scenarios at step ≥ 1 reply `Tool said: ` + the JSON array of the
 * tool results. Overrides in the user text: `[[cmd:…]]` (tool-bash command), `[[path:…]]` (tool-read
 * path), `[[text:…]]` (text reply); the word `noretry` adds `x-should-retry: false`. An unknown
 * scenario replies with a text naming it. Exported so a `script` can delegate or compose.
 *
 * @param request The request as the server parsed it.
 * @return The reply to send.
 */
export function scenarioReply(request: FakeLlmRequest): FakeReply {
  const reply = baseScenarioReply(request);
  return /\bnoretry\b/i.test(request.lastUserText) ? { ...reply, noRetry: true } : reply;
}

function baseScenarioReply(request: FakeLlmRequest): FakeReply {
  const [name = 'text', ...rawParams] = request.scenario.split(':');
  const params = rawParams.map(Number);
  const toolScenario = TOOL_SCENARIOS.get(name);
  if (toolScenario !== undefined) {
    return request.step === 0 ? toolScenario(request, params) : toolResultsReply(request);
  }
  const scenario = PLAIN_SCENARIOS.get(name);
  return scenario === undefined ? { text: `Unknown fake scenario "${name}".` } : scenario(request, params);
}

/** The reply after tool results: lets a test read back exactly what the tool returned. */
function toolResultsReply(request: FakeLlmRequest): FakeReply {
  return { text: ['Tool said: ', JSON.stringify(request.toolResults)] };
}

/** The text between `[[<key>:` and the next `]]` in the last user message. */
function override(request: FakeLlmRequest, key: string): string | undefined {
  const start = request.lastUserText.indexOf(`[[${key}:`);
  if (start < 0) return undefined;
  const from = start + key.length + 3;
  const end = request.lastUserText.indexOf(']]', from);
  return end < 0 ? undefined : request.lastUserText.slice(from, end);
}

/** `[[text:…]]` split into word deltas (each whitespace starts a new delta), so it still streams. */
function textOverride(request: FakeLlmRequest): readonly string[] | undefined {
  const text = override(request, 'text');
  return text === undefined ? undefined : text.split(/(?=\s)/).filter((delta) => delta.length > 0);
}

/**
 * `text` cut into at most `parts` deltas of about equal length, never inside a surrogate pair
 * (a lone surrogate would not survive the JSON hops intact).
 */
function splitEvenly(text: string, parts: number): readonly string[] {
  const count = Math.max(1, Math.min(Math.floor(parts) || 1, text.length));
  const pieces: string[] = [];
  let start = 0;
  for (let index = 1; index <= count && start < text.length; index++) {
    let end = index === count ? text.length : Math.max(start + 1, Math.round((text.length * index) / count));
    if (end < text.length && isLowSurrogate(text.charCodeAt(end))) end++;
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** A 6-character delta (`00042 `), so `long:N` replies have a predictable size. */
function sixChars(i: number): string {
  return `${String(i % 100_000).padStart(5, '0')} `;
}

// ---------------------------------------------------------------------------------------------
// Request parsing

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function messagesOf(body: unknown): readonly JsonObject[] {
  const messages = isObject(body) ? body['messages'] : undefined;
  return Array.isArray(messages) ? messages.filter(isObject) : [];
}

/** Text of a message content: a string, or an array of `{type:'text', text}` parts. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter(isObject)
    .map((part) => (part['type'] === 'text' && typeof part['text'] === 'string' ? part['text'] : ''))
    .filter((text) => text.length > 0)
    .join('\n');
}

function toolNamesOf(body: unknown): readonly string[] {
  const tools = isObject(body) ? body['tools'] : undefined;
  if (!Array.isArray(tools)) return [];
  return tools.filter(isObject).flatMap((tool) => {
    const fn = tool['function'];
    return isObject(fn) && typeof fn['name'] === 'string' ? [fn['name']] : [];
  });
}

/** The scenario token: a name plus optional numeric parameters (`slow:10:5`). */
const SCENARIO_TOKEN = /\bscenario:([A-Za-z0-9][\w-]*(?::\d+)*)/;

/** Everything the scenarios need from a request body, derived without server state. */
interface Conversation {
  readonly roles: readonly string[];
  readonly lastUserText: string;
  readonly toolResults: readonly string[];
  readonly scenario: string;
}

function readConversation(body: unknown): Conversation {
  const messages = messagesOf(body);
  const roles = messages.map((message) => String(message['role']));
  const lastUser = roles.lastIndexOf('user');
  const lastUserText = lastUser < 0 ? '' : textOf(messages[lastUser]?.['content']);
  const toolResults = messages
    .slice(lastUser + 1)
    .filter((message) => message['role'] === 'tool')
    .map((message) => textOf(message['content']));
  const scenario = SCENARIO_TOKEN.exec(lastUserText)?.[1] ?? 'text';
  return { roles, lastUserText, toolResults, scenario };
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): { readonly ok: true; readonly value: unknown } | { readonly ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

// ---------------------------------------------------------------------------------------------
// SSE output

/** Fixed `created` timestamp: keeps the stream byte-for-byte deterministic. */
const FAKE_CREATED = 1_700_000_000;
const DEFAULT_PROMPT_TOKENS = 100;
const DEFAULT_CACHED_TOKENS = 40;

type Delta = JsonObject;

function asDeltas(value: string | readonly string[] | undefined): readonly string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : value;
}

/** A tool call as pi saw it recorded: id and name first, then the JSON arguments in two halves. */
function toolCallDeltas(call: FakeToolCall, index: number): readonly Delta[] {
  const args = JSON.stringify(call.arguments);
  const half = Math.ceil(args.length / 2);
  const id = call.id ?? `call_${call.name}_${index + 1}`;
  return [
    { tool_calls: [{ index, id, type: 'function', function: { name: call.name, arguments: '' } }] },
    { tool_calls: [{ index, function: { arguments: args.slice(0, half) } }] },
    { tool_calls: [{ index, function: { arguments: args.slice(half) } }] },
  ];
}

/** The content chunks' deltas in wire order: reasoning, text, tool calls. */
function contentDeltas(reply: FakeReply): readonly Delta[] {
  return [
    ...asDeltas(reply.thinking).map((delta) => ({ reasoning_content: delta })),
    ...asDeltas(reply.text).map((delta) => ({ content: delta })),
    ...(reply.toolCalls ?? []).flatMap((call, index) => toolCallDeltas(call, index)),
  ];
}

function usageOf(reply: FakeReply): JsonObject {
  const callCount = reply.toolCalls?.length ?? 0;
  const deltaCount = asDeltas(reply.thinking).length + asDeltas(reply.text).length + callCount;
  const prompt = reply.usage?.promptTokens ?? DEFAULT_PROMPT_TOKENS;
  const completion = reply.usage?.completionTokens ?? Math.max(1, deltaCount);
  // Explicit usage without cachedTokens means nothing was cached.
  const cached = reply.usage === undefined ? DEFAULT_CACHED_TOKENS : (reply.usage.cachedTokens ?? 0);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached },
  };
}

function finishReasonOf(reply: FakeReply): string {
  return reply.finishReason ?? ((reply.toolCalls?.length ?? 0) > 0 ? 'tool_calls' : 'stop');
}

/** Builds `data: <chunk>\n\n` lines for one response. */
function sseFramer(id: string, model: string): {
  readonly delta: (delta: Delta, finishReason?: string) => string;
  readonly usage: (usage: JsonObject) => string;
} {
  const frame = (extra: JsonObject): string =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: FAKE_CREATED, model, ...extra })}\n\n`;
  return {
    delta: (delta, finishReason) => frame({ choices: [{ index: 0, delta, finish_reason: finishReason ?? null }] }),
    usage: (usage) => frame({ choices: [], usage }),
  };
}

function replyHeaders(reply: FakeReply, contentType: string): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { 'content-type': contentType, 'cache-control': 'no-cache' };
  if (reply.noRetry === true) headers['x-should-retry'] = 'false';
  return headers;
}

/** Resolves once the chunk is handed to the socket (backpressure), or at once if the response died. */
function writeChunk(res: ServerResponse, data: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    res.write(data, () => done());
  });
}

/** Waits `ms`, or less if the response dies: no timer outlives its connection. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function sendHttpError(res: ServerResponse, reply: FakeReply, status: number): void {
  const body = { error: { message: `fake ${status} error`, type: errorType(status), code: null } };
  sendJson(res, status, body, reply.noRetry === true ? { 'x-should-retry': 'false' } : {});
}

/** Streams a reply as SSE: role chunk, content chunks, finish chunk, usage chunk, `[DONE]`. */
async function streamReply(res: ServerResponse, reply: FakeReply, id: string, model: string): Promise<void> {
  const controller = new AbortController();
  // The client may already have gone while the body was read; 'close' would then never come again.
  if (res.destroyed) controller.abort();
  else res.once('close', () => controller.abort());
  const { signal } = controller;
  const sse = sseFramer(id, model);
  res.writeHead(200, replyHeaders(reply, 'text/event-stream'));
  res.flushHeaders();
  // Left open on purpose: the client's timeout, its abort or FakeLlm.close() ends it.
  if (reply.hang === true) return;
  await writeChunk(res, sse.delta({ role: 'assistant', content: '' }), signal);
  let sent = 0;
  for (const delta of contentDeltas(reply)) {
    if (shouldCut(reply, sent)) return void res.socket?.destroy();
    if (sent > 0 && reply.delayMs !== undefined && reply.delayMs > 0) await sleep(reply.delayMs, signal);
    if (signal.aborted) return;
    await writeChunk(res, sse.delta(delta), signal);
    sent += 1;
  }
  if (shouldCut(reply, sent)) return void res.socket?.destroy();
  await writeChunk(res, sse.delta({}, finishReasonOf(reply)), signal);
  await writeChunk(res, sse.usage(usageOf(reply)), signal);
  if (!signal.aborted) res.end('data: [DONE]\n\n');
}

function shouldCut(reply: FakeReply, sent: number): boolean {
  return reply.cutAfter !== undefined && sent >= reply.cutAfter;
}

// ---------------------------------------------------------------------------------------------
// Server

/** Ports local-LLM discovery in oh-my-pi connects to; a fake server there would be found by it. */
const FORBIDDEN_PORTS: ReadonlySet<number> = new Set([8080, 1234, 11434]);

function assertLoopback(host: string): void {
  if (host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return;
  throw new RangeError(`fake LLM must listen on a loopback address, not "${host}"`);
}

function assertPort(port: number): void {
  if (FORBIDDEN_PORTS.has(port)) throw new RangeError(`fake LLM must not use port ${port} (probed by oh-my-pi)`);
}

function modelList(): JsonObject {
  const model = (id: string): JsonObject => ({ id, object: 'model', created: FAKE_CREATED, owned_by: 'fake' });
  return { object: 'list', data: [model(FAKE_MODEL), model(FAKE_THINKING_MODEL)] };
}

function pathOf(url: string | undefined): string {
  const path = (url ?? '/').split('?')[0] ?? '/';
  return path.replace(/\/+$/, '');
}

/** Per-server mutable state: the request log and the retry counter behind `attempt`. */
interface ServerState {
  readonly options: FakeLlmOptions;
  readonly requests: FakeLlmRequest[];
  readonly attempts: Map<string, number>;
}

function recordRequest(state: ServerState, req: IncomingMessage, body: unknown): FakeLlmRequest {
  const conversation = readConversation(body);
  const step = conversation.toolResults.length;
  const key = `${step}\u0000${conversation.lastUserText}`;
  const attempt = (state.attempts.get(key) ?? 0) + 1;
  state.attempts.set(key, attempt);
  const model = isObject(body) && typeof body['model'] === 'string' ? body['model'] : undefined;
  const request: FakeLlmRequest = {
    n: state.requests.length + 1,
    method: req.method ?? 'POST',
    url: req.url ?? '/',
    scenario: conversation.scenario,
    step,
    attempt,
    model,
    roles: conversation.roles,
    tools: toolNamesOf(body),
    lastUserText: conversation.lastUserText,
    toolResults: conversation.toolResults,
    body,
    headers: flattenHeaders(req.headers),
  };
  state.requests.push(request);
  return request;
}

async function handleChatCompletion(state: ServerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const parsed = parseJson(await readBody(req));
  if (!parsed.ok) {
    sendJson(res, 400, { error: { message: 'fake 400: body is not JSON', type: 'invalid_request_error', code: null } });
    return;
  }
  const request = recordRequest(state, req, parsed.value);
  state.options.onRequest?.(request);
  const reply = state.options.script?.(request) ?? scenarioReply(request);
  if (reply.status !== undefined) return sendHttpError(res, reply, reply.status);
  await streamReply(res, reply, `chatcmpl-fake-${request.n}`, request.model ?? FAKE_MODEL);
}

async function handle(state: ServerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = pathOf(req.url);
  if (req.method === 'POST' && path.endsWith('/chat/completions')) return handleChatCompletion(state, req, res);
  if (req.method === 'GET' && path.endsWith('/models')) return sendJson(res, 200, modelList());
  const message = `fake 404: no route for ${req.method ?? '?'} ${req.url ?? ''}`;
  sendJson(res, 404, { error: { message, type: 'not_found', code: null } });
}

/** A throwing `script`/`onRequest` must not crash the test process: answer 500 without retries. */
function failRequest(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const message = `fake LLM handler failed: ${error instanceof Error ? error.message : String(error)}`;
  sendJson(res, 500, { error: { message, type: 'server_error', code: null } }, { 'x-should-retry': 'false' });
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function closeServer(server: Server, sockets: ReadonlySet<Socket>): Promise<void> {
  // server.close() alone waits for every open stream, and a hanging one never ends.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const socket of sockets) socket.destroy();
  return closed;
}

/**
 * Starts the fake OpenAI-compatible server on a random loopback port.
 *
 * Routes: `POST …/chat/completions` (SSE stream or scripted HTTP error; 400 if the body is not
 * JSON), `GET …/models` (`fake-1`, `fake-think`), anything else 404. Replies come from
 * `options.script` when it returns one, else from {@link scenarioReply}.
 *
 * @param options Host/port, a custom `script` and an `onRequest` hook.
 * @return The running server; call `close()` (or `await using`) when done.
 */
export async function startFakeLlm(options: FakeLlmOptions = {}): Promise<FakeLlm> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  assertLoopback(host);
  assertPort(port);
  const state: ServerState = { options, requests: [], attempts: new Map() };
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    handle(state, req, res).catch((error: unknown) => failRequest(res, error));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const address = await listen(server, port, host);
  if (FORBIDDEN_PORTS.has(address.port)) {
    // A random port can land on one of them; try again rather than be discovered by omp.
    await closeServer(server, sockets);
    return startFakeLlm(options);
  }
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= closeServer(server, sockets));
  return {
    url: `http://${urlHost}:${address.port}/v1`,
    port: address.port,
    requests: state.requests,
    close,
    [Symbol.asyncDispose]: close,
  };
}
