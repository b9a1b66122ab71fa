import {
  BehaviorSubject,
  concat,
  EMPTY,
  filter,
  map,
  mergeMap,
  ReplaySubject,
  Subject,
  takeWhile,
  throwError,
  type Observable,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { PiProtocolError } from '../errors.js';
import type { DecisionInput } from '../policies/types.js';
import type { InteractionRequest, PiEvent } from '../protocol/events.js';
import { ReplayHub, type ReplayLimits } from '../rx/ReplayHub.js';
import type { PromptImage, RunResult, SessionState } from '../protocol/sessionValues.js';
import { decodeMessage, type InvalidMessage } from './decodeMessage.js';
import { ConnectionLostError } from './errors.js';
import { resumableEvents, type ReconnectOptions, type StreamItem } from './resumableEvents.js';
import { eventSourceSse, fetchSse, httpError, type EventSourceCtor, type FetchLike, type ResponseLike } from './sseSources.js';
import { ROUTES } from '../wire/names.js';
import { RunResultWireSchema } from '../wire/values.js';
import type { GapNotice, ResetNotice } from '../wire/notices.js';

/** Options of {@link connectSession}. */
export interface ConnectSessionOptions {
  /** Sent as `Authorization: Bearer <token>` (with an `EventSource`: as the `token` query parameter). */
  readonly token?: string;
  /** The fetch used for every request; default the global `fetch`. */
  readonly fetch?: FetchLike;
  /**
   * Read the event stream with this `EventSource` constructor instead of `fetch` (e.g.
   * `window.EventSource`). `fetch` is the default: it sends the token as a header and sees
   * HTTP status codes, so a 401 is not retried forever.
   */
  readonly EventSource?: EventSourceCtor;
  /** Time source of the reconnect backoff; default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Backoff of reconnects. Default 250 ms doubling up to 10 s, no attempt limit. */
  readonly reconnect?: ReconnectOptions;
  /** Bounds of the local replay of `events$` (the current run). Default 10,000 events / 16 MiB. */
  readonly replay?: Partial<ReplayLimits>;
}

/** The connection to the bridge, as `connection$` reports it. */
export type ConnectionStatus =
  | { readonly status: 'connecting' }
  | { readonly status: 'open' }
  | { readonly status: 'reconnecting'; readonly attempt: number; readonly delayMs: number; readonly error: unknown }
  | { readonly status: 'closed'; readonly error?: unknown };

/**
 * Something the app may want to know about the event stream: `gap` (events were lost: they
 * left the server's replay window while this client was away), `reset` (the server's session
 * is not the one this client knew: its seq restarted), `invalid` (a frame that didn't validate;
 * one with a `seq` also becomes an `error` event with code `invalid_event`).
 */
export type StreamNotice =
  ({ readonly type: 'gap' } & GapNotice) | ({ readonly type: 'reset' } & ResetNotice) | ({ readonly type: 'invalid' } & Omit<InvalidMessage, 'kind'>);

/** Options of {@link RemoteSession.prompt}. */
export interface RemotePromptOptions {
  readonly images?: readonly PromptImage[];
  /**
   * Cancels the prompt: the request is aborted, and the server drops the prompt (or aborts its
   * run). The promise then rejects with the signal's reason.
   */
  readonly signal?: AbortSignal;
}

const DEFAULT_REPLAY: ReplayLimits = { maxEvents: 10_000, maxBytes: 16 * 1024 * 1024 };

/**
 * A session served by `pidriver/bridge`, with the members of a local `PiSession` that a UI
 * uses, so UI code is the same for both: `events$`, `state$`, `pending$`, `prompt()`,
 * `prompt$()`, `abort()`, `respond()`.
 *
 * It connects at once and stays connected until {@link close}: a dropped connection is reopened
 * with backoff and resumes after the last event received (`Last-Event-ID`), so no event still in
 * the server's replay window is lost or delivered twice (see {@link notices$} for events that
 * were not). Create it with {@link connectSession}.
 */
export class RemoteSession {
  /** The session's base URL (ends with `/`). */
  readonly url: string;
  /**
   * The session's events, typed and zod-validated, hot: a late subscriber first gets the current
   * run (bounded like a local session's), then live events. `usage` values are `UsageTotals`
   * instances (revived from JSON). Completes when the server's session is closed (or on
   * {@link close}); errors with a `TransportClosedError` when its pi died, or when the bridge
   * can't be reached for good (a 4xx answer, or `reconnect.maxAttempts` failures).
   */
  readonly events$: Observable<PiEvent>;
  /** The session's state (replayed; `usage` revived). `eventCount` follows the events received. */
  readonly state$: Observable<SessionState>;
  /** Open interaction requests (replayed). Answer them with {@link respond}. */
  readonly pending$: Observable<readonly InteractionRequest[]>;
  /** The connection's status (replayed, even after `closed`). */
  readonly connection$: Observable<ConnectionStatus>;
  /** Gaps, resets and invalid frames, as they happen (hot, no replay). */
  readonly notices$: Observable<StreamNotice>;

  readonly #fetch: FetchLike;
  readonly #token: string | undefined;
  readonly #hub: ReplayHub<PiEvent>;
  readonly #state = new BehaviorSubject<SessionState | undefined>(undefined);
  readonly #pending = new BehaviorSubject<readonly InteractionRequest[]>([]);
  /** A ReplaySubject, not a BehaviorSubject: a late subscriber still learns it is `closed`. */
  readonly #connection = new ReplaySubject<ConnectionStatus>(1);
  readonly #notices = new Subject<StreamNotice>();
  readonly #subscription: Subscription;
  #lastSeq = 0;
  #closed = false;

  /** @internal Use {@link connectSession}. */
  constructor(url: string, options: ConnectSessionOptions = {}) {
    this.url = baseUrl(url);
    this.#token = options.token;
    this.#fetch = options.fetch ?? defaultFetch();
    this.#hub = new ReplayHub<PiEvent>({ ...DEFAULT_REPLAY, ...options.replay });
    this.events$ = this.#hub.observable;
    this.state$ = this.#state.pipe(filter((state): state is SessionState => state !== undefined));
    this.pending$ = this.#pending.asObservable();
    this.#connection.next({ status: 'connecting' });
    this.connection$ = this.#connection.asObservable();
    this.notices$ = this.#notices.asObservable();
    const EventSource = options.EventSource;
    this.#subscription = resumableEvents({
      open: (lastEventId) => {
        const url = this.#url(ROUTES.events, lastEventId === undefined ? {} : { lastEventId: String(lastEventId) });
        if (EventSource) return eventSourceSse(EventSource, this.#token ? withQuery(url, { token: this.#token }) : url);
        return fetchSse(this.#fetch, url, { headers: this.#authHeaders() });
      },
      ...(options.scheduler ? { scheduler: options.scheduler } : {}),
      ...options.reconnect,
    }).subscribe({
      next: (item) => this.#onItem(item),
      error: (error: unknown) => this.#terminate(error),
      complete: () => this.#terminate(undefined),
    });
  }

  /** The session's id, once the first state or event has arrived. */
  get sessionId(): string | undefined {
    return this.#state.value?.sessionId;
  }
  /** The latest state, once one has arrived. */
  get state(): SessionState | undefined {
    return this.#state.value;
  }
  /** Open interaction requests, oldest first. */
  get pending(): readonly InteractionRequest[] {
    return this.#pending.value;
  }

  /**
   * Sends a prompt and resolves with its result when the run ends (`session.prompt()` on the
   * server; one request held open for the run).
   *
   * @throws {BridgeHttpError} when the bridge refuses it (`body.code` tells pi's refusal from a
   *   closed session); the signal's reason when `signal` aborts.
   */
  async prompt(text: string, options: RemotePromptOptions = {}): Promise<RunResult> {
    const response = await this.#post(
      ROUTES.prompt,
      { text, ...(options.images ? { images: options.images } : {}), ...(options.signal ? { cancelOnDisconnect: true } : {}) },
      options.signal,
    );
    const body = await response.text();
    const result = RunResultWireSchema.safeParse(safeJson(body));
    if (!result.success) throw new PiProtocolError(`invalid prompt result from the bridge: ${result.error.message}`, body);
    return result.data;
  }

  /**
   * The events of one prompt's run, cold, like a local `prompt$()`: subscribing sends the prompt,
   * the stream completes when its run ends, and unsubscribing before then aborts the run (the
   * server's `prompt$()` is unsubscribed when this request goes away). So
   * `texts$.pipe(switchMap((text) => remote.prompt$(text)))` aborts a superseded run.
   *
   * A dropped connection is not retried (that would send the prompt twice): the stream errors
   * with `ConnectionLostError`, and the server aborts the run.
   */
  prompt$(text: string, options: Pick<RemotePromptOptions, 'images'> = {}): Observable<PiEvent> {
    const request$ = fetchSse(this.#fetch, this.#url(ROUTES.prompt), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...this.#authHeaders() },
      body: JSON.stringify({ text, ...(options.images ? { images: options.images } : {}) }),
    });
    // The stream ends with the run's `end` frame; a stream that ends before it lost the connection.
    return concat(
      request$,
      throwError(() => new ConnectionLostError('the prompt stream ended before its run did')),
    ).pipe(
      map(decodeMessage),
      takeWhile((decoded) => decoded.kind !== 'end'),
      mergeMap((decoded) => (decoded.kind === 'event' ? [decoded.event] : decoded.kind === 'fail' ? throwError(() => decoded.error) : EMPTY)),
    );
  }

  /** Aborts the current run (`session.abort()` on the server). */
  async abort(): Promise<void> {
    await this.#post(ROUTES.abort, {});
  }

  /**
   * Answers an interaction request (`session.respond()` on the server): a `Decision`, or a value
   * coerced the same way (`true`/`false`, a string, an option index, `undefined` → cancel).
   *
   * @throws {BridgeHttpError} 409 when the request is not open or the value doesn't fit it.
   */
  async respond(requestId: string, value: DecisionInput): Promise<void> {
    await this.#post(ROUTES.respond, { requestId, value: value ?? null });
  }

  /** Disconnects: `events$`, `state$` and `pending$` complete. The server's session goes on. Idempotent. */
  close(): void {
    this.#subscription.unsubscribe();
    this.#terminate(undefined);
  }

  #onItem(item: StreamItem): void {
    switch (item.kind) {
      case 'open':
        this.#connection.next({ status: 'open' });
        return;
      case 'reconnecting':
        this.#connection.next({ status: 'reconnecting', attempt: item.attempt, delayMs: item.delayMs, error: item.error });
        return;
      case 'event':
        this.#onEvent(item.event, item.bytes);
        return;
      case 'state':
        this.#state.next({ ...item.state, eventCount: Math.max(item.state.eventCount, this.#lastSeq) });
        return;
      case 'pending':
        this.#pending.next(item.pending);
        return;
      case 'gap':
        this.#notices.next({ type: 'gap', ...item.gap });
        return;
      case 'reset':
        this.#lastSeq = 0;
        this.#hub.reset();
        this.#notices.next({ type: 'reset', ...item.reset });
        return;
      case 'invalid':
        this.#onInvalid(item);
        return;
    }
  }

  #onEvent(event: PiEvent, bytes: number): void {
    if (event.type === 'agent_start') this.#hub.reset(); // the replay window is the current run, as locally
    this.#lastSeq = event.seq;
    this.#hub.next(event, bytes);
    const state = this.#state.value;
    if (state && state.eventCount < event.seq) this.#state.next({ ...state, eventCount: event.seq });
  }

  #onInvalid(invalid: InvalidMessage): void {
    const { kind: _kind, ...notice } = invalid;
    this.#notices.next({ type: 'invalid', ...notice });
    if (invalid.seq === undefined || invalid.event !== 'message') return;
    // Keep the seq sequence whole: a bad event is an `error` event, as a bad line is locally.
    const sessionId = this.sessionId ?? '';
    this.#onEvent(
      { type: 'error', code: 'invalid_event', fatal: false, message: invalid.message, line: invalid.data, sessionId, seq: invalid.seq, raw: undefined },
      invalid.data.length,
    );
  }

  #terminate(error: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#connection.next(error === undefined ? { status: 'closed' } : { status: 'closed', error });
    this.#connection.complete();
    this.#notices.complete();
    this.#state.complete();
    this.#pending.complete();
    if (error === undefined) this.#hub.complete();
    else this.#hub.error(error);
  }

  async #post(route: string, body: object, signal?: AbortSignal): Promise<ResponseLike> {
    const url = this.#url(route);
    const response = await this.#fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...this.#authHeaders() },
      body: JSON.stringify(body),
      ...(signal ? { signal } : {}),
    });
    if (!response.ok) throw await httpError(response, url);
    return response;
  }

  #authHeaders(): Record<string, string> {
    return this.#token === undefined ? {} : { Authorization: `Bearer ${this.#token}` };
  }

  #url(route: string, query: Record<string, string> = {}): string {
    return withQuery(new URL(route, this.url).href, query);
  }
}

/**
 * Connects to a session served by `pidriver/bridge`'s `sessionHandler`.
 *
 * ## Example
 * ```ts
 * import { connectSession } from 'pidriver/browser';
 *
 * const session = connectSession('/api/sessions/left', { token });
 * session.events$.subscribe({
 *   next: (event) => event.type === 'message_delta' && append(event.text),
 *   error: (error) => show(error),
 * });
 * session.pending$.subscribe((requests) => renderButtons(requests, (id, allow) => session.respond(id, allow)));
 * const result = await session.prompt('Summarize the project');
 * ```
 *
 * @param url The session's base URL: the handler's mount point for a single session, or
 *   `<mount>/sessions/<id>` under a manager. Relative URLs resolve against the page.
 * @param options Token, `fetch`/`EventSource` to use, backoff and its scheduler.
 * @return A connected {@link RemoteSession}.
 */
export function connectSession(url: string, options: ConnectSessionOptions = {}): RemoteSession {
  return new RemoteSession(url, options);
}

function baseUrl(url: string): string {
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  const resolved = new URL(url, page);
  if (!resolved.pathname.endsWith('/')) resolved.pathname += '/';
  resolved.search = '';
  resolved.hash = '';
  return resolved.href;
}

function withQuery(url: string, query: Record<string, string>): string {
  const entries = Object.entries(query);
  if (entries.length === 0) return url;
  const target = new URL(url);
  for (const [key, value] of entries) target.searchParams.set(key, value);
  return target.href;
}

function defaultFetch(): FetchLike {
  const fetch = (globalThis as { fetch?: FetchLike }).fetch;
  if (!fetch) throw new TypeError('connectSession: no global fetch; pass options.fetch');
  return (url, init) => fetch(url, init);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
