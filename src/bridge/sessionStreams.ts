/**
 * The SSE streams of one session, as formatted text: `GET …/events` (events with resume, plus
 * state and pending snapshots), `GET …/state`, `GET …/pending`, and a prompt's run.
 */
import { catchError, distinctUntilChanged, endWith, map, merge, of, take, takeWhile, type Observable } from 'rxjs';
import { SSE_EVENTS } from '../wire/names.js';
import type { PiEvent } from '../protocol/events.js';
import type { SessionState } from '../protocol/sessionValues.js';
import { resumeAfter, type ResumeItem } from './resumeAfter.js';
import { closeFrame, formatEventFrame, formatSseFrame } from './sseFrame.js';
import type { BridgeSession } from './types.js';

/** A formatted frame; `final` marks the last one of a stream. */
export interface SseOut {
  readonly text: string;
  readonly final?: true;
}

/** How a handler formats its streams. */
export interface StreamOptions {
  /** Send each event's `raw`. */
  readonly includeRaw: boolean;
  /** Takes secrets out of the texts the bridge writes itself (error messages). */
  readonly redact: (text: string) => string;
}

const SESSION_CLOSED: SseOut = { text: formatSseFrame(closeFrame('session_closed', 'the session was closed')), final: true };

const sessionDied = (error: unknown, redact: (text: string) => string): SseOut => ({
  text: formatSseFrame(closeFrame('session_died', redact(error instanceof Error ? error.message : String(error)))),
  final: true,
});

/**
 * Reads the value an Observable replays synchronously (a `state$`), if any.
 *
 * @param source$ A replaying Observable.
 * @return Its current value, or `undefined`.
 */
export function currentValue<T>(source$: Observable<T>): T | undefined {
  let value: T | undefined;
  source$
    .pipe(take(1))
    .subscribe({ next: (current) => (value = current), error: () => undefined })
    .unsubscribe();
  return value;
}

/** State snapshots without the churn of `eventCount` (it changes with every event; clients count events themselves). */
export function stateStream(session: BridgeSession): Observable<SseOut> {
  return session.state$.pipe(
    distinctUntilChanged(sameStateButEventCount),
    map((state) => ({ text: formatSseFrame({ event: SSE_EVENTS.state, data: state }) })),
  );
}

export function pendingStream(session: BridgeSession): Observable<SseOut> {
  return session.pending$.pipe(map((pending) => ({ text: formatSseFrame({ event: SSE_EVENTS.pending, data: pending }) })));
}

/**
 * `GET …/events`: the current state and pending requests, then the events after `lastEventId`
 * (see {@link resumeAfter}), state and pending updates as they change, and a `close` frame when
 * the session ends.
 */
export function eventsStream(session: BridgeSession, lastEventId: number | undefined, { includeRaw, redact }: StreamOptions): Observable<SseOut> {
  const events$ = resumeAfter(session.recentEvents$ ?? session.events$, lastEventId, () => currentValue(session.state$)?.eventCount).pipe(
    map((item): SseOut => ({ text: formatResumeItem(item, includeRaw) })),
    endWith(SESSION_CLOSED),
    catchError((error: unknown) => of(sessionDied(error, redact))),
  );
  return merge(stateStream(session), pendingStream(session), events$).pipe(takeWhile((out) => out.final !== true, true));
}

/** `GET …/state` or `…/pending` as a stream: snapshots until the session ends. */
export function snapshotStream(snapshots$: Observable<SseOut>, { redact }: StreamOptions): Observable<SseOut> {
  return snapshots$.pipe(
    endWith(SESSION_CLOSED),
    catchError((error: unknown) => of(sessionDied(error, redact))),
  );
}

/** `POST …/prompt` as a stream: the run's events, then `end` (or `failure` if the prompt failed). */
export function promptStream(run$: Observable<PiEvent>, { includeRaw, redact }: StreamOptions): Observable<SseOut> {
  return run$.pipe(
    map((event): SseOut => ({ text: formatEventFrame(event, includeRaw) })),
    endWith({ text: formatSseFrame({ event: SSE_EVENTS.end, data: {} }), final: true } satisfies SseOut),
    catchError((error: unknown) => of<SseOut>({ text: formatSseFrame({ event: SSE_EVENTS.failure, data: errorBody(error, redact) }), final: true })),
  );
}

/** The JSON error body for an error a session threw, secrets taken out of its message. */
export function errorBody(error: unknown, redact: (text: string) => string): { error: string; code?: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? { error: redact(error.message), code } : { error: redact(error.message) };
  }
  return { error: redact(String(error)) };
}

function formatResumeItem(item: ResumeItem, includeRaw: boolean): string {
  switch (item.kind) {
    case 'event':
      return formatEventFrame(item.event, includeRaw);
    case 'gap':
      return formatSseFrame({ event: SSE_EVENTS.gap, data: item.gap });
    case 'reset':
      return formatSseFrame({ event: SSE_EVENTS.reset, data: item.reset });
  }
}

function sameStateButEventCount(a: SessionState, b: SessionState): boolean {
  for (const key of Object.keys(b) as (keyof SessionState)[]) {
    if (key !== 'eventCount' && a[key] !== b[key]) return false;
  }
  return Object.keys(a).length === Object.keys(b).length;
}
