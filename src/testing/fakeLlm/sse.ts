/**
 * Writing a reply: the chat-completions SSE stream (or the HTTP error) the way pi was recorded
 * accepting it, deterministic byte for byte.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { JsonObject } from './requests.js';
import type { FakeReply, FakeToolCall } from './types.js';

/** Fixed `created` timestamp: keeps the stream byte-for-byte deterministic. */
export const FAKE_CREATED = 1_700_000_000;
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
function sseFramer(
  id: string,
  model: string,
): {
  readonly delta: (delta: Delta, finishReason?: string) => string;
  readonly usage: (usage: JsonObject) => string;
} {
  const frame = (extra: JsonObject): string => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: FAKE_CREATED, model, ...extra })}\n\n`;
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

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export function sendHttpError(res: ServerResponse, reply: FakeReply, status: number): void {
  const body = { error: { message: `fake ${status} error`, type: errorType(status), code: null } };
  sendJson(res, status, body, reply.noRetry === true ? { 'x-should-retry': 'false' } : {});
}

/** Streams a reply as SSE: role chunk, content chunks, finish chunk, usage chunk, `[DONE]`. */
export async function streamReply(res: ServerResponse, reply: FakeReply, id: string, model: string): Promise<void> {
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
