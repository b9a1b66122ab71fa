import type { IncomingMessage, ServerResponse } from 'node:http';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { isPiDriverError } from '../errors.js';
import { ROUTES } from '../wire/names.js';
import type { ErrorBody } from '../wire/notices.js';
import { AbortBodySchema, PromptBodySchema, RespondBodySchema } from '../wire/bodies.js';
import { checkToken, defaultAuthorize, isListedOrigin, originCheck, type AccessOptions, type Authorize, type AuthorizeResult } from './authorize.js';
import { readJsonBody } from './readJsonBody.js';
import { createRedactor } from './redact.js';
import { resolveLimits } from './resolveHandlerOptions.js';
import { SseBudget, type SseTotalLimits } from './SseBudget.js';
import { SseConnection, type DroppedClient, type SseLimits } from './SseConnection.js';
import {
  currentValue,
  errorBody,
  eventsStream,
  pendingStream,
  promptStream,
  snapshotStream,
  stateStream,
  type SseOut,
  type StreamOptions,
} from './sessionStreams.js';
import type { BridgeSession, BridgeSessionSource } from './types.js';
import type { Observable } from 'rxjs';

/**
 * Options of {@link sessionHandler}. Sizes are bytes, durations milliseconds; a size or
 * duration that is negative or NaN (or a `heartbeatMs` of 0), or a `token` shorter than 16
 * characters, throws a `PiConfigError` naming the option when the handler is created.
 *
 * Per stream (defaults): `maxBufferedBytes` 32 MiB, `maxBufferedEvents` 20,000, `heartbeatMs`
 * 15 s (`null`: none), `dropGraceMs` 5 s. Across the handler's streams: `maxTotalBufferedBytes`
 * 128 MiB, `maxStreams` 1,000. Durations of any length work (`Infinity`: never).
 */
export interface SessionHandlerOptions extends AccessOptions, Partial<SseLimits>, Partial<SseTotalLimits> {
  /**
   * A path prefix to strip from `req.url` (e.g. `'/api'`), for plain `node:http` routing or
   * Fastify. Express's `app.use('/api', handler)` strips its mount path itself: leave it unset.
   */
  readonly basePath?: string;
  /**
   * Decides whether a request may use the bridge; replaces the default check
   * ({@link defaultAuthorize} with `token`, `allowedOrigins`, `allowedHosts`). CORS preflights
   * (`OPTIONS`) are answered from `allowedOrigins` alone, since they carry no credentials.
   */
  readonly authorize?: Authorize;
  /** Largest request body, in bytes. Default 8 MiB (prompts may carry base64 images). */
  readonly maxBodyBytes?: number;
  /** Send each event's `raw` (the decoded pi frame). Default true; false saves bandwidth. */
  readonly includeRaw?: boolean;
  /** Time source of heartbeats and of the drop grace period; default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /**
   * Called when a client is dropped for falling behind its buffer bound, or for being the
   * furthest behind when all streams together pass `maxTotalBufferedBytes` (the session goes
   * on). Its `path` has token-like query values redacted. Default: one `console.warn` line.
   */
  readonly onClientDropped?: (client: DroppedClient) => void;
}

/**
 * A `(req, res, next?)` request handler for `node:http` (and Express, Fastify, Hono on Node).
 * `close()` ends every open stream (call it before `server.close()`, which otherwise waits for them).
 */
export interface SessionHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void;
  /** Ends every open stream with a `close` frame (`server_closing`); later requests get 503. */
  close(): void;
  /** How many SSE streams are open. */
  readonly openStreams: number;
  /** How many bytes wait in the write buffers of all its streams (bounded by `maxTotalBufferedBytes`). */
  readonly bufferedBytes: number;
}

type Action = (typeof ROUTES)[keyof typeof ROUTES];
type Route = { readonly action: 'list' } | { readonly action: Action; readonly sessionId: string | undefined };

const METHODS: Record<Action | 'list', 'GET' | 'POST'> = {
  list: 'GET',
  events: 'GET',
  state: 'GET',
  pending: 'GET',
  prompt: 'POST',
  abort: 'POST',
  respond: 'POST',
};
const ACTIONS = new Set<string>(Object.values(ROUTES));

/**
 * Serves one session, or every session of a manager, over HTTP: Server-Sent Events out, JSON in.
 *
 * Routes (relative to the mount point; under a manager each is under `/sessions/:id/`, and
 * `GET /sessions` lists the sessions with their state):
 *
 * | route | does |
 * | --- | --- |
 * | `GET events` | SSE: `state` and `pending` snapshots, then the session's events (`id:` = `seq`; the current run is replayed first), then updates as they happen. With `Last-Event-ID` (header, or `?lastEventId=`) it resumes after that seq; events no longer in the window are reported by a `gap` frame, a seq from another session by `reset` |
 * | `GET state`, `GET pending` | JSON snapshot; SSE of snapshots with `Accept: text/event-stream` |
 * | `POST prompt` `{ text, images?, cancelOnDisconnect? }` | JSON `RunResult` when the run ends; with `Accept: text/event-stream`, an SSE stream of that run's events (`prompt$`: the client leaving aborts the run) |
 * | `POST abort` | `session.abort()` |
 * | `POST respond` `{ requestId, value }` | `session.respond(requestId, value)` (409 when the request is not open or the value doesn't fit) |
 *
 * Every body is zod-validated (400 `{ error, issues }`). Every request passes `authorize` first
 * (default: {@link defaultAuthorize}). Each stream's write buffer is bounded
 * (`maxBufferedBytes`, `maxBufferedEvents`), and so is the total of all streams
 * (`maxTotalBufferedBytes`, `maxStreams`): a client that falls behind is dropped with a
 * `close` frame (`slow_client`) and `onClientDropped`, the furthest behind first; the session
 * and the clients that keep up are never affected. A stream ends with a `close` frame when the
 * session closes (`session_closed`) or dies (`session_died`); an event that can't be serialised
 * goes as a stub frame (same `seq` and `type`) and never ends a stream. A client that leaves at
 * any point (even before the handler got to it) ends its stream, and a streamed prompt it had
 * not started yet is never sent. Secrets (the `token`, `?token=` values) never appear in the
 * bridge's own texts: warnings, error bodies, close and failure frames.
 *
 * ## Example
 * ```ts
 * import { createServer } from 'node:http';
 * import { sessionHandler } from 'pidriver/bridge';
 *
 * const api = sessionHandler(manager, { basePath: '/api' });
 * const server = createServer((req, res) => api(req, res)).listen(4000, '127.0.0.1');
 * // Express: app.use('/api', sessionHandler(manager));
 * // shutdown: api.close(); server.close();
 * ```
 *
 * @param target A session, or a manager of sessions (`get`/`has`/`ids`).
 * @param options Access control, buffer bounds, base path, hooks.
 * @return The request handler.
 * @throws {PiConfigError} naming an invalid option (a `token` under 16 characters, a negative or NaN bound or duration).
 */
export function sessionHandler(target: BridgeSession | BridgeSessionSource, options: SessionHandlerOptions = {}): SessionHandler {
  const source = isSession(target) ? undefined : target;
  const single = isSession(target) ? target : undefined;
  checkToken(options.token);
  const { stream: limits, total, maxBodyBytes } = resolveLimits(options);
  const authorize = options.authorize ?? defaultAuthorize(options);
  const allowedOrigins = options.allowedOrigins ?? [];
  const scheduler = options.scheduler ?? asyncScheduler;
  const redact = createRedactor([options.token]);
  const streamOptions: StreamOptions = { includeRaw: options.includeRaw ?? true, redact };
  const onClientDropped = options.onClientDropped ?? warnDropped;
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');
  const streams = new Set<SseConnection>();
  const budget = new SseBudget(total);
  let closed = false;

  const stream = (req: IncomingMessage, res: ServerResponse, left: AbortSignal, sessionId: string, frames$: Observable<SseOut>) => {
    if (left.aborted) return; // the client is gone: don't subscribe (a streamed prompt is never sent)
    if (closed) {
      sendJson(res, 503, { error: 'the bridge is closing' });
      return;
    }
    if (!budget.admit()) {
      sendJson(res, 503, { error: `too many open streams (maxStreams ${total.maxStreams}); try again later` }, { 'Retry-After': '5' });
      return;
    }
    const connection: SseConnection = new SseConnection(res, {
      limits,
      budget,
      scheduler,
      describe: { sessionId, path: redact(req.url ?? ''), remoteAddress: req.socket.remoteAddress },
      onDropped: onClientDropped,
      redact,
      onEnd: () => streams.delete(connection),
    });
    streams.add(connection);
    connection.start(frames$, left);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, url: URL, route: Route, left: AbortSignal) => {
    const origin = req.headers.origin;
    if (isListedOrigin(origin, allowedOrigins)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      const check = originCheck(req, allowedOrigins);
      if (check !== true) return sendDenied(res, check);
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type, Last-Event-ID',
        'Access-Control-Max-Age': '600',
      });
      res.end();
      return;
    }
    const verdict = await authorize(req);
    if (verdict !== true) return sendDenied(res, verdict);
    const method = METHODS[route.action];
    if (req.method !== method) {
      sendJson(res, 405, { error: `${route.action} takes ${method}` }, { Allow: method });
      return;
    }
    if (route.action === 'list') {
      const sessions = source!.ids().map((sessionId) => ({ sessionId, state: currentValue(source!.get(sessionId).state$) }));
      sendJson(res, 200, { sessions });
      return;
    }
    let session: BridgeSession;
    if (single) {
      session = single;
    } else {
      const id = route.sessionId ?? '';
      if (!source!.has(id)) return sendJson(res, 404, { error: `no session "${id}"`, code: 'PI_SESSION_NOT_FOUND' });
      session = source!.get(id);
    }
    const wantsStream = (req.headers.accept ?? '').includes('text/event-stream');
    switch (route.action) {
      case 'events': {
        const lastEventId = parseLastEventId(req, url);
        if (lastEventId === null) return sendJson(res, 400, { error: 'Last-Event-ID must be a non-negative integer', issues: [] });
        stream(req, res, left, session.sessionId, eventsStream(session, lastEventId, streamOptions));
        return;
      }
      case 'state':
        if (wantsStream) stream(req, res, left, session.sessionId, snapshotStream(stateStream(session), streamOptions));
        else sendJson(res, 200, currentValue(session.state$) ?? null);
        return;
      case 'pending':
        if (wantsStream) stream(req, res, left, session.sessionId, snapshotStream(pendingStream(session), streamOptions));
        else sendJson(res, 200, currentValue(session.pending$) ?? []);
        return;
      case 'prompt': {
        const body = await readJsonBody(req, PromptBodySchema, maxBodyBytes);
        if (!body.ok) return sendBodyError(res, body);
        const { text, images, cancelOnDisconnect } = body.value;
        if (wantsStream) {
          stream(req, res, left, session.sessionId, promptStream(session.prompt$(text, images ? { images } : {}), streamOptions));
          return;
        }
        if (cancelOnDisconnect && left.aborted) return; // the client is gone already: send nothing
        try {
          const result = await session.prompt(text, { ...(images ? { images } : {}), ...(cancelOnDisconnect ? { signal: left } : {}) });
          sendJson(res, 200, result);
        } catch (error) {
          sendJson(res, errorStatus(error), errorBody(error, redact));
        }
        return;
      }
      case 'abort': {
        const body = await readJsonBody(req, AbortBodySchema, maxBodyBytes);
        if (!body.ok) return sendBodyError(res, body);
        await answer(res, session.abort(), redact);
        return;
      }
      case 'respond': {
        const body = await readJsonBody(req, RespondBodySchema, maxBodyBytes);
        if (!body.ok) return sendBodyError(res, body);
        await answer(res, session.respond(body.value.requestId, body.value.value ?? undefined), redact);
        return;
      }
    }
  };

  const handler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = stripBase(url.pathname, basePath);
    const route = path === undefined ? undefined : matchRoute(path, source !== undefined);
    if (!route) {
      if (next) next();
      else sendJson(res, 404, { error: `no route ${req.method ?? ''} ${url.pathname}` });
      return;
    }
    // From the start: a client may leave during any await below (authorize, the body), or
    // before this handler was even called (middleware).
    const left = clientLeft(res);
    handle(req, res, url, route, left).catch((error: unknown) => {
      if (left.aborted) return;
      if (!res.headersSent) sendJson(res, 500, { error: `bridge error: ${redact(error instanceof Error ? error.message : String(error))}` });
      else res.destroy(error instanceof Error ? error : undefined);
    });
  };
  return Object.defineProperties(handler, {
    close: {
      value: () => {
        closed = true;
        for (const connection of [...streams]) connection.close('server_closing', 'the server is shutting down');
      },
    },
    openStreams: { get: () => streams.size },
    bufferedBytes: { get: () => budget.bufferedBytes },
  }) as SessionHandler;
}

/** Aborted when the response closes before it finished: the client left (or had left already). */
function clientLeft(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  if (res.destroyed) controller.abort();
  else res.once('close', () => res.writableFinished || controller.abort());
  return controller.signal;
}

function isSession(target: BridgeSession | BridgeSessionSource): target is BridgeSession {
  return typeof (target as Partial<BridgeSession>).prompt === 'function' && (target as Partial<BridgeSession>).events$ !== undefined;
}

function stripBase(pathname: string, basePath: string): string | undefined {
  if (basePath === '') return pathname;
  if (pathname === basePath) return '/';
  return pathname.startsWith(`${basePath}/`) ? pathname.slice(basePath.length) : undefined;
}

function matchRoute(path: string, managed: boolean): Route | undefined {
  const segments = path.split('/').filter((segment) => segment.length > 0);
  if (!managed) {
    const [action, ...rest] = segments;
    return action !== undefined && rest.length === 0 && ACTIONS.has(action) ? { action: action as Action, sessionId: undefined } : undefined;
  }
  if (segments[0] !== 'sessions') return undefined;
  if (segments.length === 1) return { action: 'list' };
  const [, id, action, ...rest] = segments;
  if (id === undefined || action === undefined || rest.length > 0 || !ACTIONS.has(action)) return undefined;
  let sessionId: string;
  try {
    sessionId = decodeURIComponent(id);
  } catch {
    return undefined;
  }
  return { action: action as Action, sessionId };
}

/** `undefined`: none given; `null`: not a valid seq. */
function parseLastEventId(req: IncomingMessage, url: URL): number | undefined | null {
  const header = req.headers['last-event-id'];
  const raw = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('lastEventId') ?? undefined;
  if (raw === undefined || raw === '') return undefined;
  return /^\d{1,15}$/.test(raw.trim()) ? Number(raw.trim()) : null;
}

async function answer(res: ServerResponse, action: Promise<void>, redact: (text: string) => string): Promise<void> {
  try {
    await action;
    sendJson(res, 200, { ok: true });
  } catch (error) {
    sendJson(res, errorStatus(error), errorBody(error, redact));
  }
}

/** HTTP status for an error a session method threw. */
function errorStatus(error: unknown): number {
  if (!isPiDriverError(error)) return 500;
  switch (error.code) {
    case 'PI_SESSION_NOT_FOUND':
      return 404;
    case 'PI_POLICY':
    case 'PI_COMMAND_FAILED':
    case 'PI_CANCELLED':
      return 409;
    case 'PI_TRANSPORT_CLOSED':
      return 503;
    case 'PI_TIMEOUT':
      return 504;
    case 'PI_LIMIT':
      return 429; // a spent budget: no prompt runs until the host gives the session a new one
    default:
      return error.name === 'PiCommandError' ? 409 : 500;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

function sendBodyError(res: ServerResponse, result: { readonly status: number; readonly body: ErrorBody }): void {
  sendJson(res, result.status, result.body, result.status === 413 ? { Connection: 'close' } : {});
}

function sendDenied(res: ServerResponse, verdict: Exclude<AuthorizeResult, true>): void {
  if (verdict === false) return sendJson(res, 403, { error: 'forbidden' });
  sendJson(res, verdict.status, { error: verdict.error }, verdict.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {});
}

function warnDropped(client: DroppedClient): void {
  const bound = client.bound === 'total' ? `, the furthest behind when all streams held more than ${client.limits.maxTotalBufferedBytes} bytes` : '';
  console.warn(
    `pidriver/bridge: dropped a slow client of session ${client.sessionId} (${client.path}): ${client.bufferedEvents} frames / ${client.bufferedBytes} bytes behind${bound}`,
  );
}
