/**
 * Two ways to read an SSE stream as an Observable: `fetch` with a streamed body (any method,
 * headers such as `Authorization`, HTTP status codes) and `EventSource` (GET only; a token must
 * go in the query). Both emit {@link OPEN} first, then each message; unsubscribing closes the
 * connection.
 */
import { Observable } from 'rxjs';
import { BridgeHttpError, ConnectionLostError } from './errors.js';
import { SseParser, type SseMessage } from './SseParser.js';
import { SSE_EVENTS } from '../wire/names.js';
import { ErrorBodySchema } from '../wire/notices.js';

/** The part of a `fetch` Response this package reads. */
export interface ResponseLike {
  readonly ok: boolean;
  readonly status: number;
  readonly body: {
    getReader(): {
      read(): Promise<{ done: boolean; value?: Uint8Array | undefined }>;
      cancel(reason?: unknown): Promise<void>;
    };
  } | null;
  text(): Promise<string>;
}

/** What this package passes to `fetch`. */
export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** A `fetch` function (the global one, or your own: a test fake, an instrumented fetch). */
export type FetchLike = (url: string, init: FetchInit) => Promise<ResponseLike>;

/** The part of an `EventSource` this package uses. */
export interface EventSourceLike {
  addEventListener(type: string, listener: (event: { readonly data?: unknown; readonly lastEventId?: string }) => void): void;
  close(): void;
}

/** An `EventSource` constructor (the browser's, or a polyfill). */
export type EventSourceCtor = new (url: string, init?: { withCredentials?: boolean }) => EventSourceLike;

/** The first value of every source: the connection is open (the server answered 200). */
export const OPEN: SseMessage = Object.freeze({ event: 'pidriver:open', data: '', id: undefined });

/** Names the bridge sends as named events (an `EventSource` needs a listener per name). */
const NAMED_EVENTS = Object.values(SSE_EVENTS);

/**
 * Reads an SSE response with `fetch`. Errors with {@link BridgeHttpError} for a non-2xx answer,
 * completes when the body ends.
 *
 * @param fetch The fetch function.
 * @param url Absolute URL.
 * @param init Method, headers, body.
 * @return A cold Observable: each subscription is one request.
 */
export function fetchSse(fetch: FetchLike, url: string, init: Omit<FetchInit, 'signal'>): Observable<SseMessage> {
  return new Observable<SseMessage>((subscriber) => {
    const controller = new AbortController();
    const read = async () => {
      const response = await fetch(url, { ...init, headers: { Accept: 'text/event-stream', ...init.headers }, signal: controller.signal });
      if (!response.ok) throw await httpError(response, url);
      if (!response.body) throw new ConnectionLostError(`${url} answered without a body`);
      subscriber.next(OPEN);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      const parser = new SseParser();
      for (;;) {
        const { done, value } = await reader.read();
        if (subscriber.closed) return;
        if (done) break;
        for (const message of parser.push(decoder.decode(value, { stream: true }))) {
          subscriber.next(message);
          if (subscriber.closed) return;
        }
      }
      subscriber.complete();
    };
    read().catch((error: unknown) => {
      if (!subscriber.closed) subscriber.error(error);
    });
    return () => controller.abort();
  });
}

/**
 * Reads an SSE stream with an `EventSource`. Its own reconnect is switched off: the first
 * `error` closes it and errors with {@link ConnectionLostError} (an `EventSource` can't tell a
 * 401 from a network drop), so the caller decides when to reconnect.
 *
 * @param EventSource The constructor.
 * @param url Absolute URL (put a token in its query).
 * @return A cold Observable: each subscription is one `EventSource`.
 */
export function eventSourceSse(EventSource: EventSourceCtor, url: string): Observable<SseMessage> {
  return new Observable<SseMessage>((subscriber) => {
    const source = new EventSource(url);
    const forward = (event: string) => (message: { readonly data?: unknown; readonly lastEventId?: string }) => {
      const id = event === 'message' && message.lastEventId ? message.lastEventId : undefined;
      subscriber.next({ event, data: typeof message.data === 'string' ? message.data : '', id });
    };
    source.addEventListener('open', () => subscriber.next(OPEN));
    source.addEventListener('message', forward('message'));
    for (const name of NAMED_EVENTS) source.addEventListener(name, forward(name));
    source.addEventListener('error', () => {
      source.close();
      subscriber.error(new ConnectionLostError(`the EventSource for ${url} failed`));
    });
    return () => source.close();
  });
}

/**
 * The {@link BridgeHttpError} for a non-2xx response (its JSON body when it has one).
 *
 * @param response The response.
 * @param url Its URL, for the message.
 * @return The error.
 */
export async function httpError(response: ResponseLike, url: string): Promise<BridgeHttpError> {
  const text = await response.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = { error: text };
  }
  const parsed = ErrorBodySchema.safeParse(body);
  return new BridgeHttpError(response.status, parsed.success ? parsed.data : undefined, url);
}
