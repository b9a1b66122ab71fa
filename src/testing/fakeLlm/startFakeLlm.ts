/**
 * A fake OpenAI-compatible chat-completions server that streams scripted replies over SSE, so the
 * real `pi` CLI (and the SDK around it) can be tested offline and deterministically.
 *
 * The reply is chosen from the request alone: a `scenario:<name>` token in the last user message
 * picks the scenario, and the number of `role:"tool"` messages after that user message is the
 * step. A tool round-trip therefore needs no server state. The SSE wire format is the one pi
 * 0.73.1 was recorded accepting (OpenAI chat-completions chunks, then `data: [DONE]`). Only `node:http` is used.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FAKE_MODEL, FAKE_THINKING_MODEL } from '../fakeAgentDir.js';
import { flattenHeaders, isObject, parseJson, readBody, readConversation, toolNamesOf, type JsonObject } from './requests.js';
import { scenarioReply } from './scenarios.js';
import { FAKE_CREATED, sendHttpError, sendJson, streamReply } from './sse.js';
import type { FakeLlm, FakeLlmOptions, FakeLlmRequest } from './types.js';

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
    scenarioText: conversation.scenarioText,
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
