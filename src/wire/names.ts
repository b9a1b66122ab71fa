/**
 * The names of the wire contract between `pidriver/bridge` (Node) and `pidriver/browser`: route
 * names and SSE event names. Both sides import them from here.
 */

/** The routes of a session, relative to its base URL (`/` for a single session, `/sessions/:id/` under a manager). */
export const ROUTES = {
  events: 'events',
  state: 'state',
  pending: 'pending',
  prompt: 'prompt',
  abort: 'abort',
  respond: 'respond',
} as const;

/**
 * SSE event names. A session's events are plain SSE messages (no `event:` field, so `onmessage`
 * gets them) with `id:` = the event's `seq`; everything else is a named event. (`failure`, not
 * `error`: an `EventSource` fires its own `error` events.)
 */
export const SSE_EVENTS = {
  /** A `SessionState` snapshot (without per-event `eventCount` churn). */
  state: 'state',
  /** The open interaction requests. */
  pending: 'pending',
  /** Events the client asked to resume after are no longer in the replay window: {@link GapNotice}. */
  gap: 'gap',
  /** `Last-Event-ID` is ahead of the session: it is not the session the client knew. {@link ResetNotice}. */
  reset: 'reset',
  /** The server ends this stream: {@link CloseNotice}. The last frame of a stream. */
  close: 'close',
  /** A `prompt` stream's run is over (the last frame after its `agent_end`). */
  end: 'end',
  /** A `prompt` stream failed (pi refused the prompt, the session closed): {@link ErrorBody}. */
  failure: 'failure',
} as const;
