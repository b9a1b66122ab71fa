import {
  catchError,
  concatMap,
  defer,
  NEVER,
  from,
  fromEvent,
  lastValueFrom,
  map,
  of,
  race,
  Subscription,
  take,
  tap,
  throwError,
  type Observable,
  type SchedulerLike,
} from 'rxjs';
import type { PiConfig } from '../config/PiConfig.js';
import { PiDriverError, PiRestartedError, PiStartError, TransportClosedError } from '../errors.js';
import { SessionStateDataSchema, type PiStateData } from '../protocol/frames.js';
import { longTimer } from '../rx/longTimer.js';
import type { CloseResult, ExitInfo, PiTransport } from '../transport/PiTransport.js';
import type { CommandChannel } from './CommandChannel.js';
import type { FrameRouter } from './FrameRouter.js';
import type { HostCalls } from './HostCalls.js';
import type { InteractionDesk } from './InteractionDesk.js';
import { nextRestartDelay, type RestartPolicy } from './restartPolicy.js';
import type { RunTracker } from './RunTracker.js';
import type { SessionEvents } from './SessionEvents.js';
import type { SessionStore } from './SessionStore.js';
import type { WireDialect } from './WireDialect.js';

/** How a session starts pi again after it died (`restart`). @internal */
export interface Respawn {
  readonly policy: RestartPolicy;
  /** A transport for a new pi on `sessionFile` (pi's file of this session, when it has one). */
  readonly spawn: (sessionFile: string | undefined) => PiTransport;
}

/** What {@link SessionLifecycle} starts and ends. @internal */
export interface SessionParts {
  /** The first process's transport. */
  readonly transport: PiTransport;
  /** Without it, a death ends the session. */
  readonly respawn: Respawn | undefined;
  readonly config: PiConfig;
  readonly scheduler: SchedulerLike;
  readonly events: SessionEvents;
  readonly store: SessionStore;
  readonly channel: CommandChannel;
  readonly dialect: WireDialect;
  readonly desk: InteractionDesk;
  readonly runs: RunTracker;
  readonly router: FrameRouter;
  readonly hostCalls: HostCalls;
  /** Marks activity (a line in). */
  readonly touch: () => void;
  /** pi's `get_state` answer (the session learns its pi session id, file and model). */
  readonly applyState: (state: PiStateData) => void;
  /** pi's session file, as pi last said (to restart on it). */
  readonly sessionFile: () => string | undefined;
  /** Everything the session subscribed; unsubscribed when it ends. */
  readonly subscriptions: Subscription;
  /** Completes what the facade itself owns (`activity$`). */
  readonly onTerminated: () => void;
}

/** How long a death waits for the process's exit status before it reaps it. */
const EXIT_GRACE_MS = 1_000;

/**
 * A session's start and end: reading pi's stdout, the first `get_state` (and omp's handshake, and
 * the host tools), `close()` (EOF, SIGTERM, SIGKILL), and pi's death on its own. With `restart`,
 * a death starts pi again on the same session file, under backoff, while the restarts in the
 * window last. Exactly one ending: it rejects what waits (commands, prompts, requests), completes
 * `state$` and `pending$`, and completes `events$` after a close or errors it with a
 * `TransportClosedError` after a death it did not restart from.
 *
 * @internal
 */
export class SessionLifecycle {
  readonly #parts: SessionParts;
  #transport: PiTransport;
  /** This process's subscriptions (its stdout); a restart ends them. */
  #process = new Subscription();
  /** A restart under way: its backoff timer, then its start. */
  #restarting: Subscription | undefined;
  /** Clock times of the restarts so far (for the window). */
  #restartTimes: number[] = [];
  /** Between a death and the next process: how the dead one ended. */
  #waitingToRestart: ExitInfo | undefined;
  #closing: Promise<CloseResult> | undefined;
  #closeRequested = false;
  #terminated = false;

  constructor(parts: SessionParts) {
    this.#parts = parts;
    this.#transport = parts.transport;
    parts.subscriptions.add(() => {
      this.#process.unsubscribe();
      this.#restarting?.unsubscribe();
    });
  }

  /** The current process's transport. */
  get transport(): PiTransport {
    return this.#transport;
  }

  /**
   * Writes a command to the current process. Between a death and the next process (the restart's
   * backoff) it rejects with `PiRestartedError`: there is no pi to send it to.
   */
  send(command: object): Promise<void> {
    if (this.#waitingToRestart) return Promise.reject(new PiRestartedError('pi is restarting; send it again once state$ says idle', this.#waitingToRestart));
    return this.#transport.send(command);
  }

  /** See `PiSession.start`. */
  start(signal: AbortSignal | undefined): Promise<void> {
    return lastValueFrom(this.start$(signal), { defaultValue: undefined });
  }

  /**
   * The start, cold (subscribe once): the first process's {@link boot$}, raced against `signal`.
   * On failure the session is closed and the error is a `PiStartError` (or the abort reason). Its
   * listeners are gone when it ends, whichever way.
   */
  start$(signal: AbortSignal | undefined): Observable<void> {
    const { desk, store } = this.#parts;
    const started$ = defer(() => {
      desk.start();
      signal?.throwIfAborted();
      return this.#boot$(this.#transport);
    });
    const aborted$ = signal
      ? fromEvent(signal, 'abort').pipe(
          map((): never => {
            throw abortError(signal);
          }),
        )
      : NEVER;
    return race(started$, aborted$).pipe(
      take(1),
      map(() => store.patch({ status: 'idle' })),
      catchError((error: unknown) =>
        from(this.close()).pipe(
          concatMap(() => from(this.#startError(error))),
          concatMap((failure) => throwError(() => failure)),
        ),
      ),
    );
  }

  /**
   * One process's start: read its stdout, start it, ask `get_state` (and do omp's handshake),
   * install the host tools; raced against its exit. Emits once when it is ready.
   */
  #boot$(transport: PiTransport): Observable<void> {
    const { channel, dialect, config, hostCalls } = this.#parts;
    return defer(() => {
      this.#listen(transport);
      return settled$(transport.start());
    }).pipe(
      concatMap(() => {
        // A transport that spawned (or replays) a known pi says which one.
        const known = transport.dialect;
        if (known) dialect.know(known.dialect, known.version);
        const ready$ = channel.request$({ type: 'get_state' }, { timeoutMs: config.startTimeoutMs }).pipe(
          // omp writes `ready` before it answers anything (so by now the dialect is known).
          concatMap((state) => dialect.handshake$((command) => channel.request$(command)).pipe(map(() => state))),
          tap((state) => this.#parts.applyState(SessionStateDataSchema.parse(state))),
          concatMap(() => hostCalls.install$()),
        );
        // Spawned: from now on an exit means it died before it was ready.
        const died$ = from(transport.exited).pipe(
          map((exit): never => {
            throw new PiStartError(`pi exited before it was ready (${describeExit(exit)})`, exit);
          }),
        );
        return race(ready$, died$);
      }),
      take(1),
    );
  }

  /** Reads one process's stdout, line by line, until it ends. */
  #listen(transport: PiTransport): void {
    const { router, touch } = this.#parts;
    this.#process.add(
      transport.lines$.subscribe({
        next: (line) => {
          touch();
          router.onLine(line);
        },
        error: (error: unknown) => this.#onStdoutEnd(transport, error),
        complete: () => this.#onStdoutEnd(transport, undefined),
      }),
    );
  }

  /** See `PiSession.close`. */
  close(): Promise<CloseResult> {
    if (!this.#closing) {
      // Flag first: the transport may end stdout synchronously inside the close, and that must
      // not look like an unexpected death.
      this.#closeRequested = true;
      this.#closing = lastValueFrom(this.#close$());
    }
    return this.#closing;
  }

  /** The error a new prompt gets once the session is closing or closed; `undefined` while open. */
  closedError(): Error | undefined {
    if (this.#terminated || this.#closeRequested) return new TransportClosedError('the session is closed', this.#parts.store.value.exit ?? {});
    return undefined;
  }

  /** Cancels open requests and a restart under way, then EOF / SIGTERM / SIGKILL; ends the session when pi is gone. */
  #close$(): Observable<CloseResult> {
    const { store, desk, config } = this.#parts;
    return defer(() => {
      if (!this.#terminated) store.patch({ status: 'closing' });
      // Stop wins over restart: no new process after this (the one starting is closed below).
      this.#restarting?.unsubscribe();
      desk.cancelAll();
      return settled$(this.#transport.close({ timeoutMs: config.terminateTimeoutMs }));
    }).pipe(tap((result) => this.#terminate(undefined, result)));
  }

  /** stdout of `transport` ended: pi exited, or closed stdout while alive. That process is over. */
  #onStdoutEnd(transport: PiTransport, error: unknown): void {
    if (this.#closeRequested || this.#terminated || transport !== this.#transport || this.#restarting) return;
    const { scheduler } = this.#parts;
    const known = transport.exitInfo;
    const exit$ = known ? of(known) : race(from(transport.exited), longTimer(EXIT_GRACE_MS, scheduler).pipe(map(() => undefined))).pipe(take(1));
    this.#parts.subscriptions.add(
      exit$
        .pipe(
          // Reap whatever pi left behind (its detached bash children) before going on.
          concatMap((exit) => this.#reap$(transport).pipe(map((reaped) => ({ exit, info: exit ?? reaped })))),
        )
        .subscribe(({ exit, info }) => {
          if (this.#closeRequested || this.#terminated || transport !== this.#transport) return;
          const reason = exit ? `pi exited unexpectedly (${describeExit(info)})` : 'pi closed its stdout';
          this.#onDeath(new TransportClosedError(reason, { ...info, cause: error }), info);
        }),
    );
  }

  /** The current process is gone without a close: restart it while the policy allows, else end. */
  #onDeath(failure: TransportClosedError, exit: ExitInfo): void {
    const { store, events, respawn, scheduler } = this.#parts;
    const now = scheduler.now();
    // Restarts older than the window no longer count: forget them (a long-lived session keeps few).
    if (respawn) this.#restartTimes = this.#restartTimes.filter((time) => now - time < respawn.policy.windowMs);
    const delay = respawn && store.status !== 'starting' ? nextRestartDelay(respawn.policy, this.#restartTimes, now) : undefined;
    if (delay === undefined || !respawn) {
      if (store.status !== 'starting') {
        events.emit({ type: 'error', code: 'process_exited', fatal: true, message: failure.message, raw: undefined }, 128);
      }
      this.#terminate(failure, exit);
      return;
    }
    if (store.status !== 'restarting') this.#interrupt(failure, exit);
    this.#waitingToRestart = exit;
    const restart$ = longTimer(delay, scheduler).pipe(
      concatMap(() => this.#restart$(respawn, exit)),
      catchError((startFailure: unknown) => {
        // That process's stdout is not read any more: its end is this failure, not another death.
        this.#process.unsubscribe();
        const cause = startFailure instanceof Error ? startFailure : new Error(String(startFailure));
        const info = this.#exitOf(startFailure, exit);
        return this.#reap$(this.#transport).pipe(
          map(() => {
            this.#restarting = undefined;
            if (this.#closeRequested || this.#terminated) return;
            this.#onDeath(new TransportClosedError(`pi could not be restarted: ${cause.message}`, { ...info, cause }), info);
          }),
        );
      }),
    );
    const restarting = new Subscription();
    this.#restarting = restarting;
    restarting.add(
      restart$.subscribe({
        complete: () => {
          if (this.#restarting === restarting) this.#restarting = undefined;
        },
      }),
    );
  }

  /** pi died mid-session and will be restarted: what was in flight fails, open requests are withdrawn. */
  #interrupt(failure: TransportClosedError, exit: ExitInfo): void {
    const { store, events, channel, desk, runs, hostCalls } = this.#parts;
    store.patch({ status: 'restarting' });
    const message = `${failure.message}; pidriver is restarting it`;
    events.emit({ type: 'error', code: 'process_exited', fatal: false, message, raw: undefined }, 128);
    const error = new PiRestartedError(`${failure.message}; the session restarted, so this was not completed`, exit);
    desk.cancelAll();
    hostCalls.abortAll();
    runs.interrupt(error);
    channel.failPending(error);
  }

  /** One restart: a new process on the session file, started like the first. */
  #restart$(respawn: Respawn, died: ExitInfo): Observable<void> {
    const { scheduler, store, events, dialect, runs, sessionFile } = this.#parts;
    return defer(() => {
      this.#restartTimes.push(scheduler.now());
      this.#waitingToRestart = undefined;
      this.#process.unsubscribe();
      this.#process = new Subscription();
      dialect.respawned();
      this.#transport = respawn.spawn(sessionFile());
      return this.#boot$(this.#transport);
    }).pipe(
      map(() => {
        const attempt = store.value.restarts + 1;
        store.patch({ status: 'idle', restarts: attempt });
        const { piSessionId } = store.value;
        const pid = this.#transport.pid;
        events.emit(
          {
            type: 'session_restarted',
            attempt,
            exitCode: died.exitCode,
            signal: died.signal,
            stderrTail: died.stderrTail,
            ...(pid === undefined ? {} : { pid }),
            ...(piSessionId === undefined ? {} : { piSessionId }),
            raw: undefined,
          },
          128 + died.stderrTail.length,
        );
        // No run is going: a later subscriber of events$ starts after this (recentEvents$ keeps it).
        events.endWindow();
        runs.startNext();
      }),
    );
  }

  /** Closes a process (already gone, or a failed start); never errors. */
  #reap$(transport: PiTransport): Observable<ExitInfo> {
    return defer(() => settled$(transport.close({ timeoutMs: this.#parts.config.terminateTimeoutMs }))).pipe(
      catchError(() => of<ExitInfo>({ exitCode: null, signal: null, stderrTail: transport.stderrTail })),
    );
  }

  /** The exit details a failed restart reports: its own when it has them. */
  #exitOf(error: unknown, fallback: ExitInfo): ExitInfo {
    if (error instanceof PiStartError) return { exitCode: error.exitCode, signal: error.signal, stderrTail: error.stderrTail };
    return { ...fallback, stderrTail: this.#transport.stderrTail || fallback.stderrTail };
  }

  #terminate(failure: TransportClosedError | undefined, exit: ExitInfo): void {
    if (this.#terminated) return;
    this.#terminated = true;
    const { channel, desk, runs, dialect, store, events } = this.#parts;
    const error = failure ?? new TransportClosedError('the session was closed', exit);
    channel.rejectAll(error);
    desk.close();
    runs.failAll(error);
    dialect.close();
    this.#parts.subscriptions.unsubscribe();
    store.patch({ status: 'closed', exit: { exitCode: exit.exitCode, signal: exit.signal, stderrTail: exit.stderrTail }, queuedPrompts: 0 });
    store.complete();
    this.#parts.onTerminated();
    if (failure) events.error(failure);
    else events.complete();
  }

  async #startError(error: unknown): Promise<Error> {
    if (error instanceof PiDriverError && !(error instanceof TransportClosedError)) return error;
    const transport = this.#transport;
    const exit = await Promise.race([transport.exited, Promise.resolve(undefined)]);
    const detail = error instanceof Error ? error.message : String(error);
    return new PiStartError(`pi failed to start: ${detail}`, { ...(exit ?? { stderrTail: transport.stderrTail }), cause: error });
  }
}

/** A transport's answer, given at once or as a promise, as an Observable (at once stays at once). */
function settled$<T>(value: T | Promise<T>): Observable<T> {
  return value instanceof Promise ? from(value) : of(value);
}

function describeExit(exit: ExitInfo): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.exitCode ?? 'unknown'}`;
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new PiDriverError('start() was aborted', { code: 'PI_ABORTED' });
}
