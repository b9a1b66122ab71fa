import type { RestartOptions } from '../session/restartPolicy.js';
import type { ManagedSessionEvent } from './ManagedSession.js';
import type { SessionRestartedNotice } from './notices.js';

/**
 * The manager's `session_restarted` notice for a session's `session_restarted` event (read
 * leniently: a session that is not a `PiSession` may send fewer fields).
 *
 * @internal
 */
export function restartNoticeOf(sessionId: string, event: ManagedSessionEvent): SessionRestartedNotice {
  const fields = event as { readonly attempt?: unknown; readonly exitCode?: unknown; readonly signal?: unknown };
  return {
    type: 'session_restarted',
    sessionId,
    attempt: typeof fields.attempt === 'number' ? fields.attempt : 1,
    exitCode: typeof fields.exitCode === 'number' ? fields.exitCode : null,
    signal: typeof fields.signal === 'string' ? fields.signal : null,
  };
}

/**
 * A factory's options with the manager's `restart`, unless they have their own (or are not an object).
 *
 * @internal
 */
export function withRestart<O>(options: O, restart: RestartOptions | boolean | undefined): O {
  if (restart === undefined || typeof options !== 'object' || options === null || 'restart' in options) return options;
  return { ...options, restart };
}
