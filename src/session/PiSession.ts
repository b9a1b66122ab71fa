import {
  asyncScheduler,
  BehaviorSubject,
  defer,
  firstValueFrom,
  from,
  map,
  Observable,
  race,
  Subject,
  Subscription,
  type SchedulerLike,
} from 'rxjs';
import type { Dialect, PiConfig, ThinkingLevel } from '../config/PiConfig.js';
import {
  PiCommandError,
  PiDriverError,
  PiPolicyError,
  PiProtocolError,
  PiStartError,
  PiUnsupportedError,
  TransportClosedError,
} from '../errors.js';
import { attachPolicyContext } from '../policies/context.js';
import { askHost } from '../policies/askHost.js';
import { cancel, coerceDecision, deny } from '../policies/decisions.js';
import { toUiResponse } from '../policies/toUiResponse.js';
import type { Decision, DecisionInput, Policy, PolicyAnswer } from '../policies/types.js';
import type { EventFields, InteractionRequest, PiEvent, UnstampedEvent } from '../protocol/events.js';
import {
  MessagesDataSchema,
  ModelSchema,
  SessionStateDataSchema,
  SessionStatsDataSchema,
  type AgentMessage,
  type ExtensionUiRequestFrame,
  type FrameOf,
  type KnownFrame,
  type PiModel,
  type PiStateData,
  type PiStatsData,
} from '../protocol/frames.js';
import { capabilitiesOf, describeDialect, unsupportedCommandHint, type Capabilities } from '../protocol/dialects.js';
import { defineDeferredRaw, DeferredRaw } from '../protocol/DeferredRaw.js';
import { parseLine, readLine, readScan, type SessionLine } from '../protocol/parseLine.js';
import { RpcChunkAssembler } from '../protocol/RpcChunkAssembler.js';
import { OversizeLine, ScannedLine } from '../transport/LineSplitter.js';
import type { CloseResult, ExitInfo, PiTransport, TransportLine } from '../transport/PiTransport.js';
import { longTimer } from '../rx/longTimer.js';
import { redactSecrets, secretsOf } from '../transport/redactSecrets.js';
import { UsageTotals } from '../usage/UsageTotals.js';
import { eachValueFrom } from './eachValueFrom.js';
import { APPROVE_OPTION, classifyDialog, DIALOG_METHODS, toUiNotice } from './classifyUiRequest.js';
import type { ApproveSetting } from './approvalExtension.js';
import { CommandChannel } from './CommandChannel.js';
import { EventNormalizer } from './EventNormalizer.js';
import { ReplayHub, type ReplayLimits } from './ReplayHub.js';
import type { PromptImage, PromptOptions, RunResult, SessionState, SessionStatus } from './types.js';

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

/** One prompt the host asked for, waiting for (or in) its run. */
interface RunTicket {
  readonly message: string;
  readonly images: readonly PromptImage[] | undefined;
  readonly resolve: (result: RunResult) => void;
  readonly reject: (error: Error) => void;
  readonly listeners: Set<RunListener>;
  /** Resolves once pi accepted the prompt (rejects if it refused it). */
  readonly accepted: Promise<void>;
  readonly acceptedControl: { resolve: () => void; reject: (error: Error) => void };
}

interface RunListener {
  next(event: PiEvent): void;
  complete(): void;
}

/** A logical run: from our `agent_start` to our `agent_end` (possibly several pi runs: retries). */
interface Run {
  readonly ticket: RunTicket | undefined;
  /** The id of the `prompt` command that started it (omp's `prompt_result` and late refusals carry it). */
  promptId: string | undefined;
  acked: boolean;
  sawAgentStart: boolean;
  piEnded: boolean;
  retryPending: boolean;
  compactionPending: boolean;
  checkGeneration: number;
  usage: UsageTotals;
  /** pi's last `agent_end` frame of this run and its size: the `raw` of our `agent_end`. */
  endFrame: { readonly raw: Record<string, unknown>; readonly size: number } | undefined;
  /** Cancelled before pi started it: abort as soon as it starts (pi ignores an abort before that). */
  abortOnStart: boolean;
}

interface OpenRequest {
  readonly request: InteractionRequest;
  readonly controller: AbortController;
  /** Size of pi's frame, for the replay window when the request is published. */
  readonly size: number;
  /**
   * `policy`: the policy is deciding; the request is not on `events$` nor in `pending$`, and
   * `respond()` does not know it. `host`: the policy deferred it: published, and answered by
   * whichever comes first, `respond()` or a later answer of the policy (e.g. a timeout).
   */
  stage: 'policy' | 'host';
  /** pi's own dialog timeout (it resolves the dialog silently): withdraws the request. */
  timeout: Subscription | undefined;
  /** Warns once when a deferred request stays unanswered for long. */
  unanswered: Subscription | undefined;
}

/** How long a request deferred to the host may wait before pidriver warns that nobody answers it. */
const UNANSWERED_WARNING_MS = 60_000;

/** How many answered or withdrawn request ids are remembered to ignore late answers. */
const CLOSED_REQUEST_MEMORY = 1_024;

const DEFAULT_REPLAY: ReplayLimits = { maxEvents: 10_000, maxBytes: 16 * 1024 * 1024 };

/**
 * A live pi session: one `pi --mode rpc` process, its typed events, and its commands.
 *
 * Create one with `PiClient.start()`. `events$` is hot: the process runs whether or not anyone
 * subscribes, and only {@link close} ends it.
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
   * emits when the state changes; `eventCount` is current in every snapshot it emits and for
   * every new subscriber, but does not make it emit on its own (that would be once per event).
   */
  readonly state$: Observable<SessionState>;
  /** Open interaction requests (replayed); completes when the session closes. */
  readonly pending$: Observable<readonly InteractionRequest[]>;
  /**
   * The clock time (scheduler ms) of activity: lines in from pi, commands out (for idle
   * detection). A time is not repeated: under a stream it emits at most once per clock tick.
   */
  readonly activity$: Observable<number>;

  readonly #transport: PiTransport;
  readonly #scheduler: SchedulerLike;
  readonly #hub: ReplayHub<PiEvent>;
  readonly #state: BehaviorSubject<SessionState>;
  readonly #pending = new BehaviorSubject<readonly InteractionRequest[]>([]);
  readonly #activity = new Subject<number>();
  readonly #requests = new Subject<InteractionRequest>();
  readonly #channel: CommandChannel;
  readonly #normalizer = new EventNormalizer();
  readonly #subscriptions = new Subscription();
  readonly #openRequests = new Map<string, OpenRequest>();
  readonly #approve: ApproveSetting;
  /** Ids of requests already answered or withdrawn (bounded), so late answers are ignored, not errors. */
  readonly #closedRequestIds = new Set<string>();
  readonly #policy: Policy;
  /** Secret values to mask in text pidriver builds from pi's stdout (computed on first use). */
  #secrets: readonly string[] | undefined;
  /** No policy was given: requests go to the host (askHost()), so someone must be listening. */
  readonly #defaultPolicy: boolean;
  #policySubscription: Subscription | undefined;
  #policyRestarts = 0;
  #seq = 0;
  #lastActivity: number;
  #usage = UsageTotals.ZERO;
  #ended = false;
  #piSessionId: string | undefined;
  #model: string | undefined;
  #queue: RunTicket[] = [];
  #run: Run | undefined;
  #runsFinished = 0;
  #closing: Promise<CloseResult> | undefined;
  #closeRequested = false;
  #terminated = false;
  #initialRun: Promise<RunResult> | undefined;
  #capabilities: Capabilities;
  /** The run whose `prompt` is being written right now (its id is captured on the way out). */
  #promptFor: Run | undefined;
  readonly #chunks = new RpcChunkAssembler();
  /** omp's `ready` frame, once it came (a promise while start() waits for it). */
  #ready: Promise<FrameOf<'ready'>> | undefined;
  #resolveReady: ((frame: FrameOf<'ready'>) => void) | undefined;
  #protocolVersion = 1;
  /** An `agent_settled`, or a `prompt_result` for an agent run, was seen: this pi ends its runs itself. */
  #settledSignalSeen = false;

  constructor(options: PiSessionOptions) {
    this.sessionId = options.sessionId;
    this.cwd = options.cwd;
    this.config = options.config;
    this.#transport = options.transport;
    this.#scheduler = options.scheduler ?? asyncScheduler;
    this.#policy = options.policy ?? askHost();
    this.#defaultPolicy = options.policy === undefined;
    this.#approve = options.approve ?? 'all';
    this.#lastActivity = this.#scheduler.now();
    this.#hub = new ReplayHub<PiEvent>({ ...DEFAULT_REPLAY, ...options.replay });
    this.#state = new BehaviorSubject<SessionState>({
      status: 'starting',
      sessionId: this.sessionId,
      piSessionId: undefined,
      model: undefined,
      cwd: this.cwd,
      runs: 0,
      eventCount: 0,
      pendingRequests: 0,
      queuedPrompts: 0,
      usage: UsageTotals.ZERO,
      exit: undefined,
    });
    this.#capabilities = capabilitiesOf(options.dialect ?? options.config.dialect ?? 'pi-0.73', options.version);
    this.#channel = new CommandChannel({
      write: (command) => {
        if (this.#promptFor && command.type === 'prompt' && typeof command.id === 'string') this.#promptFor.promptId = command.id;
        return this.#write(command);
      },
      timeoutMs: options.config.requestTimeoutMs,
      scheduler: this.#scheduler,
    });
    this.events$ = this.#hub.observable;
    this.recentEvents$ = this.#hub.retained;
    // eventCount is brought up to date for each new subscriber (it is not emitted per event).
    this.state$ = defer(() => {
      this.#syncEventCount();
      return this.#state.asObservable();
    });
    this.pending$ = this.#pending.asObservable();
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
  /** Open interaction requests, oldest first. */
  get pending(): readonly InteractionRequest[] {
    return this.#pending.value;
  }
  /** The run of the `task` given to `client.start()`, if one was sent. */
  get initialRun(): Promise<RunResult> | undefined {
    return this.#initialRun;
  }
  /** True once a run has ended. */
  get ended(): boolean {
    return this.#ended;
  }
  /** Clock time (scheduler ms) of the last event in or command out. */
  get lastActivity(): number {
    return this.#lastActivity;
  }
  get status(): SessionStatus {
    return this.#state.value.status;
  }
  get state(): SessionState {
    this.#syncEventCount();
    return this.#state.value;
  }
  /**
   * What this pi can do: its dialect (`pi-0.73`, `pi-1`, `omp`) and version when known, steer /
   * follow-up, how approvals work, which run-end signal it has (`agentSettled`,
   * `promptResult`), session stats, the commands it serves… Methods and commands a dialect
   * lacks reject with `PiUnsupportedError`. It can change once, early: the wire corrects a
   * guessed dialect (omp's `ready` frame, pi 1.x's `agent_settled`).
   */
  get capabilities(): Capabilities {
    return this.#capabilities;
  }
  /** The wire protocol version in use: 1, or 2 after omp accepted `negotiate_protocol` (oversize frames then arrive as lossless chunks). */
  get protocolVersion(): number {
    return this.#protocolVersion;
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
        next: (line) => this.#onLine(line),
        error: (error: unknown) => this.#onStdoutEnd(error),
        complete: () => this.#onStdoutEnd(undefined),
      }),
    );
    this.#subscribePolicy();
    try {
      signal?.throwIfAborted();
      await this.#transport.start();
      // A transport that spawned (or replays) a known pi says which one.
      const known = this.#transport.dialect;
      if (known) this.#capabilities = capabilitiesOf(known.dialect, known.version ?? (known.dialect === this.#capabilities.dialect ? this.#capabilities.version : undefined));
      const ready = this.#channel
        .request({ type: 'get_state' }, { timeoutMs: this.config.startTimeoutMs })
        .then(async (state) => {
          // omp writes `ready` before it answers anything (so by now the dialect is known):
          // ready means that frame and the protocol negotiation it allows.
          if (this.#capabilities.readyFrame) await this.#negotiate(await this.#readyFrame());
          return state;
        });
      const died = this.#transport.exited.then((exit) => {
        throw new PiStartError(`pi exited before it was ready (${describeExit(exit)})`, exit);
      });
      const aborted = new Promise<never>((_, reject) => {
        if (!signal) return;
        if (signal.aborted) reject(abortError(signal));
        else signal.addEventListener('abort', () => reject(abortError(signal)), { once: true });
      });
      const state = await Promise.race([ready, died, aborted]);
      this.#applyState(SessionStateDataSchema.parse(state));
      this.#setState({ status: 'idle' });
    } catch (error) {
      await this.close();
      throw await this.#startError(error);
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
   * second `prompt`, G3). A provider error does not reject: the result has `reason: 'error'`.
   *
   * @throws {PiCommandError} when pi refuses the prompt; `TransportClosedError` if the session
   *   ends first.
   */
  prompt(message: string, options: PromptOptions = {}): Promise<RunResult> {
    const { signal } = options;
    // Like fetch: an aborted signal sends nothing and rejects with its reason.
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const ticket = this.#submit(message, options.images, undefined);
    const result = this.#resultOf(ticket);
    if (!signal) return result;
    return new Promise<RunResult>((resolve, reject) => {
      const onAbort = (): void => {
        reject(signal.reason as Error);
        this.#cancelTicket(ticket);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      result
        .finally(() => signal.removeEventListener('abort', onAbort))
        .then(resolve, reject);
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
      const ticket = this.#submit(message, options.images, {
        next: (event) => subscriber.next(event),
        complete: () => undefined,
      });
      this.#resultOf(ticket).then(
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
        if (!finished) this.#cancelTicket(ticket);
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
    this.#cancelOpenRequests();
    await this.#channel.request({ type: 'abort' });
  }

  // -------------------------------------------------------------------------------------------
  // Interaction

  /**
   * Answers an interaction request. `value` is a `Decision` or is coerced: `true`/`false` →
   * allow/deny, a string → an answer (for a choice: one of its options), a number → the option
   * at that index, `undefined` → cancel.
   *
   * A request is answered exactly once: answering one that is already answered or withdrawn
   * (run aborted, session closed, pi's own dialog timeout passed) does nothing, so a UI button
   * that races a timeout needs no error handling.
   *
   * @throws {PiPolicyError} when there never was a request with this id, or the value doesn't
   *   fit it (the request then stays open).
   */
  async respond(requestId: string, value: DecisionInput): Promise<void> {
    const open = this.#openRequests.get(requestId);
    // A request the policy is still deciding is not the host's to answer (nor to know about).
    if (!open || open.stage === 'policy') {
      if (this.#closedRequestIds.has(requestId)) return; // late answer: ignored on purpose
      throw new PiPolicyError(requestId, `No open interaction request with id "${requestId}"`);
    }
    const decision = coerceDecision(open.request, value);
    if (decision.kind === 'defer') return;
    await this.#answer(open, decision);
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
    this.#setState({ model: this.#model });
    return model;
  }

  /** Sets the thinking level (pi clamps it to what the model supports). */
  async setThinking(level: ThinkingLevel): Promise<void> {
    if (!this.#capabilities.thinkingLevels.includes(level)) {
      throw new PiUnsupportedError(`thinking level "${level}"`, describeDialect(this.#capabilities), `it has ${this.#capabilities.thinkingLevels.join(', ')}`);
    }
    await this.#channel.request({ type: 'set_thinking_level', level });
  }

  /**
   * Sends any RPC command and resolves with its `data`: the escape hatch for commands without
   * a method here (`compact`, `bash`, `get_commands`, …).
   */
  command(type: string, fields: Record<string, unknown> = {}): Promise<unknown> {
    const hint = unsupportedCommandHint(this.#capabilities, type);
    if (hint !== undefined) {
      return Promise.reject(new PiUnsupportedError(`command "${type}"`, describeDialect(this.#capabilities), hint || undefined));
    }
    return this.#channel.request({ ...fields, type });
  }

  // -------------------------------------------------------------------------------------------
  // Inbound

  #onLine(line: TransportLine): void {
    this.#touch();
    if (line instanceof OversizeLine) {
      this.#onOversizeLine(line);
      return;
    }
    let parsed: SessionLine;
    if (line instanceof ScannedLine) {
      parsed = readScan(line.scan) ?? parseLine(line.line); // the schema refused it: let the full parse say why
    } else {
      if (line.trim().length === 0) return;
      parsed = readLine(line);
    }
    if (parsed.kind === 'deferred') {
      // A fast-path message_update: its raw is decoded only if an event's `raw` is read (see
      // #stamp); until then it is carried as is, and only its small text is retained.
      this.#onFrame(parsed.frame, parsed.raw as unknown as Record<string, unknown>, parsed.raw.size);
      return;
    }
    const text = typeof line === 'string' ? line : line.line;
    if (parsed.kind === 'invalid') {
      const line = this.#redact(text);
      this.#emit({ type: 'error', code: 'invalid_line', fatal: false, message: this.#redact(parsed.message), line, raw: undefined }, text.length);
      return;
    }
    if (parsed.kind === 'unknown') {
      const line = this.#redact(text);
      const raw = line === text ? parsed.frame : (JSON.parse(line) as Record<string, unknown>);
      this.#emit({ type: 'unknown', frameType: parsed.frame.type, line, raw }, text.length);
      return;
    }
    this.#onFrame(parsed.frame, parsed.raw, text.length);
  }

  /**
   * A line over `maxLineBytes` was dropped as it arrived; only its head is known. It becomes an
   * `error` event, and what the head says still counts: a dropped `agent_end` still ends the
   * run, a dropped response still settles (rejects) its command.
   */
  #onOversizeLine(line: OversizeLine): void {
    this.#emit(
      {
        type: 'error',
        code: 'line_too_long',
        fatal: false,
        message: `dropped a ${line.bytes}-byte line from pi (maxLineBytes is ${this.config.maxLineBytes})`,
        raw: undefined,
        line: this.#redact(line.head),
      },
      line.head.length,
    );
    const type = /^\{"type":"([a-z_]+)"/.exec(line.head)?.[1];
    if (type === 'agent_end') this.#onPiAgentEnd();
    if (type === 'extension_ui_request') this.#refuseUnreadableRequest(line);
    if (type === 'response' || /^\{"id":"[^"]*","type":"response"/.test(line.head)) {
      const id = /^\{"id":"([^"]*)"/.exec(line.head)?.[1];
      if (id !== undefined) this.#channel.failCommand(id, new PiProtocolError(`pi's response to command ${id} was larger than maxLineBytes (${line.bytes} bytes)`, line.head));
    }
  }

  /**
   * A dialog too long to read can't be shown to anyone: cancel it on the wire by its id (a
   * cancelled confirm or approval is a refusal), so the run goes on instead of waiting for it.
   * Fire-and-forget methods (`notify`, `setStatus`, …) need no answer.
   */
  #refuseUnreadableRequest(line: OversizeLine): void {
    const id = /"id":"((?:[^"\\]|\\.)*)"/.exec(line.head)?.[1];
    const method = /"method":"([A-Za-z_]+)"/.exec(line.head)?.[1];
    if (id === undefined || (method !== undefined && !DIALOG_METHODS.has(method))) return;
    const requestId = JSON.parse(`"${id}"`) as string;
    this.#write({ type: 'extension_ui_response', id: requestId, cancelled: true }).catch(() => undefined);
  }

  /**
   * Text of pi's stdout that pidriver itself puts into an event (a line it could not read): the
   * API key and other secret env values masked, as in stderr. (What pi says in its frames is
   * pi's output, passed on as is.)
   */
  #redact(text: string): string {
    this.#secrets ??= secretsOf(this.config, process.env);
    return this.#secrets.length === 0 ? text : redactSecrets(text, this.#secrets);
  }

  #onFrame(frame: KnownFrame, raw: Record<string, unknown>, size: number): void {
    switch (frame.type) {
      case 'response':
        // Mark our prompt accepted now, not a microtask later: the frames after the response
        // (up to agent_settled) may arrive in the same stdout chunk.
        if (frame.success && frame.id != null && this.#run?.promptId === frame.id) this.#run.acked = true;
        if (!this.#channel.handleResponse(frame)) {
          if (this.#onLatePromptFailure(frame)) return;
          const what = frame.success ? 'an unexpected response' : `an error (${frame.error ?? 'no message'})`;
          this.#emit(
            {
              type: 'error',
              code: frame.success ? 'unmatched_response' : 'command_failed',
              fatal: false,
              message: `pi sent ${what} for ${frame.command ?? 'an unknown command'}${frame.id ? ` (id ${frame.id})` : ''}`,
              raw,
            },
            size,
          );
        }
        return;
      case 'agent_start':
        this.#onAgentStart(raw, size);
        return;
      case 'agent_end':
        this.#forEachContentEvent(frame, raw, size);
        if (this.#run) this.#run.endFrame = { raw, size };
        this.#onPiAgentEnd(frame);
        return;
      case 'ready':
        this.#onReady(frame);
        return;
      case 'agent_settled':
        this.#learnDialect('pi-1');
        this.#settledSignalSeen = true;
        if (this.#run?.acked && (this.#run.piEnded || !this.#run.sawAgentStart)) this.#finishRun(this.#run);
        return;
      case 'prompt_result':
        this.#learnDialect('omp');
        this.#onPromptResult(frame);
        return;
      case 'session_settled':
        this.#learnDialect('omp');
        if (this.#run?.acked && (this.#run.piEnded || !this.#run.sawAgentStart)) this.#finishRun(this.#run);
        return;
      case 'rpc_chunk':
        this.#onChunk(frame, size);
        return;
      case 'rpc_frame_error': {
        const message = `omp could not send a ${frame.originalType ?? '?'} frame: ${frame.error ?? 'over its frame limit'} (protocol v${this.#protocolVersion})`;
        this.#emit({ type: 'error', code: 'frame_too_large', fatal: false, message, raw }, size);
        if (frame.originalType === 'agent_end') this.#onPiAgentEnd();
        return;
      }
      case 'extension_ui_request':
        this.#onUiRequest(frame, raw, size);
        return;
      case 'auto_retry_start':
        if (this.#run) this.#run.retryPending = true;
        break;
      case 'auto_retry_end':
        if (this.#run) {
          this.#run.retryPending = false;
          if (this.#run.piEnded) this.#checkSettled(this.#run);
        }
        break;
      case 'compaction_start':
      case 'auto_compaction_start':
        if (this.#run) this.#run.compactionPending = true;
        break;
      case 'compaction_end':
      case 'auto_compaction_end':
        if (this.#run) {
          this.#run.compactionPending = false;
          // omp 18.2's threshold compaction with a handoff replaces the session mid-run and
          // never sends that run's agent_end: once omp is idle, the run is over.
          const handoff = frame.type === 'auto_compaction_end' && this.#capabilities.dialect === 'omp' && this.#run.sawAgentStart;
          if (this.#run.piEnded || handoff) this.#checkSettled(this.#run, { withoutAgentEnd: handoff });
        }
        break;
      default:
        break;
    }
    this.#forEachContentEvent(frame, raw, size);
  }

  #forEachContentEvent(frame: KnownFrame, raw: Record<string, unknown>, size: number): void {
    const events = this.#normalizer.normalize(frame);
    for (const event of events) {
      if (event.type === 'usage') {
        this.#usage = this.#usage.add(event.totals);
        if (this.#run) this.#run.usage = this.#run.usage.add(event.totals);
        this.#setState({ usage: this.#usage });
      }
      this.#emit(withRaw(event, raw), size);
    }
  }

  #onAgentStart(raw: Record<string, unknown>, size: number): void {
    let run = this.#run;
    if (!run) {
      // A run we didn't start (an extension's sendMessage, a parked steer): track it all the same.
      run = this.#newRun(undefined);
      run.acked = true;
    }
    run.piEnded = false;
    if (run.sawAgentStart) return; // a retry or continuation inside the same logical run
    run.sawAgentStart = true;
    this.#hub.reset();
    this.#emit(
      {
        type: 'agent_start',
        cwd: this.cwd,
        ...(this.#piSessionId ? { piSessionId: this.#piSessionId } : {}),
        ...(this.#model ? { model: this.#model } : {}),
        raw,
      },
      size,
    );
    if (run.abortOnStart) {
      run.abortOnStart = false;
      this.abort().catch(() => undefined);
    }
  }

  #onPiAgentEnd(frame?: FrameOf<'agent_end'>): void {
    const run = this.#run;
    if (!run) return;
    // omp: a non-terminal agent_end is followed by more of the same run; pi 1.x: willRetry
    // announces the retry that follows (auto_retry_start settles it again).
    if (frame?.isTerminal === false) return;
    if (frame?.willRetry === true) run.retryPending = true;
    run.piEnded = true;
    // A pi 1.x (≥ 0.80.4) or omp 18.3 says when it is settled (known from its version, or seen
    // on the wire); otherwise ask (pi 0.73, omp 18.2).
    const caps = this.#capabilities;
    if (this.#settledSignalSeen || (caps.version !== undefined && (caps.agentSettled || caps.promptResult))) return;
    this.#checkSettled(run);
  }

  /**
   * pi 0.73 has no "settled" event: after `agent_end` it may retry or compact (G5). The run is
   * over once a `get_state` sent after the last `agent_end` says pi is neither streaming nor
   * compacting and no retry or compaction is announced. pi writes `auto_retry_start` in the
   * same tick as `agent_end`, so it always arrives before that answer.
   */
  #checkSettled(run: Run, options: { readonly withoutAgentEnd?: boolean } = {}): void {
    const generation = ++run.checkGeneration;
    this.#channel.request({ type: 'get_state' }).then(
      (data) => {
        if (this.#run !== run || run.checkGeneration !== generation) return;
        const state = SessionStateDataSchema.safeParse(data);
        if (!state.success) return;
        this.#applyState(state.data);
        if (run.retryPending || run.compactionPending) return;
        if (state.data.isStreaming || state.data.isCompacting) return;
        // omp 18.3: queued input, background work… session_settled will come.
        if (state.data['isSettled'] === false) return;
        if (run.sawAgentStart && !run.piEnded && !options.withoutAgentEnd) return;
        if (!run.acked) return;
        this.#finishRun(run);
      },
      () => undefined, // the session is dying; #terminate settles the run
    );
  }

  /** `outcome`: what omp's `prompt_result` said, when the last assistant message doesn't tell. */
  #finishRun(run: Run, outcome?: { readonly reason: RunResult['reason']; readonly errorMessage: string | undefined }): void {
    if (this.#run !== run) return;
    this.#runsFinished++;
    const summary = this.#normalizer.lastAssistant;
    const reason = summary ? endReason(summary.stopReason) : (outcome?.reason ?? 'completed');
    const errorMessage = summary?.errorMessage ?? outcome?.errorMessage;
    const result: RunResult = {
      finalText: summary?.text ?? '',
      reason,
      usage: run.usage,
      ...(reason === 'error' && errorMessage ? { errorMessage } : {}),
    };
    if (run.sawAgentStart) {
      this.#ended = true;
      // Still the current run (prompt$ sees it); `raw` is pi's own last agent_end of the run.
      this.#emit({ type: 'agent_end', ...result, raw: run.endFrame?.raw }, run.endFrame?.size ?? 64);
    }
    // The run is over: later subscribers of events$ start fresh (recentEvents$ still has it).
    this.#hub.endWindow();
    this.#run = undefined;
    this.#setState({ status: 'idle', runs: this.#runsFinished });
    if (run.ticket) {
      for (const listener of run.ticket.listeners) listener.complete();
      run.ticket.resolve(result);
    }
    this.#startNext();
  }

  // -------------------------------------------------------------------------------------------
  // Dialects: startup handshake, run ends, chunks

  /** The wire shows which pi this is (omp's `ready`, pi 1.x's `agent_settled`): adopt it. */
  #learnDialect(dialect: Dialect): void {
    if (this.#capabilities.dialect === dialect) return;
    this.#capabilities = capabilitiesOf(dialect);
  }

  /** omp's `ready` frame: the one that came, or the next one (bounded like the start). */
  #readyFrame(): Promise<FrameOf<'ready'>> {
    this.#ready ??= new Promise<FrameOf<'ready'>>((resolve, reject) => {
      const timeout = longTimer(this.config.startTimeoutMs, this.#scheduler).subscribe(() =>
        reject(new PiStartError(`omp sent no ready frame within ${this.config.startTimeoutMs} ms`, { stderrTail: this.#transport.stderrTail })),
      );
      this.#subscriptions.add(timeout);
      this.#resolveReady = (frame) => {
        timeout.unsubscribe();
        resolve(frame);
      };
    });
    return this.#ready;
  }

  /** omp's `ready` frame: it is omp, whatever was guessed. */
  #onReady(frame: FrameOf<'ready'>): void {
    this.#learnDialect('omp');
    if (this.#resolveReady) this.#resolveReady(frame);
    else this.#ready ??= Promise.resolve(frame);
    this.#resolveReady = undefined;
  }

  /**
   * pidriver negotiates protocol v2 when omp offers it, as omp's own clients do, so frames over
   * 1 MiB arrive losslessly as `rpc_chunk`s instead of being shrunk (G21). A refusal leaves v1.
   */
  async #negotiate(ready: FrameOf<'ready'>): Promise<void> {
    if (this.#protocolVersion === 2 || !(ready.supportedProtocolVersions ?? []).includes(2)) return;
    try {
      const data = await this.#channel.request({ type: 'negotiate_protocol', protocolVersion: 2 });
      if ((data as { protocolVersion?: unknown } | undefined)?.protocolVersion === 2) this.#protocolVersion = 2;
    } catch {
      // stays on v1: oversize frames are shrunk by omp (or replaced by rpc_frame_error), never lost silently
    }
  }

  /** A `prompt` was accepted. What happens next depends on what pi said and which pi it is. */
  #onPromptAccepted(run: Run, data: unknown): void {
    const fields = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
    if (typeof fields['disposition'] === 'string') this.#learnDialect('pi-1');
    if (typeof fields['agentInvoked'] === 'boolean') this.#learnDialect('omp');
    if (run.sawAgentStart) return;
    // pi 1.x "handled" (an extension command) and omp's `agentInvoked: false` mean no run follows.
    if (fields['disposition'] === 'handled' || fields['agentInvoked'] === false) {
      this.#finishRun(run);
      return;
    }
    // pi 1.x said "started" (agent_start follows) or "queued" (it runs later). omp answers a
    // prompt before it even ran its preflight: the run, a refusal (a second response with the
    // same id) or a prompt_result follows. pi 0.73 answers after preflight, so a prompt without
    // agent_start may be an extension command that is already done: check.
    if (typeof fields['disposition'] === 'string' || this.#capabilities.dialect === 'omp') return;
    this.#checkSettled(run);
  }

  /** omp's `prompt_result` for our prompt: the agent yielded (18.3), or a local command finished (18.2). */
  #onPromptResult(frame: FrameOf<'prompt_result'>): void {
    const run = this.#run;
    if (!run || (frame.id != null && run.promptId !== undefined && frame.id !== run.promptId)) return;
    if (frame.agentInvoked === true) this.#settledSignalSeen = true;
    const reason: RunResult['reason'] = frame.status === 'aborted' ? 'cancelled' : frame.status === 'error' ? 'error' : 'completed';
    this.#finishRun(run, { reason, errorMessage: frame.error?.message ?? undefined });
  }

  /**
   * omp answers a `prompt` sent while it is busy twice with the same id: `success: true`,
   * then `success: false` ("Agent is already processing…"); it also reports a failed preflight
   * that way. The prompt never runs: fail it like a refused prompt.
   */
  #onLatePromptFailure(frame: FrameOf<'response'>): boolean {
    const run = this.#run;
    if (frame.success || frame.id == null || !run || run.promptId !== frame.id) return false;
    this.#learnDialect('omp');
    const failure = new PiCommandError('prompt', frame.error ?? 'unknown error', frame.data);
    if (run.sawAgentStart) {
      // Whatever run is going is not ours; report the refusal and let that run end on its own.
      const message = `pi refused the prompt after accepting it: ${frame.error ?? 'no message'}`;
      this.#emit({ type: 'error', code: 'command_failed', fatal: false, message, raw: frame }, message.length);
      return true;
    }
    this.#run = undefined;
    this.#setState({ status: 'idle' });
    if (run.ticket) {
      run.ticket.reject(failure);
      for (const listener of run.ticket.listeners) listener.complete();
    }
    this.#startNext();
    return true;
  }

  /** Protocol v2: reassemble, then handle the frame as if it had been one line. */
  #onChunk(frame: FrameOf<'rpc_chunk'>, size: number): void {
    const outcome = this.#chunks.push(frame);
    if (outcome.kind === 'frame') {
      this.#onLine(outcome.line);
    } else if (outcome.kind === 'error') {
      this.#emit({ type: 'error', code: 'invalid_chunk', fatal: false, message: outcome.message, raw: undefined }, size);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Runs and the prompt queue

  #submit(message: string, images: readonly PromptImage[] | undefined, listener: RunListener | undefined): RunTicket {
    let resolve!: (result: RunResult) => void;
    let reject!: (error: Error) => void;
    const result = new Promise<RunResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    let acceptedControl!: RunTicket['acceptedControl'];
    const accepted = new Promise<void>((res, rej) => {
      acceptedControl = { resolve: res, reject: rej };
    });
    accepted.catch(() => undefined);
    const ticket: RunTicket = { message, images, resolve, reject, listeners: new Set(), accepted, acceptedControl };
    ticketResults.set(ticket, result);
    if (listener) ticket.listeners.add(listener);
    const closedError = this.#closedError();
    if (closedError) {
      reject(closedError);
      acceptedControl.reject(closedError);
      return ticket;
    }
    this.#queue.push(ticket);
    this.#setState({ queuedPrompts: this.#queue.length });
    this.#startNext();
    return ticket;
  }

  #resultOf(ticket: RunTicket): Promise<RunResult> {
    return ticketResults.get(ticket) as Promise<RunResult>;
  }

  #startNext(): void {
    if (this.#run || this.#state.value.status !== 'idle') return;
    const ticket = this.#queue.shift();
    if (!ticket) return;
    this.#setState({ queuedPrompts: this.#queue.length });
    const run = this.#newRun(ticket);
    this.#promptFor = run;
    const sent = this.#channel.request({
      type: 'prompt',
      message: ticket.message,
      ...(ticket.images ? { images: ticket.images.map((image) => ({ ...image })) } : {}),
    });
    this.#promptFor = undefined;
    sent
      .then(
        (data) => {
          run.acked = true;
          ticket.acceptedControl.resolve();
          this.#onPromptAccepted(run, data);
        },
        (error: unknown) => {
          const failure = error instanceof Error ? error : new Error(String(error));
          ticket.acceptedControl.reject(failure);
          if (this.#run !== run) return;
          if (run.sawAgentStart) return; // the run goes on; its end settles the ticket
          this.#run = undefined;
          this.#setState({ status: 'idle' });
          ticket.reject(failure);
          for (const listener of ticket.listeners) listener.complete();
          this.#startNext();
        },
      );
  }

  #newRun(ticket: RunTicket | undefined): Run {
    const run: Run = {
      ticket,
      promptId: undefined,
      acked: false,
      sawAgentStart: false,
      piEnded: false,
      retryPending: false,
      compactionPending: false,
      checkGeneration: 0,
      usage: UsageTotals.ZERO,
      endFrame: undefined,
      abortOnStart: false,
    };
    this.#run = run;
    this.#normalizer.startRun();
    this.#setState({ status: 'running' });
    return run;
  }

  #cancelTicket(ticket: RunTicket): void {
    const queued = this.#queue.indexOf(ticket);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      this.#setState({ queuedPrompts: this.#queue.length });
      ticket.reject(new PiDriverError('prompt cancelled before it started', { code: 'PI_CANCELLED' }));
      return;
    }
    ticket.listeners.clear();
    const run = this.#run;
    if (run?.ticket !== ticket) return;
    // pi ignores an abort that arrives before its run has started: repeat it at agent_start.
    if (!run.sawAgentStart) run.abortOnStart = true;
    this.abort().catch(() => undefined);
  }

  async #queueInput(type: 'steer' | 'follow_up', message: string, images: readonly PromptImage[] | undefined): Promise<void> {
    if (!this.#run && this.#queue.length === 0 && this.#state.value.status === 'idle') {
      // pi parks steer/follow-up messages sent while idle until some later prompt (G18);
      // start a run instead so nothing waits unseen.
      const ticket = this.#submit(message, images, undefined);
      this.#resultOf(ticket).catch(() => undefined);
      await ticket.accepted;
      return;
    }
    await this.#channel.request({ type, message, ...(images ? { images: images.map((image) => ({ ...image })) } : {}) });
  }

  // -------------------------------------------------------------------------------------------
  // Interaction requests

  #onUiRequest(frame: ExtensionUiRequestFrame, raw: Record<string, unknown>, size: number): void {
    if (frame.method === 'cancel' && frame.targetId) {
      this.#withdraw(frame.targetId); // omp dismissed a dialog itself
    }
    if (!DIALOG_METHODS.has(frame.method)) {
      this.#emit({ ...toUiNotice(frame), raw }, size);
      return;
    }
    const fields = classifyDialog(frame, this.#normalizer);
    if (this.#isUnguardedBuiltinApproval(fields)) {
      // omp asks about a tool the host didn't ask to guard: approve it, as pi's extension would
      // not have asked. Nothing else sees it (it is not a question for the host).
      this.#write({ type: 'extension_ui_response', id: frame.id, value: APPROVE_OPTION }).catch(() => undefined);
      return;
    }
    // Stamped with its seq only when published: the policy decides first (a request the policy
    // answers is never shown to the host, nor can the host answer it).
    const request = { ...fields, raw, sessionId: this.sessionId, seq: 0 } as InteractionRequest;
    const controller = new AbortController();
    const open: OpenRequest = { request, controller, size, stage: 'policy', timeout: undefined, unanswered: undefined };
    this.#openRequests.set(request.requestId, open);
    attachPolicyContext(request, { signal: controller.signal, session: this });
    if (request.timeoutMs !== undefined) {
      // pi resolves a dialog with a timeout itself, silently (G10): withdraw it at the same time.
      open.timeout = longTimer(request.timeoutMs, this.#scheduler).subscribe(() => this.#withdraw(request.requestId));
    }
    if (this.#policySubscription === undefined) {
      this.#decideByPolicy(open, failClosed(request, 'no policy is running'));
      return;
    }
    this.#policyRestarts = 0;
    this.#requests.next(request);
  }

  /**
   * The policy deferred a request: show it to the host (`pending$`, then `events$`, where a
   * subscriber may answer it synchronously). With the default policy and nobody who could ever
   * see it, it is denied at once instead of hanging the run.
   */
  #deferToHost(open: OpenRequest): void {
    const { request } = open;
    if (this.#defaultPolicy && !this.#hostCanAnswer()) {
      const message =
        `nobody can answer ${describeRequest(request)}: the session has the default policy (askHost(), which leaves every request to the host) ` +
        'and nothing subscribes to session.pending$ or session.events$. Pass a policy to client.start() (e.g. autoApprove(), allowTools([...]), askHost(callback)), ' +
        'or answer with session.respond() from pending$ or events$';
      this.#emit({ type: 'error', code: 'policy_error', fatal: false, message, raw: undefined }, message.length);
      this.#decideByPolicy(open, failClosed(request, message));
      return;
    }
    open.stage = 'host';
    request.handledBy = 'host';
    this.#stamp(request); // its seq first: pending$ and events$ show the same request
    this.#publishPending();
    this.#publish(request, open.size);
    if (this.#openRequests.get(request.requestId) !== open) return; // answered already, from events$
    open.unanswered = longTimer(UNANSWERED_WARNING_MS, this.#scheduler).subscribe(() => {
      process.emitWarning(
        `pidriver: ${describeRequest(request)} of session ${this.sessionId} has waited ${UNANSWERED_WARNING_MS / 1000} s for session.respond(); ` +
          'the run waits until it is answered (or pass a policy that decides it)',
        { code: 'PIDRIVER_UNANSWERED_REQUEST' },
      );
    });
  }

  /** Whether anyone could see a deferred request: a subscriber of `pending$`, `events$`, `recentEvents$` or the run's `prompt$()`. */
  #hostCanAnswer(): boolean {
    return this.#pending.observed || this.#hub.observed || (this.#run?.ticket?.listeners.size ?? 0) > 0;
  }

  #isUnguardedBuiltinApproval(fields: { readonly kind: string; readonly method: string; readonly toolName?: string | undefined; readonly options: readonly string[] }): boolean {
    if (this.#capabilities.approvals !== 'builtin' || fields.kind !== 'permission' || fields.method !== 'select') return false;
    if (!fields.options.includes(APPROVE_OPTION) || fields.toolName === undefined) return false;
    // 'all' and 'none' leave omp's own approval mode alone (pidriver adds `always-ask` only for
    // a list): whatever omp asks then goes to the policy.
    const approve = this.#approve;
    if (approve === 'all' || approve === 'none') return false;
    return !approve.includes(fields.toolName);
  }

  #subscribePolicy(): void {
    this.#policySubscription = this.#policy(this.#requests.asObservable()).subscribe({
      next: (answer) => this.#onPolicyAnswer(answer),
      error: (error: unknown) => this.#onPolicyStopped(error),
      complete: () => this.#onPolicyStopped(new PiDriverError('the interaction policy completed')),
    });
    this.#subscriptions.add(this.#policySubscription);
  }

  /** Fail closed: whatever the policy was still deciding is denied; later requests get a fresh policy. */
  #onPolicyStopped(error: unknown): void {
    this.#policySubscription = undefined;
    if (this.#terminated) return;
    const message = `interaction policy failed: ${error instanceof Error ? error.message : String(error)}`;
    this.#emit({ type: 'error', code: 'policy_error', fatal: false, message, raw: undefined }, message.length);
    for (const open of [...this.#openRequests.values()]) {
      if (open.stage === 'policy') this.#decideByPolicy(open, failClosed(open.request, message));
    }
    // Restart the policy for the next requests, unless it keeps dying without any new request.
    if (this.#policyRestarts++ < 3) this.#subscribePolicy();
  }

  #onPolicyAnswer(answer: PolicyAnswer): void {
    const open = this.#openRequests.get(answer.requestId);
    if (!open) return; // late, duplicate, or withdrawn: ignore
    let decision: Decision;
    try {
      decision = coerceDecision(open.request, answer.decision);
    } catch (error) {
      const message = `policy answered request ${answer.requestId} with an invalid decision: ${(error as Error).message}`;
      this.#emit({ type: 'error', code: 'policy_error', fatal: false, message, raw: undefined }, message.length);
      this.#decideByPolicy(open, failClosed(open.request, message));
      return;
    }
    if (decision.kind === 'defer') {
      if (open.stage === 'policy') this.#deferToHost(open); // stays open for session.respond()
      return;
    }
    this.#decideByPolicy(open, decision);
  }

  async #answer(open: OpenRequest, decision: Exclude<Decision, { kind: 'defer' }>): Promise<void> {
    if (this.#openRequests.get(open.request.requestId) !== open) return;
    this.#closeRequest(open);
    await this.#write(toUiResponse(open.request, decision));
  }

  /**
   * The policy answered: send it. A request the policy decided on its own is then recorded on
   * `events$` (`handledBy: 'policy'`, already answered: a host can't change it); one it had
   * deferred is already there.
   */
  #decideByPolicy(open: OpenRequest, decision: Exclude<Decision, { kind: 'defer' }>): void {
    if (this.#openRequests.get(open.request.requestId) !== open) return;
    this.#answerQuietly(open, decision);
    if (open.stage === 'host') return;
    open.request.handledBy = 'policy';
    this.#publish(this.#stamp(open.request), open.size);
  }

  /**
   * An answer nobody awaits (from a policy, or a cancel on abort/close). If the write fails, pi
   * is gone: the death path reports that, so the rejection is dropped here on purpose.
   */
  #answerQuietly(open: OpenRequest, decision: Exclude<Decision, { kind: 'defer' }>): void {
    this.#answer(open, decision).catch(() => undefined);
  }

  #withdraw(requestId: string): void {
    const open = this.#openRequests.get(requestId);
    if (open) this.#closeRequest(open);
  }

  #closeRequest(open: OpenRequest): void {
    this.#openRequests.delete(open.request.requestId);
    this.#closedRequestIds.add(open.request.requestId);
    if (this.#closedRequestIds.size > CLOSED_REQUEST_MEMORY) {
      const oldest = this.#closedRequestIds.values().next();
      if (!oldest.done) this.#closedRequestIds.delete(oldest.value);
    }
    open.timeout?.unsubscribe();
    open.unanswered?.unsubscribe();
    open.controller.abort(new PiDriverError('interaction request withdrawn', { code: 'PI_REQUEST_WITHDRAWN' }));
    if (open.stage === 'host') this.#publishPending();
  }

  /** Cancels every open request on the wire (before an abort or close: pi can't abort while a dialog waits). */
  #cancelOpenRequests(): void {
    for (const open of [...this.#openRequests.values()]) {
      this.#answerQuietly(open, cancel());
    }
  }

  #publishPending(): void {
    const pending: InteractionRequest[] = [];
    for (const open of this.#openRequests.values()) if (open.stage === 'host') pending.push(open.request);
    this.#pending.next(pending);
    this.#setState({ pendingRequests: pending.length });
  }

  // -------------------------------------------------------------------------------------------
  // Outbound, state, events

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

  #emit(event: UnstampedEvent, bytes: number): PiEvent {
    return this.#publish(this.#stamp(event), bytes);
  }

  /**
   * Adds `sessionId` and `seq`. Every caller passes an object literal built for this one event,
   * so it is stamped in place: no copy, and no `{ ...event, more }`, which V8 11 (Node 20) makes
   * about a microsecond slower per object than building it in order.
   */
  #stamp(event: UnstampedEvent): PiEvent {
    const stamped = event as PiEvent;
    stamped.sessionId = this.sessionId;
    stamped.seq = ++this.#seq;
    return stamped;
  }

  #publish(stamped: PiEvent, bytes: number): PiEvent {
    this.#hub.next(stamped, bytes);
    const listeners = this.#run?.ticket?.listeners;
    if (listeners && listeners.size > 0) for (const listener of listeners) listener.next(stamped);
    return stamped;
  }

  /**
   * `eventCount` (the last `seq`) is not emitted for every event, which would be a state change
   * per event: it rides along with every other change, and is brought up to date whenever
   * `state` is read or `state$` gets a subscriber.
   */
  #syncEventCount(): void {
    const current = this.#state.value;
    if (current.eventCount === this.#seq || current.status === 'closed' || this.#state.closed) return;
    this.#state.next({ ...current, eventCount: this.#seq });
  }

  #setState(patch: Partial<SessionState>): void {
    if (this.#state.closed) return;
    const current = this.#state.value;
    if (current.status === 'closed') return;
    let changed = false;
    for (const key of Object.keys(patch) as (keyof SessionState)[]) {
      if (current[key] !== patch[key]) changed = true;
    }
    if (changed) this.#state.next({ ...current, ...patch, eventCount: this.#seq });
  }

  #applyState(state: PiStateData): void {
    if (state.sessionId) this.#piSessionId = state.sessionId;
    if (state.model) this.#model = `${state.model.provider}/${state.model.id}`;
    this.#setState({ piSessionId: this.#piSessionId, model: this.#model });
  }

  // -------------------------------------------------------------------------------------------
  // Shutdown and death

  async #close(): Promise<CloseResult> {
    if (!this.#terminated) this.#setState({ status: 'closing' });
    this.#cancelOpenRequests();
    const result = await this.#transport.close({ timeoutMs: this.config.terminateTimeoutMs });
    this.#terminate(undefined, result);
    return result;
  }

  #onStdoutEnd(error: unknown): void {
    if (this.#closeRequested || this.#terminated) return;
    // stdout ended: pi exited, or closed stdout while alive. Either way the session is over.
    const exitOrTimeout = firstValueFrom(
      race(from(this.#transport.exited), longTimer(1_000, this.#scheduler).pipe(map(() => undefined))),
    );
    void exitOrTimeout.then(async (exit) => {
      if (this.#closeRequested || this.#terminated) return;
      const info = exit ?? (await this.#transport.close({ timeoutMs: this.config.terminateTimeoutMs }));
      const reason = exit ? `pi exited unexpectedly (${describeExit(info)})` : 'pi closed its stdout';
      const failure = new TransportClosedError(reason, { ...info, cause: error });
      if (this.#state.value.status !== 'starting') {
        this.#emit({ type: 'error', code: 'process_exited', fatal: true, message: failure.message, raw: undefined }, 128);
      }
      // Reap whatever pi left behind (its detached bash children) before reporting.
      await this.#transport.close({ timeoutMs: this.config.terminateTimeoutMs }).catch(() => undefined);
      this.#terminate(failure, info);
    });
  }

  #terminate(failure: TransportClosedError | undefined, exit: ExitInfo): void {
    if (this.#terminated) return;
    this.#terminated = true;
    const error = failure ?? new TransportClosedError('the session was closed', exit);
    this.#channel.rejectAll(error);
    for (const open of [...this.#openRequests.values()]) this.#closeRequest(open);
    const run = this.#run;
    this.#run = undefined;
    const tickets = [...(run?.ticket ? [run.ticket] : []), ...this.#queue];
    this.#queue = [];
    for (const ticket of tickets) {
      ticket.acceptedControl.reject(error);
      ticket.reject(error);
    }
    this.#subscriptions.unsubscribe();
    this.#setState({ status: 'closed', exit: { exitCode: exit.exitCode, signal: exit.signal, stderrTail: exit.stderrTail }, queuedPrompts: 0 });
    this.#state.complete();
    this.#pending.complete();
    this.#activity.complete();
    this.#requests.complete();
    if (failure) this.#hub.error(failure);
    else this.#hub.complete();
  }

  #closedError(): Error | undefined {
    if (this.#terminated || this.#closeRequested) return new TransportClosedError('the session is closed', this.#state.value.exit ?? {});
    return undefined;
  }

  async #startError(error: unknown): Promise<Error> {
    if (error instanceof PiDriverError && !(error instanceof TransportClosedError)) return error;
    const exit = await Promise.race([this.#transport.exited, Promise.resolve(undefined)]);
    const detail = error instanceof Error ? error.message : String(error);
    return new PiStartError(`pi failed to start: ${detail}`, { ...(exit ?? { stderrTail: this.#transport.stderrTail }), cause: error });
  }
}

/**
 * Attaches `raw` to a content event fresh from the normalizer, in place. A fast-path frame's raw
 * (a DeferredRaw) becomes a lazy property: decoded only if someone reads the event's `raw`.
 */
function withRaw(fields: EventFields, raw: Record<string, unknown>): UnstampedEvent {
  if ((raw as unknown) instanceof DeferredRaw) return defineDeferredRaw(fields, raw as unknown as DeferredRaw) as UnstampedEvent;
  const event = fields as UnstampedEvent;
  event.raw = raw;
  return event;
}

/** Results kept outside the ticket so the ticket type stays a plain record. */
const ticketResults = new WeakMap<RunTicket, Promise<RunResult>>();

function endReason(stopReason: string | undefined): RunResult['reason'] {
  switch (stopReason) {
    case 'aborted':
      return 'cancelled';
    case 'error':
      return 'error';
    case 'length':
      return 'limit';
    default:
      return 'completed';
  }
}

function failClosed(request: InteractionRequest, message: string): Exclude<Decision, { kind: 'defer' }> {
  return request.kind === 'permission' ? deny(message) : cancel();
}

function describeRequest(request: InteractionRequest): string {
  const tool = request.kind === 'permission' && request.toolName !== undefined ? ` for tool "${request.toolName}"` : '';
  return `interaction request ${request.requestId} (${request.kind}${tool})`;
}

function describeExit(exit: ExitInfo): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.exitCode ?? 'unknown'}`;
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new PiDriverError('start() was aborted', { code: 'PI_ABORTED' });
}

