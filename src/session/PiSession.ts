import { asyncScheduler, firstValueFrom, from, map, Observable, race, Subject, Subscription, type SchedulerLike } from 'rxjs';
import type { Dialect, PiConfig, ThinkingLevel } from '../config/PiConfig.js';
import { PiDriverError, PiStartError, PiUnsupportedError, TransportClosedError } from '../errors.js';
import { askHost } from '../policies/askHost.js';
import type { DecisionInput, Policy } from '../policies/types.js';
import type { InteractionRequest, PiEvent } from '../protocol/events.js';
import {
  MessagesDataSchema,
  ModelSchema,
  SessionStateDataSchema,
  SessionStatsDataSchema,
  type AgentMessage,
  type PiModel,
  type PiStateData,
  type PiStatsData,
} from '../protocol/frames.js';
import { describeDialect, unsupportedCommandHint, type Capabilities } from '../protocol/dialects.js';
import { longTimer } from '../rx/longTimer.js';
import type { CloseResult, ExitInfo, PiTransport } from '../transport/PiTransport.js';
import { UsageTotals } from '../usage/UsageTotals.js';
import type { ApproveSetting } from './approvalExtension.js';
import { CommandChannel } from './CommandChannel.js';
import { eachValueFrom } from '../rx/eachValueFrom.js';
import { EventNormalizer } from '../protocol/EventNormalizer.js';
import { FrameRouter } from './FrameRouter.js';
import { InteractionDesk } from './InteractionDesk.js';
import type { ReplayLimits } from '../rx/ReplayHub.js';
import { RunTracker } from './RunTracker.js';
import { SessionEvents } from './SessionEvents.js';
import { SessionStore } from './SessionStore.js';
import type { PromptImage, PromptOptions, RunResult, SessionState, SessionStatus } from './types.js';
import { WireDialect } from './WireDialect.js';

export interface PiSessionOptions {
  /** Stable local key (the manager's registry key). */
  readonly sessionId: string;
  readonly transport: PiTransport;
  readonly config: PiConfig;
  /** The working directory pi runs in. */
  readonly cwd: string;
  /** Interaction policy; default {@link askHost}() (every request is left to the host). */
  readonly policy?: Policy;
  /**
   * Which tool calls need the host's approval (`PiClient`'s `approve`). pi's approval extension
   * only asks about these; omp's built-in approvals ask about every tool, so on omp the session
   * itself approves the tools not listed here, and only the listed ones reach the policy.
   */
  readonly approve?: ApproveSetting;
  /** Scheduler for timers and the activity clock (tests pass a TestScheduler). */
  readonly scheduler?: SchedulerLike;
  /** Bounds of the replay window of `events$`. Default 10,000 events / 16 MiB. */
  readonly replay?: Partial<ReplayLimits>;
  /**
   * The wire dialect, when known (`PiClient` detects it; default `config.dialect`, else pi
   * 0.73). The wire corrects it: omp's `ready` frame, pi 1.x's `agent_settled`.
   */
  readonly dialect?: Dialect;
  /** The version of the binary, when known (some capabilities depend on it). */
  readonly version?: string;
}

const DEFAULT_REPLAY: ReplayLimits = { maxEvents: 10_000, maxBytes: 16 * 1024 * 1024 };

/**
 * A live pi session: one `pi --mode rpc` process, its typed events, and its commands.
 *
 * Create one with `PiClient.start()`. `events$` is hot: the process runs whether or not anyone
 * subscribes, and only {@link close} ends it.
 *
 * The session is a facade over its parts: {@link FrameRouter} (where each line from pi goes),
 * {@link RunTracker} with the pure `reduceRun` (where a run ends), {@link InteractionDesk} (where a
 * request waits), {@link WireDialect} (where the dialects differ), {@link SessionEvents} and
 * {@link SessionStore} (what it shows).
 */
export class PiSession implements AsyncIterable<PiEvent>, AsyncDisposable {
  readonly sessionId: string;
  readonly cwd: string;
  readonly config: PiConfig;

  /**
   * Every event of the session, hot and multicast. A late subscriber first gets the events of
   * the current run (from its `agent_start`; bounded: 10,000 events / 16 MiB by default, oldest
   * dropped first), then live events. Between runs there is no current run: a subscriber gets
   * only what happens after the last run's `agent_end`, so `await prompt(a)` followed by waiting
   * for the next `agent_end` sees the next run's, never `a`'s again (see {@link recentEvents$}
   * for the finished run). Unsubscribing never stops the session.
   *
   * It completes when the session is closed, and **errors** with a `TransportClosedError`
   * (exit code, signal, stderr tail) if pi dies on its own. Always pass an `error` handler:
   * RxJS rethrows unhandled errors asynchronously, which crashes Node.
   */
  readonly events$: Observable<PiEvent>;
  /**
   * Like {@link events$}, but a late subscriber gets everything still retained: the current
   * run, or while idle the last finished run and what came after it (same bounds), then live
   * events. For resuming a consumer from a `seq` (the bridge does) or showing a UI the last run.
   */
  readonly recentEvents$: Observable<PiEvent>;
  /**
   * The current {@link SessionState}, replayed to late subscribers; completes at `closed`. It
   * emits when the state changes; `eventCount` is current in every snapshot it emits and in the
   * first snapshot of every new subscriber, but does not make it emit on its own (that would be
   * once per event). Subscribing has no side effects on other subscribers.
   */
  readonly state$: Observable<SessionState>;
  /** Interaction requests the policy left to the host (replayed); completes when the session closes. */
  readonly pending$: Observable<readonly InteractionRequest[]>;
  /**
   * The clock time (scheduler ms) of activity: lines in from pi, commands out (for idle
   * detection). A time is not repeated: under a stream it emits at most once per clock tick.
   */
  readonly activity$: Observable<number>;

  readonly #transport: PiTransport;
  readonly #scheduler: SchedulerLike;
  readonly #events: SessionEvents;
  readonly #store: SessionStore;
  readonly #channel: CommandChannel;
  readonly #dialect: WireDialect;
  readonly #desk: InteractionDesk;
  readonly #runs: RunTracker;
  readonly #router: FrameRouter;
  readonly #activity = new Subject<number>();
  readonly #subscriptions = new Subscription();
  #lastActivity: number;
  #usage = UsageTotals.ZERO;
  #piSessionId: string | undefined;
  #model: string | undefined;
  #closing: Promise<CloseResult> | undefined;
  #closeRequested = false;
  #terminated = false;
  #initialRun: Promise<RunResult> | undefined;

  constructor(options: PiSessionOptions) {
    const { sessionId, cwd, config, transport } = options;
    this.sessionId = sessionId;
    this.cwd = cwd;
    this.config = config;
    this.#transport = transport;
    const scheduler = (this.#scheduler = options.scheduler ?? asyncScheduler);
    this.#lastActivity = scheduler.now();
    const normalizer = new EventNormalizer();
    const events = (this.#events = new SessionEvents(sessionId, { ...DEFAULT_REPLAY, ...options.replay }, (event) => this.#runs.forward(event)));
    const store = (this.#store = new SessionStore(
      { status: 'starting', sessionId, piSessionId: undefined, model: undefined, cwd, runs: 0, eventCount: 0, pendingRequests: 0, queuedPrompts: 0, usage: UsageTotals.ZERO, exit: undefined },
      () => events.seq,
    ));
    const dialect = (this.#dialect = new WireDialect({
      dialect: options.dialect ?? config.dialect ?? 'pi-0.73',
      version: options.version,
      scheduler,
      startTimeoutMs: config.startTimeoutMs,
      stderrTail: () => transport.stderrTail,
    }));
    const channel = (this.#channel = new CommandChannel({
      write: (command) => {
        this.#runs.onWrite(command);
        return this.#write(command);
      },
      timeoutMs: config.requestTimeoutMs,
      scheduler,
    }));
    const desk = (this.#desk = new InteractionDesk({
      sessionId,
      policy: options.policy ?? askHost(),
      defaultPolicy: options.policy === undefined,
      scheduler,
      session: this,
      events,
      write: (command) => this.#write(command),
      othersWatching: () => events.observed || this.#runs.watched,
      onPendingCount: (count) => store.patch({ pendingRequests: count }),
    }));
    const runs = (this.#runs = new RunTracker({
      channel,
      events,
      store,
      normalizer,
      dialect,
      startFields: () => ({ cwd, ...(this.#piSessionId ? { piSessionId: this.#piSessionId } : {}), ...(this.#model ? { model: this.#model } : {}) }),
      onPiState: (state) => this.#applyState(state),
      abort: () => this.abort(),
      closedError: () => this.#closedError(),
    }));
    this.#router = new FrameRouter({
      config,
      approve: options.approve ?? 'all',
      events,
      channel,
      runs,
      desk,
      dialect,
      normalizer,
      write: (command) => this.#write(command),
      onUsage: (totals) => {
        this.#usage = this.#usage.add(totals);
        store.patch({ usage: this.#usage });
      },
    });
    this.events$ = events.events$;
    this.recentEvents$ = events.recentEvents$;
    this.state$ = store.state$;
    this.pending$ = desk.pending$;
    this.activity$ = this.#activity.asObservable();
  }

  // -------------------------------------------------------------------------------------------
  // Introspection

  /** pi's own session id (pass it to `resume`). */
  get piSessionId(): string | undefined {
    return this.#piSessionId;
  }
  /** The pid of the pi process. */
  get pid(): number | undefined {
    return this.#transport.pid;
  }
  /** Tokens and cost so far, summed from every assistant message. */
  get usage(): UsageTotals {
    return this.#usage;
  }
  /** Interaction requests the policy left to the host, oldest first. */
  get pending(): readonly InteractionRequest[] {
    return this.#desk.pending;
  }
  /** The run of the `task` given to `client.start()`, if one was sent. */
  get initialRun(): Promise<RunResult> | undefined {
    return this.#initialRun;
  }
  /** True once a run has ended. */
  get ended(): boolean {
    return this.#runs.ended;
  }
  /** Clock time (scheduler ms) of the last event in or command out. */
  get lastActivity(): number {
    return this.#lastActivity;
  }
  get status(): SessionStatus {
    return this.#store.status;
  }
  /** The current {@link SessionState} (reading it has no side effects). */
  get state(): SessionState {
    return this.#store.value;
  }
  /**
   * What this pi can do: its dialect (`pi-0.73`, `pi-1`, `omp`) and version when known, steer /
   * follow-up, how approvals work, which run-end signal it has (`agentSettled`,
   * `promptResult`), session stats, the commands it serves… Methods and commands a dialect
   * lacks reject with `PiUnsupportedError`. It can change once, early: the wire corrects a
   * guessed dialect (omp's `ready` frame, pi 1.x's `agent_settled`).
   */
  get capabilities(): Capabilities {
    return this.#dialect.capabilities;
  }
  /** The wire protocol version in use: 1, or 2 after omp accepted `negotiate_protocol` (oversize frames then arrive as lossless chunks). */
  get protocolVersion(): number {
    return this.#dialect.protocolVersion;
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle

  /**
   * Spawns pi and waits until it answers its first `get_state` (pi prints nothing at start;
   * omp first sends its `ready` frame, after which pidriver negotiates protocol v2).
   * On failure the process is gone and the promise rejects with `PiNotFoundError` or
   * `PiStartError` (exit code and stderr tail).
   *
   * @internal Called by `PiClient.start()`.
   */
  async start(signal?: AbortSignal): Promise<void> {
    this.#subscriptions.add(
      this.#transport.lines$.subscribe({
        next: (line) => {
          this.#touch();
          this.#router.onLine(line);
        },
        error: (error: unknown) => this.#onStdoutEnd(error),
        complete: () => this.#onStdoutEnd(undefined),
      }),
    );
    this.#desk.start();
    let onAbort: (() => void) | undefined;
    try {
      signal?.throwIfAborted();
      await this.#transport.start();
      // A transport that spawned (or replays) a known pi says which one.
      const known = this.#transport.dialect;
      if (known) this.#dialect.know(known.dialect, known.version);
      const ready = this.#channel.request({ type: 'get_state' }, { timeoutMs: this.config.startTimeoutMs }).then(async (state) => {
        // omp writes `ready` before it answers anything (so by now the dialect is known).
        await this.#dialect.handshake((command) => this.#channel.request(command));
        return state;
      });
      const died = this.#transport.exited.then((exit) => {
        throw new PiStartError(`pi exited before it was ready (${describeExit(exit)})`, exit);
      });
      const aborted = new Promise<never>((_, reject) => {
        if (!signal) return;
        onAbort = () => reject(abortError(signal));
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      });
      const state = await Promise.race([ready, died, aborted]);
      this.#applyState(SessionStateDataSchema.parse(state));
      this.#store.patch({ status: 'idle' });
    } catch (error) {
      await this.close();
      throw await this.#startError(error);
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  /** @internal Sends `client.start()`'s task; its result is {@link initialRun}. */
  startInitialRun(task: string): void {
    this.#initialRun = this.prompt(task);
    this.#initialRun.catch(() => undefined); // observed through initialRun / events$
  }

  /**
   * Ends the session: cancels open requests, closes pi's stdin (EOF), then SIGTERM, then
   * SIGKILL, each after `terminateTimeoutMs`, and reaps anything pi left running. Idempotent.
   * `events$` completes; prompts still waiting reject with `TransportClosedError`.
   */
  close(): Promise<CloseResult> {
    if (!this.#closing) {
      // Flag first: the transport may end stdout synchronously inside #close(), and that must
      // not look like an unexpected death.
      this.#closeRequested = true;
      this.#closing = this.#close();
    }
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * The events as an async iterable: `for await (const event of session)`. Lossless (values
   * wait in a buffer while the loop body runs, so a slow loop grows memory); `break` unsubscribes;
   * the loop ends when the session closes and throws if pi dies.
   */
  [Symbol.asyncIterator](): AsyncIterator<PiEvent> {
    return eachValueFrom(this.events$)[Symbol.asyncIterator]();
  }

  // -------------------------------------------------------------------------------------------
  // Prompting

  /**
   * Sends a prompt and resolves with its {@link RunResult} when the run ends. A prompt sent
   * while a run is going waits for it and then runs as the next run (pi would silently drop a
   * second `prompt`). A provider error does not reject: the result has `reason: 'error'`.
   *
   * `options.signal` cancels it as `fetch` does: the promise rejects with `signal.reason` at
   * once, a queued prompt is dropped, a started run is aborted; an aborted signal sends nothing.
   *
   * @throws {PiCommandError} when pi refuses the prompt; `TransportClosedError` if the session
   *   ends first.
   */
  prompt(message: string, options: PromptOptions = {}): Promise<RunResult> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const ticket = this.#runs.submit(message, options.images);
    if (!signal) return ticket.result;
    return new Promise<RunResult>((resolve, reject) => {
      const onAbort = (): void => {
        reject(signal.reason as Error);
        this.#runs.cancel(ticket);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      ticket.result.finally(() => signal.removeEventListener('abort', onAbort)).then(resolve, reject);
    });
  }

  /**
   * The events of one prompt's run, cold: subscribing sends the prompt (queued like
   * {@link prompt} if a run is going), the stream completes when that run ends, and
   * unsubscribing before then aborts the run (or drops the prompt if it has not started).
   */
  prompt$(message: string, options: Omit<PromptOptions, 'signal'> = {}): Observable<PiEvent> {
    return new Observable<PiEvent>((subscriber) => {
      let finished = false;
      const ticket = this.#runs.submit(message, options.images, { next: (event) => subscriber.next(event) });
      ticket.result.then(
        () => {
          finished = true;
          subscriber.complete();
        },
        (error: unknown) => {
          finished = true;
          subscriber.error(error);
        },
      );
      return () => {
        if (!finished) this.#runs.cancel(ticket);
      };
    });
  }

  /** Steers the current run (delivered after its current tool calls). While idle it starts a run. */
  async steer(message: string, options: Pick<PromptOptions, 'images'> = {}): Promise<void> {
    await this.#queueInput('steer', message, options.images);
  }

  /** Queues a message for when the current run would stop. While idle it starts a run. */
  async followUp(message: string, options: Pick<PromptOptions, 'images'> = {}): Promise<void> {
    await this.#queueInput('follow_up', message, options.images);
  }

  /**
   * Aborts the current run; the process stays alive. Open interaction requests are cancelled
   * first (pi can't abort while a dialog waits). Resolves when pi confirms.
   */
  async abort(): Promise<void> {
    this.#desk.cancelAll();
    await this.#channel.request({ type: 'abort' });
  }

  // -------------------------------------------------------------------------------------------
  // Interaction

  /**
   * Answers an interaction request the policy left to the host (in `pending$`, or an
   * `interaction_request` event with `handledBy: 'host'`). `value` is a `Decision` or is
   * coerced: `true`/`false` → allow/deny, a string → an answer (for a choice: one of its
   * options), a number → the option at that index, `undefined` → cancel.
   *
   * A request is answered exactly once: answering one that is already answered or withdrawn
   * (run aborted, session closed, pi's own dialog timeout passed) does nothing, so a UI button
   * that races a timeout needs no error handling.
   *
   * @throws {PiPolicyError} when there is no such request for the host (never was, or the policy
   *   is deciding it), or the value doesn't fit it (the request then stays open).
   */
  respond(requestId: string, value: DecisionInput): Promise<void> {
    return this.#desk.respond(requestId, value);
  }

  // -------------------------------------------------------------------------------------------
  // Commands

  /** pi's `get_state`. */
  async getState(): Promise<PiStateData> {
    const state = SessionStateDataSchema.parse(await this.#channel.request({ type: 'get_state' }));
    this.#applyState(state);
    return state;
  }

  /** pi's `get_session_stats`; `UsageTotals.fromSessionStats(stats)` turns it into totals. */
  async getStats(): Promise<PiStatsData> {
    return SessionStatsDataSchema.parse(await this.#channel.request({ type: 'get_session_stats' }));
  }

  /** The messages of the current context (`get_messages`). */
  async getMessages(): Promise<AgentMessage[]> {
    return MessagesDataSchema.parse(await this.#channel.request({ type: 'get_messages' })).messages;
  }

  /** Switches the model; resolves with pi's model description. */
  async setModel(provider: string, modelId: string): Promise<PiModel> {
    const model = ModelSchema.parse(await this.#channel.request({ type: 'set_model', provider, modelId }));
    this.#model = `${model.provider}/${model.id}`;
    this.#store.patch({ model: this.#model });
    return model;
  }

  /** Sets the thinking level (pi clamps it to what the model supports). */
  async setThinking(level: ThinkingLevel): Promise<void> {
    const caps = this.#dialect.capabilities;
    if (!caps.thinkingLevels.includes(level)) {
      throw new PiUnsupportedError(`thinking level "${level}"`, describeDialect(caps), `it has ${caps.thinkingLevels.join(', ')}`);
    }
    await this.#channel.request({ type: 'set_thinking_level', level });
  }

  /**
   * Sends any RPC command and resolves with its `data`: the escape hatch for commands without
   * a method here (`compact`, `bash`, `get_commands`, …).
   */
  command(type: string, fields: Record<string, unknown> = {}): Promise<unknown> {
    const hint = unsupportedCommandHint(this.#dialect.capabilities, type);
    if (hint !== undefined) {
      return Promise.reject(new PiUnsupportedError(`command "${type}"`, describeDialect(this.#dialect.capabilities), hint || undefined));
    }
    return this.#channel.request({ ...fields, type });
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  async #queueInput(type: 'steer' | 'follow_up', message: string, images: readonly PromptImage[] | undefined): Promise<void> {
    if (this.#runs.idle) {
      // pi parks steer/follow-up messages sent while idle until some later prompt: start a run
      // instead so nothing waits unseen.
      const ticket = this.#runs.submit(message, images);
      ticket.result.catch(() => undefined);
      await ticket.accepted;
      return;
    }
    await this.#channel.request({ type, message, ...(images ? { images: images.map((image) => ({ ...image })) } : {}) });
  }

  #write(command: object): Promise<void> {
    this.#touch();
    return this.#transport.send(command);
  }

  /** Marks activity; `activity$` gets a value only when the clock moved (one per ms at most under a stream). */
  #touch(): void {
    const now = this.#scheduler.now();
    if (now === this.#lastActivity) return;
    this.#lastActivity = now;
    this.#activity.next(now);
  }

  #applyState(state: PiStateData): void {
    if (state.sessionId) this.#piSessionId = state.sessionId;
    if (state.model) this.#model = `${state.model.provider}/${state.model.id}`;
    this.#store.patch({ piSessionId: this.#piSessionId, model: this.#model });
  }

  async #close(): Promise<CloseResult> {
    if (!this.#terminated) this.#store.patch({ status: 'closing' });
    this.#desk.cancelAll();
    const result = await this.#transport.close({ timeoutMs: this.config.terminateTimeoutMs });
    this.#terminate(undefined, result);
    return result;
  }

  /** stdout ended: pi exited, or closed stdout while alive. Either way the session is over. */
  #onStdoutEnd(error: unknown): void {
    if (this.#closeRequested || this.#terminated) return;
    const terminate = (timeoutMs: number) => this.#transport.close({ timeoutMs }).catch((closeError: unknown) => ({ ...this.#lastExit(), cause: closeError }));
    const exitOrTimeout = firstValueFrom(race(from(this.#transport.exited), longTimer(1_000, this.#scheduler).pipe(map(() => undefined))));
    void exitOrTimeout.then(async (exit) => {
      if (this.#closeRequested || this.#terminated) return;
      const info: ExitInfo = exit ?? (await terminate(this.config.terminateTimeoutMs));
      const reason = exit ? `pi exited unexpectedly (${describeExit(info)})` : 'pi closed its stdout';
      const failure = new TransportClosedError(reason, { ...info, cause: error });
      if (this.#store.status !== 'starting') {
        this.#events.emit({ type: 'error', code: 'process_exited', fatal: true, message: failure.message, raw: undefined }, 128);
      }
      // Reap whatever pi left behind (its detached bash children) before reporting.
      await terminate(this.config.terminateTimeoutMs);
      this.#terminate(failure, info);
    });
  }

  #terminate(failure: TransportClosedError | undefined, exit: ExitInfo): void {
    if (this.#terminated) return;
    this.#terminated = true;
    const error = failure ?? new TransportClosedError('the session was closed', exit);
    this.#channel.rejectAll(error);
    this.#desk.close();
    this.#runs.failAll(error);
    this.#dialect.close();
    this.#subscriptions.unsubscribe();
    this.#store.patch({ status: 'closed', exit: { exitCode: exit.exitCode, signal: exit.signal, stderrTail: exit.stderrTail }, queuedPrompts: 0 });
    this.#store.complete();
    this.#activity.complete();
    if (failure) this.#events.error(failure);
    else this.#events.complete();
  }

  #lastExit(): ExitInfo {
    return { exitCode: null, signal: null, stderrTail: this.#transport.stderrTail };
  }

  #closedError(): Error | undefined {
    if (this.#terminated || this.#closeRequested) return new TransportClosedError('the session is closed', this.#store.value.exit ?? {});
    return undefined;
  }

  async #startError(error: unknown): Promise<Error> {
    if (error instanceof PiDriverError && !(error instanceof TransportClosedError)) return error;
    const exit = await Promise.race([this.#transport.exited, Promise.resolve(undefined)]);
    const detail = error instanceof Error ? error.message : String(error);
    return new PiStartError(`pi failed to start: ${detail}`, { ...(exit ?? { stderrTail: this.#transport.stderrTail }), cause: error });
  }
}

function describeExit(exit: ExitInfo): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.exitCode ?? 'unknown'}`;
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new PiDriverError('start() was aborted', { code: 'PI_ABORTED' });
}
