/**
 * The session manager: a registry of many sessions with an idle reaper and a clean stop-all.
 *
 * @packageDocumentation
 */
export { PiSessionManager } from './PiSessionManager.js';
export type { PiSessionManagerOptions, StopOptions } from './options.js';
export { isManagerNotice, MANAGER_NOTICE_TYPES } from './notices.js';
export type {
  ManagerEvent,
  ManagerNotice,
  RemovalReason,
  BudgetExceededNotice,
  SessionAddedNotice,
  SessionDiedNotice,
  SessionReapedNotice,
  SessionRemovedNotice,
  SessionRestartedNotice,
} from './notices.js';
export { stopStatusOf } from './ManagedSession.js';
export type {
  ManagedSession,
  ManagedSessionEvent,
  ManagedSessionState,
  ManagedSessionStatus,
  SessionEventOf,
  SessionFactory,
  StopResult,
  StopStatus,
} from './ManagedSession.js';
export { reapIdle } from './reapIdle.js';
export type { IdleExpiry, ReapIdleOptions } from './reapIdle.js';
export { closeOnExit } from './closeOnExit.js';
export type { CloseOnExitOptions, ExitEvent, ExitSignal, ProcessLike, StopAllTarget } from './closeOnExit.js';
