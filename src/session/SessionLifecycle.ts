import {
  catchError,
  concatMap,
  defer,
  NEVER,
  firstValueFrom,
  from,
  fromEvent,
  lastValueFrom,
  map,
  of,
  race,
  take,
  tap,
  throwError,
  type Observable,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import type { PiConfig } from '../config/PiConfig.js';
import { PiDriverError, PiStartError, TransportClosedError } from '../errors.js';
import { SessionStateDataSchema, type PiStateData } from '../protocol/frames.js';
import { longTimer } from '../rx/longTimer.js';
import type { CloseResult, ExitInfo, PiTransport } from '../transport/PiTransport.js';
import type { CommandChannel } from './CommandChannel.js';
import type { FrameRouter } from './FrameRouter.js';
import type { InteractionDesk } from './InteractionDesk.js';
import type { RunTracker } from './RunTracker.js';
import type { SessionEvents } from './SessionEvents.js';
import type { SessionStore } from './SessionStore.js';
import type { WireDialect } from './WireDialect.js';

/** What {@link SessionLifecycle} starts and ends. @internal */
export interface SessionParts {
  readonly transport: PiTransport;
  readonly config: PiConfig;
  readonly scheduler: SchedulerLike;
  readonly events: SessionEvents;
  readonly store: SessionStore;
  readonly channel: CommandChannel;
  readonly dialect: WireDialect;
  readonly desk: InteractionDesk;
  readonly runs: RunTracker;
  readonly router: FrameRouter;
  /** Marks activity (a line in). */
  readonly touch: () => void;
  /** pi's `get_state` answer (the session learns its pi session id and model). */
  readonly applyState: (state: PiStateData) => void;
  /** Everything the session subscribed; unsubscribed when it ends. */
  readonly subscriptions: Subscription;
  /** Completes what the facade itself owns (`activity$`). */
  readonly onTerminated: () => void;
}

/**
 * A session's start and end: reading pi's stdout, the first `get_state` (and omp's handshake),
 * `close()` (EOF, SIGTERM, SIGKILL), and pi's death on its own. Exactly one ending: it rejects
 * what waits (commands, prompts, requests), completes `state$` and `pending$`, and completes
 * `events$` after a close or errors it with a `TransportClosedError` after a death.
 *
 * @internal
 */
export class SessionLifecycle {
  readonly #parts: SessionParts;
  #closing: Promise<CloseResult> | undefined;
  #closeRequested = false;
  #terminated = false;

  constructor(parts: SessionParts) {
    this.#parts = parts;
  }

  /** See `PiSession.start`. */
  start(signal: AbortSignal | undefined): Promise<void> {
    return lastValueFrom(this.start$(signal), { defaultValue: undefined });
  }

  /**
   * The start, cold (subscribe once): read pi's stdout, start the transport, ask `get_state`
   * (and do omp's handshake), raced against pi's exit and `signal`. On failure the session is
   * closed and the error is a `PiStartError` (or the abort reason). Its listeners are gone when
   * it ends, whichever way.
   */
  start$(signal: AbortSignal | undefined): Observable<void> {
    const { transport, channel, dialect, desk, config, store } = this.#parts;
    const started$ = defer(() => {
      this.#listen();
      desk.start();
      signal?.throwIfAborted();
      return settled$(transport.start());
    }).pipe(
      concatMap(() => {
        // A transport that spawned (or replays) a known pi says which one.
        const known = transport.dialect;
        if (known) dialect.know(known.dialect, known.version);
        const ready$ = channel.request$({ type: 'get_state' }, { timeoutMs: config.startTimeoutMs }).pipe(
          // omp writes `ready` before it answers anything (so by now the dialect is known).
          concatMap((state) => dialect.handshake$((command) => channel.request$(command)).pipe(map(() => state))),
        );
        // Spawned: from now on an exit means it died before it was ready.
        const died$ = from(transport.exited).pipe(
          map((exit): never => {
            throw new PiStartError(`pi exited before it was ready (${describeExit(exit)})`, exit);
          }),
        );
        return race(ready$, died$);
      }),
    );
    const aborted$ = signal
      ? fromEvent(signal, 'abort').pipe(
          map((): never => {
            throw abortError(signal);
          }),
        )
      : NEVER;
    return race(started$, aborted$).pipe(
      take(1),
      map((state) => {
        this.#parts.applyState(SessionStateDataSchema.parse(state));
        store.patch({ status: 'idle' });
      }),
      catchError((error: unknown) =>
        from(this.close()).pipe(
          concatMap(() => from(this.#startError(error))),
          concatMap((failure) => throwError(() => failure)),
        ),
      ),
    );
  }

  /** Reads pi's stdout, line by line, until it ends. */
  #listen(): void {
    const { transport, router, touch } = this.#parts;
    this.#parts.subscriptions.add(
      transport.lines$.subscribe({
        next: (line) => {
          touch();
          router.onLine(line);
        },
        error: (error: unknown) => this.#onStdoutEnd(error),
        complete: () => this.#onStdoutEnd(undefined),
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

  /** Cancels open requests, then EOF / SIGTERM / SIGKILL; ends the session when pi is gone. */
  #close$(): Observable<CloseResult> {
    const { store, desk, transport, config } = this.#parts;
    return defer(() => {
      if (!this.#terminated) store.patch({ status: 'closing' });
      desk.cancelAll();
      return settled$(transport.close({ timeoutMs: config.terminateTimeoutMs }));
    }).pipe(tap((result) => this.#terminate(undefined, result)));
  }

  /** stdout ended: pi exited, or closed stdout while alive. Either way the session is over. */
  #onStdoutEnd(error: unknown): void {
    if (this.#closeRequested || this.#terminated) return;
    const { transport, config, scheduler, store, events } = this.#parts;
    // A failed close must not become an unhandled rejection: the death is reported either way.
    const reap = (): Promise<ExitInfo> =>
      Promise.resolve(transport.close({ timeoutMs: config.terminateTimeoutMs })).catch(() => ({
        exitCode: null,
        signal: null,
        stderrTail: transport.stderrTail,
      }));
    const exitOrTimeout = firstValueFrom(race(from(transport.exited), longTimer(1_000, scheduler).pipe(map(() => undefined))));
    void exitOrTimeout.then(async (exit) => {
      if (this.#closeRequested || this.#terminated) return;
      const info: ExitInfo = exit ?? (await reap());
      const reason = exit ? `pi exited unexpectedly (${describeExit(info)})` : 'pi closed its stdout';
      const failure = new TransportClosedError(reason, { ...info, cause: error });
      if (store.status !== 'starting') {
        events.emit({ type: 'error', code: 'process_exited', fatal: true, message: failure.message, raw: undefined }, 128);
      }
      // Reap whatever pi left behind (its detached bash children) before reporting.
      await reap();
      this.#terminate(failure, info);
    });
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
    const { transport } = this.#parts;
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
