import type { Observable } from 'rxjs';
import type { PiEvent, UnstampedEvent } from '../protocol/events.js';
import type { RunListener } from './PromptQueue.js';
import { ReplayHub, type ReplayLimits } from '../rx/ReplayHub.js';

/**
 * A session's event stream: stamps each event with the session id and a gap-free `seq`, and
 * multicasts it with a replay window (the current run). Everything a session emits goes through
 * {@link emit} (or {@link stamp} then {@link publish}, for a value stamped before it is shown).
 *
 * @internal
 */
export class SessionEvents {
  readonly #sessionId: string;
  readonly #hub: ReplayHub<PiEvent>;
  #seq = 0;
  /** The current run's `prompt$()` subscribers: they get every published event too. */
  #runListeners: ReadonlySet<RunListener> | undefined;
  /** The current run's own watcher (its limits): gets every event without counting as a subscriber of `events$`. */
  #watcher: RunListener | undefined;

  /** See `PiSession.events$`. */
  readonly events$: Observable<PiEvent>;
  /** See `PiSession.recentEvents$`. */
  readonly recentEvents$: Observable<PiEvent>;

  constructor(sessionId: string, limits: ReplayLimits) {
    this.#sessionId = sessionId;
    this.#hub = new ReplayHub<PiEvent>(limits);
    this.events$ = this.#hub.observable;
    this.recentEvents$ = this.#hub.retained;
  }

  /** The last `seq` given out. */
  get seq(): number {
    return this.#seq;
  }

  /** Whether anyone subscribes to `events$` or `recentEvents$`. */
  get observed(): boolean {
    return this.#hub.observed;
  }

  emit(event: UnstampedEvent, bytes: number): PiEvent {
    return this.publish(this.stamp(event), bytes);
  }

  /**
   * Adds `sessionId` and `seq`. Every caller passes an object built for this one event, so it is
   * stamped in place: no copy, and no `{ ...event, more }`, which V8 11 (Node 20) makes about a
   * microsecond slower per object than building it in order.
   */
  stamp(event: UnstampedEvent): PiEvent {
    const stamped = event as PiEvent;
    stamped.sessionId = this.#sessionId;
    stamped.seq = ++this.#seq;
    return stamped;
  }

  publish(stamped: PiEvent, bytes: number): PiEvent {
    this.#hub.next(stamped, bytes);
    const listeners = this.#runListeners;
    if (listeners !== undefined && listeners.size > 0) for (const listener of listeners) listener.next(stamped);
    this.#watcher?.next(stamped);
    return stamped;
  }

  /** The current run's watcher (`undefined`: none); see {@link RunTracker}'s limits. */
  set watcher(watcher: RunListener | undefined) {
    this.#watcher = watcher;
  }

  /** Who else gets every event: the current run's `prompt$()` subscribers (`undefined` between runs). */
  set runListeners(listeners: ReadonlySet<RunListener> | undefined) {
    this.#runListeners = listeners;
  }

  /** A run starts: late subscribers of `events$` get what comes from here on. */
  startWindow(): void {
    this.#hub.reset();
  }

  /** The run is over: `events$` stops replaying it (`recentEvents$` still does). */
  endWindow(): void {
    this.#hub.endWindow();
  }

  complete(): void {
    this.#hub.complete();
  }

  error(error: unknown): void {
    this.#hub.error(error);
  }
}
