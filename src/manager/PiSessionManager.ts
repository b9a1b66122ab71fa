import {
  asyncScheduler,
  BehaviorSubject,
  catchError,
  connectable,
  defer,
  distinctUntilChanged,
  EMPTY,
  filter,
  map,
  merge,
  mergeAll,
  type Observable,
  Subject,
  Subscription,
  takeUntil,
  tap,
} from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import { PiCapacityError, PiDriverError, PiLimitError, SessionNotFoundError } from '../errors.js';
import { budget } from '../limits/budget.js';
import type { LimitBreach } from '../limits/RunLimits.js';
import type { StartOptions } from '../session/PiClient.js';
import { resolveRestart, type RestartOptions } from '../session/restartPolicy.js';
import type { UsageTotals } from '../usage/UsageTotals.js';
import { closeOnExit, type CloseOnExitOptions } from './closeOnExit.js';
import { closeSession, closeWithin } from './closeSession.js';
import type { ManagedSession, ManagedSessionEvent, SessionEventOf, SessionFactory, StopResult } from './ManagedSession.js';
import type { ManagerEvent, ManagerNotice, RemovalReason } from './notices.js';
import { assertDuration, type PiSessionManagerOptions, type StopOptions } from './options.js';
import type { IdleExpiry } from './reapIdle.js';
import { restartNoticeOf, withRestart } from './restarts.js';
import { reduceSessions, sumUsage } from './sessionsReducer.js';
import { unsubscribed$ } from './unsubscribed.js';
import { watchIdle } from './watchIdle.js';

interface Entry<S> {
  readonly key: number;
  readonly session: S;
  /** Everything subscribed for this session (usage, reaper); its end also ends the session's events on `events$`. */
  readonly subscription: Subscription;
  reaper: Subscription;
  /** Left the registry. */
  removed: boolean;
  /** Its `events$` (or `state$`) terminated. */
  ended: boolean;
  /** The manager's close of it, once started. */
  closing: Promise<StopResult> | undefined;
}

/**
 * A registry of many sessions, with an idle reaper and a clean stop-all. It depends only on the
 * structural {@link ManagedSession}, so `PiSession`s, fakes and other session kinds plug in.
 *
 * - `create(options)` starts a session through the `factory`; `register(session)` adopts a started one.
 * - Sessions idle for `idleTimeoutMs` are closed (`reaped` notice) and removed, on RxJS timers of
 *   the injectable `scheduler`, so `TestScheduler` can drive a 30-minute window in virtual time.
 * - A session that dies on its own is removed and reported (`session_died`); the rest go on.
 * - With `limits`, a budget over `usage$`: once spent, a `budget_exceeded` notice, every session
 *   told (`exceedBudget`), and `create()` refused.
 * - `stopAll()` closes every session in parallel and never rejects; `closeOnExit()` hooks the
 *   process signals; `await using manager = new PiSessionManager(…)` stops everything at scope exit.
 *
 * ## Example
 * ```ts
 * const client = new PiClient({ config: { provider: 'anthropic', model: 'claude-sonnet-4-5', apiKey } });
 * await using manager = new PiSessionManager({ factory: (o) => client.start(o), maxSessions: 8 });
 * manager.closeOnExit();
 * manager.events$.pipe(filter(isManagerNotice)).subscribe((notice) => console.log(notice));
 * const session = await manager.create({ task: 'Add a healthcheck endpoint', cwd: '/srv/acme' });
 * await session.initialRun;
 * ```
 *
 * @typeParam S The session type (`PiSession` when the factory is `client.start`).
 * @typeParam O The factory's options (`StartOptions` by default).
 */
export class PiSessionManager<S extends ManagedSession = ManagedSession, O = StartOptions> implements AsyncDisposable {
  /**
   * The registered sessions by id: a state stream that replays the current set to late
   * subscribers and emits a new immutable map on every change. Completes on `dispose()`.
   */
  readonly sessions$: Observable<ReadonlyMap<string, S>>;
  /**
   * Every registered session's events (each carries its `sessionId`) merged with the manager's
   * {@link ManagerNotice}s. Hot, with no replay of its own: a session's `events$` is merged in
   * when the session is registered (so its replay comes through then), until its close settles.
   * Use `sessions$` for a snapshot. Never errors (a session's death is a `session_died` notice);
   * completes on `dispose()`.
   */
  readonly events$: Observable<ManagerEvent<SessionEventOf<S>>>;
  /**
   * Tokens and cost summed over every session's latest `state$.usage`, including sessions that
   * have been removed since. Replays the current total; completes on `dispose()`.
   */
  readonly usage$: Observable<UsageTotals>;

  readonly #factory: SessionFactory<S, O> | undefined;
  readonly #idleTimeoutMs: number | null;
  readonly #reapIntervalMs: number;
  readonly #maxSessions: number | undefined;
  readonly #scheduler: SchedulerLike;
  /** Origin of the reaper's tick grid. */
  readonly #origin: number;
  readonly #sessions = new BehaviorSubject<ReadonlyMap<string, S>>(new Map());
  /** The manager's own notices, in the order it makes them. */
  readonly #notices = new Subject<ManagerNotice>();
  /** Each registered session's events, merged into `events$` (see `#adopt`). */
  readonly #joined = new Subject<Observable<SessionEventOf<S>>>();
  /** The connection of `events$`, made at construction so sessions' ends are seen with no subscriber. */
  readonly #bus: Subscription;
  readonly #usage = new BehaviorSubject<ReadonlyMap<number, UsageTotals>>(new Map());
  readonly #subscription = new Subscription();
  /** Registered sessions. */
  readonly #entries = new Map<string, Entry<S>>();
  /** Sessions out of the registry whose close is still running. */
  readonly #closing = new Set<Entry<S>>();
  /** `create()` calls whose factory is running; each settles with the entry it registered. */
  readonly #creating = new Set<Promise<Entry<S> | undefined>>();
  /** Unhooks of the `closeOnExit()` hooks made through this manager; `dispose()` runs them. */
  readonly #exitHooks = new Set<() => void>();
  readonly #restart: RestartOptions | boolean | undefined; // given to the factory
  #restarts = 0;
  /** The breach of `limits`, once `usage$` went past them. */
  #budgetExceeded: LimitBreach | undefined;
  #nextKey = 0;
  #disposed = false;
  #disposing: Promise<readonly StopResult[]> | undefined;

  /**
   * Creates an empty manager. Nothing runs until a session is registered.
   *
   * ## Example
   * ```ts
   * const manager = new PiSessionManager({ factory: (o) => client.start(o), idleTimeoutMs: 10 * 60_000 });
   * ```
   *
   * @param options The factory, the idle window and its granularity, the session limit, the budget and the scheduler.
   * @throws {PiConfigError} naming the bad field of `limits` (`limits.maxCostUsd`); `PiDriverError`
   *   (`PI_INVALID_OPTION`) for a bad duration or `maxSessions`.
   */
  constructor(options: PiSessionManagerOptions<S, O> = {}) {
    const { idleTimeoutMs = 1_800_000, reapIntervalMs = 60_000, maxSessions } = options;
    const overBudget = budget(options.limits ?? {}); // validates the limits first
    if (idleTimeoutMs !== null) assertDuration('idleTimeoutMs', idleTimeoutMs, true);
    assertDuration('reapIntervalMs', reapIntervalMs, false);
    if (maxSessions !== undefined && !(Number.isInteger(maxSessions) && maxSessions >= 0)) {
      throw new PiDriverError(`maxSessions must be a non-negative integer, got ${maxSessions}`, { code: 'PI_INVALID_OPTION' });
    }
    this.#factory = options.factory;
    this.#restart = options.restart;
    resolveRestart(options.restart); // validated now, not at the first create()
    this.#idleTimeoutMs = idleTimeoutMs;
    this.#reapIntervalMs = reapIntervalMs;
    this.#maxSessions = maxSessions;
    this.#scheduler = options.scheduler ?? asyncScheduler;
    this.#origin = this.#scheduler.now();
    this.sessions$ = this.#sessions.asObservable();
    // The notices merged with every session's events: hot (connected now, whoever listens) and
    // with no replay of its own, so a session's events$ replay reaches it at registration.
    const bus = connectable(merge(this.#notices, this.#joined.pipe(mergeAll())), {
      connector: () => new Subject<ManagerEvent<SessionEventOf<S>>>(),
      resetOnDisconnect: false,
    });
    this.events$ = defer(() => bus);
    this.#bus = bus.connect();
    this.usage$ = this.#usage.pipe(
      map(sumUsage),
      distinctUntilChanged((a, b) => a.equals(b)),
    );
    // Without limits the budget never breaks: no subscription at all.
    if (options.limits?.maxCostUsd !== undefined || options.limits?.maxTokens !== undefined) {
      this.#subscription.add(this.usage$.pipe(overBudget).subscribe((breach) => this.#exceedBudget(breach)));
    }
  }

  // -------------------------------------------------------------------------------------------
  // Registry

  /** How many sessions are registered. */
  get size(): number {
    return this.#entries.size;
  }

  /** Tokens and cost so far, over every session (including removed ones): `usage$`'s current value. */
  get usage(): UsageTotals {
    return sumUsage(this.#usage.value);
  }

  /**
   * Which of `limits` the sessions went past, once they did (then the `budget_exceeded` notice was
   * emitted); `undefined` while the budget holds, and always without `limits`.
   */
  get budgetExceeded(): LimitBreach | undefined {
    return this.#budgetExceeded;
  }

  /** How many times pi was restarted in this manager's sessions (removed ones included): each was a `session_restarted` notice. */
  get restarts(): number {
    return this.#restarts;
  }

  /**
   * The registered session with this id.
   *
   * ## Example
   * ```ts
   * await manager.get('job-1').prompt('Now add tests');
   * ```
   *
   * @param sessionId The session's id.
   * @return The session.
   * @throws {SessionNotFoundError} when no session with that id is registered (`.sessionId` says which).
   */
  get(sessionId: string): S {
    const entry = this.#entries.get(sessionId);
    if (!entry) throw new SessionNotFoundError(sessionId);
    return entry.session;
  }

  /**
   * Whether a session with this id is registered.
   *
   * @param sessionId The session's id.
   * @return True if it is.
   */
  has(sessionId: string): boolean {
    return this.#entries.has(sessionId);
  }

  /**
   * The ids of the registered sessions, in registration order.
   *
   * @return A fresh array.
   */
  ids(): string[] {
    return [...this.#entries.keys()];
  }

  /**
   * Starts a session through the factory and registers it.
   *
   * The capacity check and the reservation of a slot happen synchronously, before the factory is
   * called, so two concurrent `create()`s can't both take the last slot. At capacity no process
   * is started.
   *
   * ## Example
   * ```ts
   * const session = await manager.create({ task: 'Fix the failing test', cwd: '/srv/acme' });
   * ```
   *
   * @param options Passed to the factory (`StartOptions` for `client.start`).
   * @return The started, registered session.
   * @throws {PiCapacityError} at `maxSessions`; {@link PiLimitError} once the budget (`limits`) is
   *   spent; `PiDriverError` (`PI_NO_FACTORY`) without a factory, (`PI_MANAGER_DISPOSED`) after
   *   `dispose()`, (`PI_DUPLICATE_SESSION`) when the id is taken (the new session is then closed);
   *   whatever the factory rejects with.
   */
  async create(options: O): Promise<S> {
    this.#assertOpen();
    const factory = this.#factory;
    if (!factory) {
      throw new PiDriverError('This PiSessionManager has no factory; pass one, or register() started sessions', {
        code: 'PI_NO_FACTORY',
      });
    }
    this.#assertCapacity();
    if (this.#budgetExceeded) throw new PiLimitError(this.#budgetExceeded);
    const reservation = this.#reserve();
    let session: S;
    try {
      session = await factory(withRestart(options, this.#restart));
    } catch (error) {
      reservation.release(undefined);
      throw error;
    }
    const refusal = this.#disposed
      ? new PiDriverError('The session manager was disposed while the session was starting', { code: 'PI_MANAGER_DISPOSED' })
      : this.#entries.has(session.sessionId)
        ? duplicateError(session.sessionId)
        : undefined;
    if (refusal) {
      await closeSession(session);
      reservation.release(undefined);
      throw refusal;
    }
    reservation.release(this.#adopt(session));
    return session;
  }

  /**
   * Adopts a started session: it joins `sessions$`, its events are forwarded to `events$`, its
   * usage counts in `usage$`, and the reaper watches it. Once the budget is spent, the session is
   * told at once (`exceedBudget`).
   *
   * ## Example
   * ```ts
   * manager.register(await client.start({ task: 'Summarize the repo' }));
   * ```
   *
   * @param session The session.
   * @return The same session.
   * @throws {PiCapacityError} at `maxSessions` (the session is left running: it is still yours);
   *   `PiDriverError` (`PI_DUPLICATE_SESSION`) when its id is taken, (`PI_MANAGER_DISPOSED`) after `dispose()`.
   */
  register(session: S): S {
    this.#assertOpen();
    if (this.#entries.has(session.sessionId)) throw duplicateError(session.sessionId);
    this.#assertCapacity();
    this.#adopt(session);
    return session;
  }

  // -------------------------------------------------------------------------------------------
  // Stopping

  /**
   * Closes one session and removes it (a `session_removed` notice with reason `'stopped'`).
   * Resolves once its `close()` settled; a failed close resolves with `status: 'error'`. Stopping a
   * session the reaper is closing waits for that close.
   *
   * ## Example
   * ```ts
   * const { status } = await manager.stop('job-1'); // 'closed' | 'killed' | 'already-dead' | 'error'
   * ```
   *
   * @param sessionId The session's id.
   * @param options `timeoutMs`: how long the close may take.
   * @return How the session ended.
   * @throws {SessionNotFoundError} (as a rejection) when no such session is registered or closing.
   */
  async stop(sessionId: string, options: StopOptions = {}): Promise<StopResult> {
    const entry = this.#entries.get(sessionId) ?? [...this.#closing].find((e) => e.session.sessionId === sessionId);
    if (!entry) throw new SessionNotFoundError(sessionId);
    return this.#bounded(entry, this.#beginClose(entry, 'stopped'), options.timeoutMs);
  }

  /**
   * Closes every session in parallel and resolves with one {@link StopResult} per session:
   * the registered ones, those the manager is already closing (a reap in flight: its close is
   * awaited, not repeated), and those whose `create()` is in flight (stopped as soon as they
   * start). Never rejects because a close failed or timed out. The manager stays usable.
   *
   * ## Example
   * ```ts
   * const results = await manager.stopAll({ timeoutMs: 10_000 });
   * const stuck = results.filter((r) => r.status === 'error');
   * ```
   *
   * @param options `timeoutMs`: how long each close may take.
   * @return The results, registered sessions first (in registration order).
   */
  async stopAll(options: StopOptions = {}): Promise<readonly StopResult[]> {
    const stopOne = (entry: Entry<S>): Promise<StopResult> => this.#bounded(entry, this.#beginClose(entry, 'stopped'), options.timeoutMs);
    const current = [...this.#entries.values(), ...this.#closing].map(stopOne);
    const starting = [...this.#creating].map((created) => created.then((entry) => (entry ? stopOne(entry) : undefined)));
    const results = await Promise.all([...current, ...starting]);
    return results.filter((result): result is StopResult => result !== undefined);
  }

  /**
   * Stops every session on `SIGINT`/`SIGTERM`/`beforeExit` of the process (opt-in), then lets the
   * process end the way Node would. See {@link closeOnExit} for the details.
   *
   * ## Example
   * ```ts
   * const unhook = manager.closeOnExit({ timeoutMs: 5_000 });
   * ```
   *
   * @param options The process to hook (tests pass a fake), `stopAll`'s `timeoutMs`, the signals.
   * @return A function that removes the hooks; `dispose()` removes them too. After `dispose()`
   *   nothing is hooked.
   */
  closeOnExit(options: CloseOnExitOptions = {}): () => void {
    if (this.#disposing) return () => undefined;
    const unhook = closeOnExit(this, options);
    const remove = (): void => {
      this.#exitHooks.delete(remove);
      unhook();
    };
    this.#exitHooks.add(remove);
    return remove;
  }

  /**
   * Stops every session (as {@link stopAll}, including creates in flight), then completes
   * `sessions$`, `events$` and `usage$` and removes the manager's `closeOnExit()` hooks.
   * Afterwards `create()` and `register()` reject. Idempotent.
   *
   * ## Example
   * ```ts
   * process.once('SIGHUP', () => void manager.dispose({ timeoutMs: 5_000 }));
   * ```
   *
   * @param options `timeoutMs`: how long each close may take.
   * @return The stop results.
   */
  dispose(options: StopOptions = {}): Promise<readonly StopResult[]> {
    this.#disposed = true;
    this.#disposing ??= this.stopAll(options).then((results) => {
      // Only now: a signal during the stop still finds the hooks, and waits for the sessions.
      for (const unhook of [...this.#exitHooks]) unhook();
      // Every session's events end with its subscription; then the notices end, and so does events$.
      this.#subscription.unsubscribe();
      this.#sessions.complete();
      this.#notices.complete();
      this.#joined.complete();
      this.#bus.unsubscribe();
      this.#usage.complete();
      return results;
    });
    return this.#disposing;
  }

  /**
   * `await using manager = new PiSessionManager(…)`: {@link dispose} at scope exit.
   *
   * @return A promise that settles once every session is stopped.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  #assertOpen(): void {
    if (this.#disposed) throw new PiDriverError('The session manager is disposed', { code: 'PI_MANAGER_DISPOSED' });
  }

  #assertCapacity(): void {
    const max = this.#maxSessions;
    if (max !== undefined && this.#entries.size + this.#creating.size + this.#closing.size >= max) {
      throw new PiCapacityError(max);
    }
  }

  #reserve(): { release(entry: Entry<S> | undefined): void } {
    let settle: (entry: Entry<S> | undefined) => void = () => undefined;
    const created = new Promise<Entry<S> | undefined>((resolve) => (settle = resolve));
    this.#creating.add(created);
    return {
      release: (entry) => {
        this.#creating.delete(created);
        settle(entry);
      },
    };
  }

  #adopt(session: S): Entry<S> {
    const spentBefore = this.#budgetExceeded;
    const entry: Entry<S> = {
      key: this.#nextKey++,
      session,
      subscription: new Subscription(),
      reaper: Subscription.EMPTY,
      removed: false,
      ended: false,
      closing: undefined,
    };
    this.#entries.set(session.sessionId, entry);
    this.#subscription.add(entry.subscription);
    this.#sessions.next(reduceSessions(this.#sessions.value, { type: 'add', session }));
    this.#notices.next({ type: 'session_added', sessionId: session.sessionId });

    const { state$, events$ } = session;
    if (state$) {
      entry.subscription.add(
        state$.subscribe({
          next: (state) => this.#recordUsage(entry.key, state.usage),
          // Without events$, state$ is how the manager learns that the session ended.
          error: (error: unknown) => {
            if (events$ === undefined) this.#onEnded(entry, error, true);
          },
          complete: () => {
            if (events$ === undefined) this.#onEnded(entry, undefined, false);
          },
        }),
      );
    }
    if (this.#idleTimeoutMs !== null && !entry.removed) {
      const watch = { idleMs: this.#idleTimeoutMs, intervalMs: this.#reapIntervalMs, origin: this.#origin, scheduler: this.#scheduler };
      entry.reaper = watchIdle(session, watch).subscribe((expiry) => this.#reap(entry, expiry));
      entry.subscription.add(entry.reaper);
    }
    if (events$) {
      // The session's event type is S's; the structural constraint only knows ManagedSessionEvent.
      const typed$ = events$ as Observable<SessionEventOf<S>>;
      // Merged into events$ (subscribed now, so its replay comes through) until the entry's
      // subscription ends; its end, an error too, is how the manager learns the session ended.
      this.#joined.next(
        typed$.pipe(
          // A restart is reported as the manager's notice, in the event's place.
          filter((event) => event.type !== 'session_restarted' || this.#onRestarted(entry, event)),
          tap({
            error: (error: unknown) => this.#onEnded(entry, error, true),
            complete: () => this.#onEnded(entry, undefined, false),
          }),
          catchError(() => EMPTY), // its death is a `session_died` notice
          takeUntil(unsubscribed$(entry.subscription)),
        ),
      );
    }
    // Registered after the budget was spent: held to it at once. (Had its own usage spent it just
    // now, #exceedBudget told it already.)
    if (spentBefore) this.#holdToBudget(entry, spentBefore);
    return entry;
  }

  /** `usage$` went past `limits`: say so, and hold every session to it. */
  #exceedBudget(breach: LimitBreach): void {
    this.#budgetExceeded = breach;
    this.#notices.next({ type: 'budget_exceeded', breach });
    for (const entry of [...this.#entries.values()]) this.#holdToBudget(entry, breach);
  }

  /** Tells one session the budget is spent; one that can't take it (it throws) is stopped: fail closed. */
  #holdToBudget(entry: Entry<S>, breach: LimitBreach): void {
    if (entry.removed) return;
    try {
      entry.session.exceedBudget?.(breach);
    } catch {
      void this.#beginClose(entry, 'stopped');
    }
  }

  #reap(entry: Entry<S>, expiry: IdleExpiry): void {
    if (entry.removed) return;
    this.#notices.next({ type: 'reaped', sessionId: entry.session.sessionId, reason: 'idle', idleMs: expiry.idleMs });
    void this.#beginClose(entry, 'reaped');
  }

  /** Removes the entry from the registry and closes its session, once. Never rejects. */
  #beginClose(entry: Entry<S>, reason: RemovalReason): Promise<StopResult> {
    if (entry.closing) return entry.closing;
    this.#remove(entry, reason);
    this.#closing.add(entry);
    entry.closing = closeSession(entry.session).then((result) => {
      this.#closing.delete(entry);
      entry.subscription.unsubscribe();
      return result;
    });
    return entry.closing;
  }

  #remove(entry: Entry<S>, reason: RemovalReason): void {
    if (entry.removed) return;
    entry.removed = true;
    entry.reaper.unsubscribe();
    const { sessionId } = entry.session;
    if (this.#entries.get(sessionId) === entry) this.#entries.delete(sessionId);
    this.#sessions.next(reduceSessions(this.#sessions.value, { type: 'remove', sessionId }));
    this.#notices.next({ type: 'session_removed', sessionId, reason });
  }

  /** A session's `session_restarted` event: counted and reported as a notice; false (the event itself is dropped). */
  #onRestarted(entry: Entry<S>, event: ManagedSessionEvent): false {
    this.#restarts++;
    this.#notices.next(restartNoticeOf(entry.session.sessionId, event));
    return false;
  }

  #onEnded(entry: Entry<S>, error: unknown, died: boolean): void {
    if (entry.ended) return;
    entry.ended = true;
    const { sessionId } = entry.session;
    if (died) this.#notices.next({ type: 'session_died', sessionId, error });
    if (entry.closing) return; // the manager is closing it; its close settling tears the rest down
    this.#remove(entry, died ? 'died' : 'closed');
    // A died session is still closed, so whatever its process left behind is reaped.
    if (died) void this.#beginClose(entry, 'died');
    else entry.subscription.unsubscribe();
  }

  #recordUsage(key: number, usage: UsageTotals): void {
    const current = this.#usage.value;
    if (current.get(key)?.equals(usage)) return;
    this.#usage.next(new Map(current).set(key, usage));
  }

  #bounded(entry: Entry<S>, closing: Promise<StopResult>, timeoutMs: number | undefined): Promise<StopResult> {
    return closeWithin(entry.session.sessionId, closing, timeoutMs, this.#scheduler);
  }
}

function duplicateError(sessionId: string): PiDriverError {
  return new PiDriverError(`A session with id "${sessionId}" is already registered`, { code: 'PI_DUPLICATE_SESSION' });
}
