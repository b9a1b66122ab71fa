import { BehaviorSubject, map, type Observable } from 'rxjs';
import { UsageTotals } from '../usage/UsageTotals.js';
import type { SessionState } from './types.js';

/**
 * The state of a session that has not started yet: nothing run, nothing known of pi.
 *
 * @internal
 */
export function initialSessionState(sessionId: string, cwd: string, status: SessionState['status'] = 'starting'): SessionState {
  return {
    status,
    sessionId,
    piSessionId: undefined,
    model: undefined,
    cwd,
    runs: 0,
    eventCount: 0,
    pendingRequests: 0,
    queuedPrompts: 0,
    usage: UsageTotals.ZERO,
    restarts: 0,
    exit: undefined,
  };
}

/**
 * A session's {@link SessionState}: patched by the session, read as `state$` and `state`.
 *
 * `eventCount` (the last `seq`) is not emitted for every event, which would be a state change per
 * event: it rides along with every other change, and a new `state$` subscriber or a read of
 * `state` sees the current count, without side effects (other subscribers get nothing extra).
 *
 * @internal
 */
export class SessionStore {
  readonly #state: BehaviorSubject<SessionState>;
  readonly #eventCount: () => number;

  /** See `PiSession.state$`. */
  readonly state$: Observable<SessionState>;

  constructor(initial: SessionState, eventCount: () => number) {
    this.#state = new BehaviorSubject(initial);
    this.#eventCount = eventCount;
    // Each subscriber's first snapshot is brought up to date for it alone.
    this.state$ = this.#state.pipe(map((state, index) => (index === 0 ? this.#current(state) : state)));
  }

  /** The current snapshot, `eventCount` up to date. */
  get value(): SessionState {
    return this.#current(this.#state.value);
  }

  get status(): SessionState['status'] {
    return this.#state.value.status;
  }

  /** Applies `patch`; emits (with the current `eventCount`) only if a field changed. Ignored once closed. */
  patch(patch: Partial<SessionState>): void {
    if (this.#state.closed) return;
    const current = this.#state.value;
    if (current.status === 'closed') return;
    let changed = false;
    for (const key of Object.keys(patch) as (keyof SessionState)[]) {
      if (current[key] !== patch[key]) changed = true;
    }
    if (changed) this.#state.next({ ...current, ...patch, eventCount: this.#eventCount() });
  }

  /** The last snapshot (`status: 'closed'`, set by a final {@link patch}) stays readable. */
  complete(): void {
    this.#state.complete();
  }

  #current(state: SessionState): SessionState {
    const eventCount = this.#eventCount();
    return state.eventCount === eventCount || state.status === 'closed' ? state : { ...state, eventCount };
  }
}
