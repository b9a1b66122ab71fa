import type { Observable } from 'rxjs';
import type { LimitBreach } from '../limits/RunLimits.js';
import type { UsageTotals } from '../usage/UsageTotals.js';

/**
 * The least an event must carry for the manager to route it: its `type` tag and the `sessionId`
 * of the session that emitted it. Every `PiEvent` qualifies.
 */
export interface ManagedSessionEvent {
  readonly type: string;
  readonly sessionId: string;
}

/** Lifecycle of a session, as its `state$` reports it (the same values as `SessionStatus`). */
export type ManagedSessionStatus = 'starting' | 'idle' | 'running' | 'restarting' | 'closing' | 'closed';

/**
 * The part of a session's state the manager reads: whether a run is in progress, how many
 * interaction requests are open, and the running token and cost totals. `SessionState` qualifies.
 */
export interface ManagedSessionState {
  readonly status: ManagedSessionStatus;
  readonly pendingRequests: number;
  readonly usage: UsageTotals;
}

/**
 * What `PiSessionManager` needs from a session. It is structural: a `PiSession` satisfies it,
 * and so does any object with these members (a test fake, a session of another agent).
 *
 * Only `sessionId`, `lastActivity` and `close()` are required. The optional streams make the
 * manager better informed:
 * - `events$` is forwarded onto the manager's `events$`. When it **errors** the session is
 *   reported as died and removed; when it **completes** the session is removed as closed.
 * - `state$` tells the reaper when a run is in progress (`status === 'running'`) or an
 *   interaction request is open (`pendingRequests > 0`); it also feeds `usage$`.
 * - `activity$` restarts the idle window on every event in and command out. Without it the
 *   manager restarts the window on every event of `events$` and on every change of
 *   `lastActivity` it sees when it polls it (once per reap interval).
 * - `exceedBudget()` is how a manager with `limits` holds the session to its budget once it is
 *   spent (a `PiSession` ends its run in progress as `limit` and refuses new prompts).
 *
 * ## Example
 * ```ts
 * const session: ManagedSession = {
 *   sessionId: 'job-1',
 *   lastActivity: 0,
 *   close: async () => undefined,
 * };
 * manager.register(session);
 * ```
 */
export interface ManagedSession {
  /** The registry key. Unique within one manager. */
  readonly sessionId: string;
  /**
   * Clock time (ms, on the session's own clock) of the last event in or command out. The manager
   * only compares it with its previous value (to notice activity of a session without
   * `activity$`), so that clock need not be the manager's.
   */
  readonly lastActivity: number;
  /**
   * Ends the session. Idempotent. A `PiSession` resolves with a `CloseResult` whose `escalation`
   * the manager maps to a {@link StopResult} status (see {@link stopStatusOf}).
   */
  close(): Promise<unknown>;
  /** Hot events. Errors when the session dies on its own; completes when it is closed. */
  readonly events$?: Observable<ManagedSessionEvent>;
  /** The current state, replayed to late subscribers; completes when the session is closed. */
  readonly state$?: Observable<ManagedSessionState>;
  /** Emits (a timestamp) on every event in and command out. */
  readonly activity$?: Observable<number>;
  /**
   * Called by a manager whose `limits` are exceeded, once, on every registered session (and at
   * once on a session registered afterwards): end the run in progress (a `PiSession` ends it with
   * `reason: 'limit'`) and refuse new prompts (with a `PiLimitError` carrying `breach`). Must not
   * throw: a session whose `exceedBudget` throws can't be held to the budget, so the manager stops it.
   *
   * @param breach The limit, its value and what the sessions used.
   */
  exceedBudget?(breach: LimitBreach): void;
}

/**
 * The event type of a session type: `PiEvent` for a `PiSession`, the declared event type for a
 * session whose `events$` is required, else {@link ManagedSessionEvent}.
 */
export type SessionEventOf<S extends ManagedSession> = S extends { readonly events$: Observable<infer E> } ? E : ManagedSessionEvent;

/**
 * Starts a session: `client.start`'s signature, so `(options) => client.start(options)` is one.
 *
 * @param options Whatever the factory needs (for `PiClient.start`: `StartOptions`).
 * @return A promise of a started session.
 */
export type SessionFactory<S extends ManagedSession, O> = (options: O) => Promise<S>;

/**
 * How a session ended when the manager stopped it:
 * - `'closed'`: it ended cleanly (EOF on stdin, or SIGTERM),
 * - `'killed'`: it had to be SIGKILLed,
 * - `'already-dead'`: its process had exited (or never started) before the close,
 * - `'error'`: `close()` rejected, or did not settle within `stopAll`'s `timeoutMs`.
 */
export type StopStatus = 'closed' | 'killed' | 'already-dead' | 'error';

/** The result of stopping one session, as `stop()` and `stopAll()` resolve it. Never thrown. */
export type StopResult =
  | {
      readonly sessionId: string;
      readonly status: 'closed' | 'killed' | 'already-dead';
      /** What `close()` resolved with (a `CloseResult` for a `PiSession`). */
      readonly closeResult: unknown;
    }
  | {
      readonly sessionId: string;
      readonly status: 'error';
      /** Why: `close()`'s rejection, or a `PiTimeoutError` for a close that outlived `timeoutMs`. */
      readonly error: unknown;
    };

/**
 * Maps what `close()` resolved with to a {@link StopStatus}. It reads the `escalation` of a
 * `CloseResult`: `eof`/`sigterm` → `'closed'`, `sigkill` → `'killed'`,
 * `already-exited`/`not-started` → `'already-dead'`. Anything else (a session whose `close()`
 * resolves with no `CloseResult`) counts as `'closed'`: its close succeeded.
 *
 * ## Example
 * ```ts
 * stopStatusOf({ escalation: 'sigkill', exitCode: null, signal: 'SIGKILL', stderrTail: '' }); // 'killed'
 * stopStatusOf(undefined); // 'closed'
 * ```
 *
 * @param closeResult What `close()` resolved with.
 * @return The status of a close that did not reject.
 */
export function stopStatusOf(closeResult: unknown): Exclude<StopStatus, 'error'> {
  const escalation = typeof closeResult === 'object' && closeResult !== null ? (closeResult as { readonly escalation?: unknown }).escalation : undefined;
  switch (escalation) {
    case 'sigkill':
      return 'killed';
    case 'already-exited':
    case 'not-started':
      return 'already-dead';
    default:
      return 'closed';
  }
}
