/**
 * The manager's own notices on its `events$` (a session joined, left, was reaped, died; the
 * budget is spent), interleaved with the sessions' events.
 */
import type { LimitBreach } from '../limits/RunLimits.js';
import type { ManagedSessionEvent } from './ManagedSession.js';

/** Why a session left the manager's registry. */
export type RemovalReason = 'stopped' | 'reaped' | 'closed' | 'died';

/** Emitted on the manager's `events$` when a session joins the registry. */
export interface SessionAddedNotice {
  readonly type: 'session_added';
  readonly sessionId: string;
}

/**
 * Emitted on the manager's `events$` when a session leaves the registry: `'stopped'` by `stop()`
 * or `stopAll()`, `'reaped'` for idleness, `'closed'` when it was closed behind the manager's back
 * (its `events$` completed), `'died'` when it died on its own (its `events$` errored).
 */
export interface SessionRemovedNotice {
  readonly type: 'session_removed';
  readonly sessionId: string;
  readonly reason: RemovalReason;
}

/** Emitted on the manager's `events$` when the reaper closes an idle session (before its removal). */
export interface SessionReapedNotice {
  readonly type: 'reaped';
  readonly sessionId: string;
  readonly reason: 'idle';
  /** How long it had been idle, in ms (at least `idleTimeoutMs`, more by less than `reapIntervalMs`). */
  readonly idleMs: number;
}

/** Emitted on the manager's `events$` when a session's `events$` errors: its process died on its own. */
export interface SessionDiedNotice {
  readonly type: 'session_died';
  readonly sessionId: string;
  /** The error of the session's `events$` (a `TransportClosedError` for a `PiSession`). */
  readonly error: unknown;
}

/**
 * Emitted on the manager's `events$` when a session's pi died on its own and was started again
 * (the session's `session_restarted` event, which the manager reports as this notice in its
 * place). The session stays registered.
 */
export interface SessionRestartedNotice {
  readonly type: 'session_restarted';
  readonly sessionId: string;
  /** How many times this session was restarted so far (its event's `attempt`). */
  readonly attempt: number;
  /** How the process that died ended, when the session said. */
  readonly exitCode: number | null;
  readonly signal: string | null;
}

/**
 * Emitted on the manager's `events$`, once, when its `usage$` goes past its `limits`. Every
 * session is then told (`exceedBudget`), and `budgetExceeded` holds the breach.
 */
export interface BudgetExceededNotice {
  readonly type: 'budget_exceeded';
  /** Absent: the notice is about every session (declared so that `notice.sessionId` reads on any notice). */
  readonly sessionId?: undefined;
  /** The limit (`maxCostUsd` or `maxTokens`), its value and what the sessions used. */
  readonly breach: LimitBreach;
}

/** The manager's own events, interleaved with the sessions' events on its `events$`. */
export type ManagerNotice = SessionAddedNotice | SessionRemovedNotice | SessionReapedNotice | SessionDiedNotice | SessionRestartedNotice | BudgetExceededNotice;

/**
 * What the manager's `events$` emits: the sessions' events `E` (as they are, each with its
 * `sessionId`) and the manager's {@link ManagerNotice}s. Tell them apart with
 * {@link isManagerNotice}; session events must therefore not use the notices' `type` tags (no
 * `PiEvent` does).
 */
export type ManagerEvent<E = ManagedSessionEvent> = E | ManagerNotice;

/** The `type` tags of {@link ManagerNotice}. */
export const MANAGER_NOTICE_TYPES = ['session_added', 'session_removed', 'reaped', 'session_died', 'session_restarted', 'budget_exceeded'] as const;

/**
 * Tells the manager's notices from the sessions' events.
 *
 * ## Example
 * ```ts
 * manager.events$.pipe(filter(isManagerNotice)).subscribe((notice) => log(notice.type, notice.sessionId));
 * ```
 *
 * @param event An event of the manager's `events$`.
 * @return True for a {@link ManagerNotice}.
 */
export function isManagerNotice<E>(event: ManagerEvent<E>): event is ManagerNotice {
  const type = (event as { readonly type?: unknown }).type;
  return (MANAGER_NOTICE_TYPES as readonly unknown[]).includes(type);
}
