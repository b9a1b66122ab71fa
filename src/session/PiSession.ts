import { asyncScheduler, defer, filter, map, Subject, type Observable, type SchedulerLike } from 'rxjs';
import type * as z from 'zod';
import type { PiConfig, ThinkingLevel } from '../config/PiConfig.js';
import { PiUnsupportedError } from '../errors.js';
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
import type { CloseResult } from '../transport/PiTransport.js';
import { UsageTotals } from '../usage/UsageTotals.js';
import { assembleSession } from './assembleSession.js';
import type { CommandChannel } from './CommandChannel.js';
import { eachValueFrom } from '../rx/eachValueFrom.js';
import type { LimitBreach } from '../limits/RunLimits.js';
import type { HostCalls } from './HostCalls.js';
import type { InteractionDesk } from './InteractionDesk.js';
import type { RunOptions } from './PromptQueue.js';
import type { RunTracker } from './RunTracker.js';
import type { ForkResult, SessionBranches } from './SessionBranches.js';
import type { SessionLifecycle } from './SessionLifecycle.js';
import type { SessionEntriesData, SessionTreeData } from '../protocol/sessionEntries.js';
import { SubagentsDataSchema, type SubagentSnapshot } from '../protocol/subagentFrames.js';
import type { SessionStore } from './SessionStore.js';
import type { PromptOptions, RunResult, SessionState, SessionStatus } from './types.js';
import type { WireDialect } from './WireDialect.js';
import type { PiSessionOptions } from './PiSessionOptions.js';
import { toRunOptions } from './toRunOptions.js';

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

  readonly #scheduler: SchedulerLike;
  readonly #store: SessionStore;
  readonly #channel: CommandChannel;
  readonly #dialect: WireDialect;
  readonly #desk: InteractionDesk;
  readonly #runs: RunTracker;
  readonly #lifecycle: SessionLifecycle;
  readonly #hostCalls: HostCalls;
  readonly #branches: SessionBranches;
  readonly #activity = new Subject<number>();
  #lastActivity: number;
  #usage = UsageTotals.ZERO;
  #piSessionId: string | undefined;
  #sessionFile: string | undefined;
  #model: string | undefined;
  #initialRun: Promise<RunResult> | undefined;

  constructor(options: PiSessionOptions) {
    this.sessionId = options.sessionId;
    this.cwd = options.cwd;
    this.config = options.config;
    this.#scheduler = options.scheduler ?? asyncScheduler;
    this.#lastActivity = this.#scheduler.now();
    const parts = assembleSession(options, {
      session: this,
      write: (command) => this.#write(command),
      touch: () => this.#touch(),
      applyState: (state) => this.#applyState(state),
      sessionFile: () => this.#sessionFile,
      abort: () => this.abort(),
      startFields: () => ({ cwd: this.cwd, ...(this.#piSessionId ? { piSessionId: this.#piSessionId } : {}), ...(this.#model ? { model: this.#model } : {}) }),
      onUsage: (totals) => {
        this.#usage = this.#usage.add(totals);
        this.#store.patch({ usage: this.#usage });
      },
      onTerminated: () => {
        this.#hostCalls.dispose();
        this.#activity.complete();
      },
    });
    ({
      store: this.#store,
      channel: this.#channel,
      dialect: this.#dialect,
      desk: this.#desk,
      runs: this.#runs,
      lifecycle: this.#lifecycle,
      hostCalls: this.#hostCalls,
      branches: this.#branches,
    } = parts);
    this.events$ = parts.events.events$;
    this.recentEvents$ = parts.events.recentEvents$;
    this.state$ = parts.store.state$;
    this.pending$ = parts.desk.pending$;
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
    return this.#lifecycle.transport.pid;
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
  /** True once a run of this session has ended (its `agent_end`); stays true after later prompts. */
  get hasEndedRun(): boolean {
    return this.#runs.ended;
  }
  /** @deprecated Use {@link hasEndedRun}: true once a run has ended, not "the session ended". */
  get ended(): boolean {
    return this.hasEndedRun;
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
  start(signal?: AbortSignal): Promise<void> {
    return this.#lifecycle.start(signal);
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
    return this.#lifecycle.close();
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
  prompt<S extends z.ZodType = z.ZodType<unknown>>(message: string, options: PromptOptions<S> = {}): Promise<RunResult<z.output<S>>> {
    let run: RunOptions;
    try {
      run = toRunOptions(options, this.#hostCalls.canOfferOutput, this.#dialect.capabilities);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return this.#runs.prompt(message, run, options.signal) as Promise<RunResult<z.output<S>>>;
  }

  /**
   * The events of one prompt's run, cold: subscribing sends the prompt (queued like
   * {@link prompt} if a run is going), the stream completes when that run ends, and
   * unsubscribing before then aborts the run (or drops the prompt if it has not started).
   */
  prompt$(message: string, options: Omit<PromptOptions, 'signal'> = {}): Observable<PiEvent> {
    return defer(() => this.#runs.run$(message, toRunOptions(options, this.#hostCalls.canOfferOutput, this.#dialect.capabilities))).pipe(
      filter((update) => update.kind === 'event'),
      map((update) => update.event),
    );
  }

  /** Steers the current run (delivered after its current tool calls). While idle it starts a run. */
  async steer(message: string, options: Pick<PromptOptions, 'images'> = {}): Promise<void> {
    await this.#runs.input('steer', message, options.images);
  }

  /** Queues a message for when the current run would stop. While idle it starts a run. */
  async followUp(message: string, options: Pick<PromptOptions, 'images'> = {}): Promise<void> {
    await this.#runs.input('follow_up', message, options.images);
  }

  /**
   * Aborts the current run; the process stays alive. Open interaction requests are cancelled
   * first (pi can't abort while a dialog waits). Resolves when pi confirms.
   */
  async abort(): Promise<void> {
    if (this.#store.status === 'restarting') return; // pi died: no run to abort
    this.#desk.cancelAll();
    this.#hostCalls.abortAll();
    await this.#channel.request({ type: 'abort' });
  }

  /**
   * A budget this session is held to is spent (`PiSessionManager`'s `limits` call this): the run
   * going on ends with `reason: 'limit'`, and every later prompt rejects with `PiLimitError`.
   */
  exceedBudget(breach: LimitBreach): void {
    this.#runs.exceedBudget(breach);
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

  /**
   * Switches the policy of the running session (like a permission mode): later requests go to
   * `policy`, and the requests still open are offered to it, oldest first (the old policy's
   * `signal` for each aborts). A request waiting in `pending$` stays answerable by `respond()`
   * until the new policy answers it; the first answer wins. After `close()` it does nothing.
   *
   * @throws {PiConfigError} naming `policy` when it is not a policy (nothing changes).
   */
  setPolicy(policy: Policy): void {
    this.#desk.setPolicy(policy);
  }

  // -------------------------------------------------------------------------------------------
  // Conversations (see docs/lifecycle.md)

  /**
   * Starts a new, empty conversation in this session (pi's `new_session`); `parentSession` records
   * where it came from. Like {@link fork}, {@link clone} and {@link switchSession}: refused
   * (`PI_BUSY`) while a run is going, rejected (`PI_CANCELLED`) when a pi extension cancels it, and
   * once it resolves `piSessionId` and `state$` are current and `events$` has emitted
   * `session_changed` (a late subscriber's replay starts there).
   */
  newSession(options: { readonly parentSession?: string } = {}): Promise<void> {
    return this.#branches.newSession(options.parentSession);
  }

  /**
   * A new conversation with the history before user message `entryId` (an id from
   * {@link getEntries}): pi's `fork` (omp's `branch`). Resolves with that message's text.
   */
  fork(entryId: string): Promise<ForkResult> {
    return this.#branches.fork(entryId);
  }

  /** A new conversation with the whole history so far (pi's `clone`; `PiUnsupportedError` on omp). */
  clone(): Promise<void> {
    return this.#branches.clone();
  }

  /** Continues another pi session in this process: a session file path, or pi's session id (looked up as `resume` does). */
  switchSession(pathOrId: string): Promise<void> {
    return this.#branches.switchSession(pathOrId);
  }

  /**
   * The entries of the conversation (messages, model changes, compactions…) and the current leaf:
   * `get_entries` on pi 1.x and omp ≥ 18.3.1, else read from pi's session file (a local,
   * persisted session; `PiUnsupportedError` otherwise).
   */
  getEntries(): Promise<SessionEntriesData> {
    return this.#branches.getEntries();
  }

  /** The entries as a tree (branches are siblings): `get_tree`, or built from the session file like {@link getEntries}. */
  getTree(): Promise<SessionTreeData> {
    return this.#branches.getTree();
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

  /** omp: the subagents running now (`get_subagents`; ended ones are not listed). `PiUnsupportedError` on pi 0.73 and pi 1.x. */
  async getSubagents(): Promise<SubagentSnapshot[]> {
    const caps = this.#dialect.capabilities;
    if (!caps.subagents) throw new PiUnsupportedError('getSubagents()', describeDialect(caps));
    return SubagentsDataSchema.parse(await this.#channel.request({ type: 'get_subagents' })).subagents;
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

  #write(command: object): Promise<void> {
    this.#touch();
    return this.#lifecycle.send(command);
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
    this.#sessionFile = state.sessionFile ?? undefined;
    if (state.model) this.#model = `${state.model.provider}/${state.model.id}`;
    this.#store.patch({ piSessionId: this.#piSessionId, model: this.#model });
  }
}
