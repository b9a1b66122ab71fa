import { filter, fromEvent, lastValueFrom, map, mergeMap, Observable, race, Subject, Subscription, throwError, type SchedulerLike } from 'rxjs';
import { PiCommandError, PiDriverError, PiLimitError } from '../errors.js';
import type { LimitBreach, RunLimits } from '../limits/RunLimits.js';
import { watchRunLimits } from '../limits/watchRunLimits.js';
import type { EventNormalizer } from '../protocol/EventNormalizer.js';
import type { PiEvent } from '../protocol/events.js';
import type { FrameOf, PiStateData } from '../protocol/frames.js';
import { SessionStateDataSchema } from '../protocol/frames.js';
import { UsageTotals } from '../usage/UsageTotals.js';
import type { CommandChannel } from './CommandChannel.js';
import { toolErrorAnswer, type HostCallAnswer } from '../protocol/hostCalls.js';
import { describeIssues } from '../tools/hostTool.js';
import { askAgainText, type OutputRequest } from '../tools/outputTool.js';
import type { HostCalls } from './HostCalls.js';
import { PromptQueue, PromptTicket, type RunListener, type RunOptions } from './PromptQueue.js';
import { newRun, reduceRun, type RunEffect, type RunInput, type RunOutcome, type RunState } from './runReducer.js';
import type { SessionEvents } from './SessionEvents.js';
import type { SessionStore } from './SessionStore.js';
import type { PromptImage, RunResult } from './types.js';
import type { WireDialect } from './WireDialect.js';

/** What {@link RunTracker.run$} emits: the run's events, then its result. @internal */
export type RunUpdate = { readonly kind: 'event'; readonly event: PiEvent } | { readonly kind: 'result'; readonly result: RunResult };

/** A structured-output run's tries so far. */
interface OutputProgress {
  readonly request: OutputRequest;
  /** Failed tries: invalid calls, and pi runs that ended without a valid one. */
  failures: number;
  /** Whether any call was invalid (else a failed run never tried). */
  invalid: boolean;
  lastError: string | undefined;
  /** The valid result, once submitted. */
  value: { readonly output: unknown } | undefined;
}

/** How pidriver itself ended a run (a limit, structured output that never fit): it wins over what pi says. */
export interface ForcedOutcome {
  readonly reason: RunResult['reason'];
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly limit?: string;
}

/** A logical run: its prompt (none for one pi started itself), its reducer state, its totals. */
interface Run {
  readonly ticket: PromptTicket | undefined;
  state: RunState;
  usage: UsageTotals;
  readonly output: OutputProgress | undefined;
  forced: ForcedOutcome | undefined;
  /** The run's limits watcher, from its `agent_start` to its end. */
  limits: { readonly events: Subject<PiEvent>; readonly subscription: Subscription } | undefined;
  /** pi's last `agent_end` frame of this run and its size: the `raw` of our `agent_end`. */
  endFrame: { readonly raw: Record<string, unknown>; readonly size: number } | undefined;
}

/** Options of {@link RunTracker}. @internal */
export interface RunTrackerOptions {
  readonly channel: CommandChannel;
  readonly events: SessionEvents;
  readonly store: SessionStore;
  readonly normalizer: EventNormalizer;
  readonly dialect: WireDialect;
  /** What pidriver's `agent_start` says besides its type. */
  readonly startFields: () => { readonly cwd: string; readonly piSessionId?: string; readonly model?: string };
  /** A `get_state` answer came (the session learns its pi session id and model from it). */
  readonly onPiState: (state: PiStateData) => void;
  /** Aborts pi's run (open requests are cancelled first). */
  readonly abort: () => Promise<void>;
  /** The error a prompt gets once the session is closing or closed; `undefined` while open. */
  readonly closedError: () => Error | undefined;
  /** Host tools and the run's result tool. */
  readonly hostCalls: HostCalls;
  /** The session's run limits (a prompt's own win, field by field). */
  readonly limits?: RunLimits | undefined;
  /** The clock of the limits' timers. */
  readonly scheduler?: SchedulerLike | undefined;
}

/**
 * The runs of a session: the prompt queue, the current run, and the effects of {@link reduceRun}
 * (state checks, `agent_start` / `agent_end`, aborts). One run at a time: pi silently drops a
 * second `prompt` while it runs, so the next prompt is sent when a run ended.
 *
 * @internal
 */
export class RunTracker {
  readonly #options: RunTrackerOptions;
  readonly #queue = new PromptQueue();
  #run: Run | undefined;
  /** The run whose `prompt` is being written right now (its id is captured on the way out). */
  #sending: Run | undefined;
  /** Commands in flight (a prompt, state checks); each leaves this when answered. */
  readonly #commands = new Subscription();
  #finished = 0;
  /** Conversation changes in flight ({@link hold}). */
  #held = 0;
  #ended = false;
  /** The budget that was spent (`exceedBudget`): every later prompt is refused. */
  #budget: LimitBreach | undefined;
  /** pi's `agent_start` frame being handled: the `raw` of ours. */
  #startFrame: { readonly raw: Record<string, unknown>; readonly size: number } | undefined;

  constructor(options: RunTrackerOptions) {
    this.#options = options;
  }

  /** True once a run has ended (emitted its `agent_end`). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Whether the current run has subscribers of its own (`prompt$()`). */
  get watched(): boolean {
    return (this.#run?.ticket?.listeners.size ?? 0) > 0;
  }

  /** The prompt command with this id is the current run's (omp's late refusal, `response` acks). */
  isCurrentPrompt(id: string | null | undefined): boolean {
    return id != null && this.#run?.state.promptId === id;
  }

  /** Queues a prompt; it is sent when no run is going. */
  submit(message: string, options: RunOptions, listener?: RunListener): PromptTicket {
    const ticket = new PromptTicket(message, options);
    if (listener) ticket.listeners.add(listener);
    const closed = this.#options.closedError() ?? (this.#budget && new PiLimitError(this.#budget));
    if (closed) {
      ticket.fail(closed);
      return ticket;
    }
    this.#queue.push(ticket);
    this.#options.store.patch({ queuedPrompts: this.#queue.length });
    this.startNext();
    return ticket;
  }

  /**
   * One prompt's run, cold: subscribing queues the prompt; the run's events are emitted as they
   * happen, then its result; unsubscribing before the end cancels it (dropped if queued, else
   * aborted). `prompt$()` is its events, `prompt()` its result.
   */
  run$(message: string, options: RunOptions, withEvents = true): Observable<RunUpdate> {
    return new Observable<RunUpdate>((subscriber) => {
      let finished = false;
      // Without events (prompt()'s fold needs only the result) nobody here could answer a request.
      const listener = withEvents ? { next: (event: PiEvent) => subscriber.next({ kind: 'event', event }) } : undefined;
      const ticket = this.submit(message, options, listener);
      const result = ticket.result$.subscribe({
        next: (value) => subscriber.next({ kind: 'result', result: value }),
        error: (error: unknown) => {
          finished = true;
          subscriber.error(error);
        },
        complete: () => {
          finished = true;
          subscriber.complete();
        },
      });
      return () => {
        result.unsubscribe();
        if (!finished) this.cancel(ticket);
      };
    });
  }

  /**
   * A prompt's result: the fold of {@link run$}. `signal` cancels it as `fetch` does: the result
   * rejects with `signal.reason` at once, a queued prompt is dropped, a started run is aborted;
   * an aborted signal sends nothing.
   */
  prompt(message: string, options: RunOptions, signal: AbortSignal | undefined): Promise<RunResult> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const result$ = this.run$(message, options, false).pipe(
      filter((update) => update.kind === 'result'),
      map((update) => update.result),
    );
    if (!signal) return lastValueFrom(result$);
    const aborted$ = fromEvent(signal, 'abort').pipe(mergeMap(() => throwError(() => signal.reason as Error)));
    return lastValueFrom(race(result$, aborted$));
  }

  /**
   * A steer or follow-up. pi parks those sent while idle until some later prompt: then it starts
   * a run instead, so nothing waits unseen.
   */
  async input(type: 'steer' | 'follow_up', message: string, images: readonly PromptImage[] | undefined): Promise<void> {
    const { status } = this.#options.store;
    // While pi restarts there is no run to steer: it becomes the next run, like a prompt.
    if (!this.#run && this.#queue.length === 0 && (status === 'idle' || status === 'restarting')) {
      const ticket = this.submit(message, { images });
      ticket.result.catch(() => undefined);
      await ticket.accepted;
      return;
    }
    await this.#options.channel.request({ type, message, ...(images ? { images: images.map((image) => ({ ...image })) } : {}) });
  }

  /** The host gave up on a prompt: drop it if queued, else abort its run. */
  cancel(ticket: PromptTicket): void {
    if (this.#queue.remove(ticket)) {
      this.#options.store.patch({ queuedPrompts: this.#queue.length });
      ticket.fail(new PiDriverError('prompt cancelled before it started', { code: 'PI_CANCELLED' }));
      return;
    }
    ticket.listeners.clear();
    const run = this.#run;
    if (run?.ticket === ticket) this.#step(run, { kind: 'cancel' });
  }

  /**
   * Holds queued prompts back while the conversation changes (`fork`, `switchSession`…): pi must
   * not get a prompt in the middle. The release sends the next one.
   */
  hold<T>(change: () => Promise<T>): Promise<T> {
    this.#held++;
    return change().finally(() => {
      this.#held--;
      this.startNext();
    });
  }

  /** Sends the next queued prompt if pi is free. */
  startNext(): void {
    if (this.#run || this.#held > 0 || this.#options.store.status !== 'idle') return;
    const ticket = this.#queue.shift();
    if (!ticket) return;
    this.#options.store.patch({ queuedPrompts: this.#queue.length });
    const run = this.#open(ticket, false);
    this.#send(run, ticket, ticket.message, ticket.images);
  }

  /**
   * Ends the current run the way pidriver decided (a limit, structured output that never fit):
   * aborts pi's run; its end then reports `outcome`.
   */
  force(outcome: ForcedOutcome): void {
    const run = this.#run;
    if (!run || run.forced) return;
    run.forced = outcome;
    if (run.state.piEnded && !run.state.retryPending) return; // ending anyway
    this.#step(run, { kind: 'cancel' });
  }

  /**
   * A budget over this session is spent (`PiSessionManager`'s `limits`): the run going on ends as
   * `limit`, queued prompts and every later one reject with `PiLimitError`.
   */
  exceedBudget(breach: LimitBreach): void {
    if (this.#budget) return;
    this.#budget = breach;
    const error = new PiLimitError(breach);
    for (const ticket of this.#queue.drain()) ticket.fail(error);
    this.#options.store.patch({ queuedPrompts: 0 });
    this.force({ reason: 'limit', limit: breach.limit, errorMessage: breach.message });
  }

  /** Writes a run's prompt (the first, or a structured-output follow-up). */
  #send(run: Run, ticket: PromptTicket, message: string, images: readonly PromptImage[] | undefined): void {
    const text = this.#options.hostCalls.offerOutput(run.output?.request.spec, message);
    this.#sending = run;
    const prompt = { type: 'prompt', message: text, ...(images ? { images: images.map((image) => ({ ...image })) } : {}) };
    const sent = this.#options.channel.request$(prompt).subscribe({
      next: (data) => {
        ticket.accept();
        this.#options.dialect.learnFromPromptAnswer(data);
        // pi 0.73 answers a prompt just before the frames of its run, in the same stdout chunk:
        // read those first (an agent_start means no state check is needed).
        queueMicrotask(() => this.#step(run, { kind: 'prompt_accepted', data }));
      },
      error: (error: unknown) => {
        const failure = error instanceof Error ? error : new Error(String(error));
        ticket.refuse(failure);
        if (this.#run !== run) return;
        if (run.output !== undefined && run.output.failures > 0) {
          // The follow-up asking for the result was refused: the run ends without one.
          run.forced = { reason: 'error', errorCode: outputErrorCode(run.output), errorMessage: failure.message };
          this.#finish(run, undefined);
          return;
        }
        if (run.state.started) return; // the run goes on; its end settles the result
        this.#drop(run, failure);
      },
    });
    this.#commands.add(sent);
    this.#sending = undefined;
  }

  /** A command is being written: a `prompt` sent by {@link startNext} gets its id noted. */
  onWrite(command: { readonly type: string; readonly id?: unknown }): void {
    if (this.#sending && command.type === 'prompt' && typeof command.id === 'string') this.#step(this.#sending, { kind: 'prompt_sent', id: command.id });
  }

  /** What pi said about the current run (nothing without one). */
  feed(input: RunInput): void {
    if (this.#run) this.#step(this.#run, input);
  }

  /** pi's `agent_start` (its frame is the `raw` of ours). Without a run it opens one: an extension's message, a parked steer. */
  onAgentStart(raw: Record<string, unknown>, size: number): void {
    const run = this.#run ?? this.#open(undefined, true);
    this.#startFrame = { raw, size };
    this.#step(run, { kind: 'agent_start' });
    this.#startFrame = undefined;
  }

  /** omp's `prompt_result`: for our prompt, the run is over (and an agent run shows that this omp says so itself). */
  onPromptResult(frame: FrameOf<'prompt_result'>): void {
    const run = this.#run;
    if (!run || (frame.id != null && run.state.promptId !== undefined && frame.id !== run.state.promptId)) return;
    if (frame.agentInvoked === true) this.#options.dialect.sawSettledSignal();
    const reason: RunResult['reason'] = frame.status === 'aborted' ? 'cancelled' : frame.status === 'error' ? 'error' : 'completed';
    this.#step(run, { kind: 'prompt_result', id: frame.id ?? undefined, outcome: { reason, errorMessage: frame.error?.message ?? undefined } });
  }

  /** pi's `agent_end` frame of the current run: its `raw` goes on our `agent_end`. */
  noteEndFrame(raw: Record<string, unknown>, size: number): void {
    if (this.#run) this.#run.endFrame = { raw, size };
  }

  /** Usage of an assistant message: counted for the current run. */
  addUsage(totals: UsageTotals): void {
    if (this.#run) this.#run.usage = this.#run.usage.add(totals);
  }

  /**
   * omp answers a `prompt` sent while it is busy twice with the same id: `success: true`, then
   * `success: false` ("Agent is already processing…"); it also reports a failed preflight that
   * way. The prompt never runs: fail it like a refused prompt. Whether the frame was that.
   */
  onLatePromptFailure(frame: FrameOf<'response'>): boolean {
    const run = this.#run;
    if (frame.success || !run || !this.isCurrentPrompt(frame.id)) return false;
    this.#options.dialect.learn('omp');
    if (run.state.started) {
      // Whatever run is going is not ours; report the refusal and let that run end on its own.
      const message = `pi refused the prompt after accepting it: ${frame.error ?? 'no message'}`;
      this.#options.events.emit({ type: 'error', code: 'command_failed', fatal: false, message, raw: frame }, message.length);
      return true;
    }
    this.#drop(run, new PiCommandError('prompt', frame.error ?? 'unknown error', frame.data));
    return true;
  }

  /**
   * pi died and the session restarts it: the current run ends (each running tool with a failed
   * `tool_end`, then an `agent_end` with `reason: 'error'` and `errorCode: 'process_exited'`) and
   * its prompt fails with `error`. Queued prompts wait for the new process.
   */
  interrupt(error: Error): void {
    const run = this.#run;
    this.#sending = undefined;
    this.#startFrame = undefined;
    const { events, normalizer, store } = this.#options;
    const abandoned = normalizer.abandonTools();
    if (!run) return;
    for (const tool of abandoned) {
      const result = 'pi exited before the tool finished';
      events.emit({ type: 'tool_end', toolCallId: tool.toolCallId, name: tool.name, result, isError: true, raw: undefined }, 64 + result.length);
    }
    if (run.state.started) this.#finished++;
    const finalText = normalizer.lastAssistant?.text ?? '';
    this.#retire(run, { finalText, reason: 'error', errorCode: 'process_exited', errorMessage: error.message, usage: run.usage });
    store.patch({ runs: this.#finished });
    run.ticket?.fail(error);
  }

  /** The session ended: the current run's and every queued prompt fail with `error`. */
  failAll(error: Error): void {
    this.#commands.unsubscribe();
    const run = this.#run;
    if (run) this.#endRunParts(run);
    this.#run = undefined;
    this.#options.events.runListeners = undefined;
    for (const ticket of [...(run?.ticket ? [run.ticket] : []), ...this.#queue.drain()]) ticket.fail(error);
  }

  #open(ticket: PromptTicket | undefined, acked: boolean): Run {
    const output = ticket?.output && { request: ticket.output, failures: 0, invalid: false, lastError: undefined, value: undefined };
    const run: Run = { ticket, state: newRun(acked), usage: UsageTotals.ZERO, endFrame: undefined, output, forced: undefined, limits: undefined };
    this.#run = run;
    this.#options.hostCalls.output = output && {
      spec: output.request.spec,
      onCall: (args) => this.#onOutputCall(run, args),
      onFailedCall: (text) => this.#onFailedOutputCall(run, text),
    };
    this.#options.events.runListeners = ticket?.listeners;
    this.#options.normalizer.startRun();
    this.#options.store.patch({ status: 'running' });
    return run;
  }

  #step(run: Run, input: RunInput): void {
    if (this.#run !== run) return;
    const { run: next, effects } = reduceRun(run.state, input, {
      dialect: this.#options.dialect.capabilities.dialect,
      endsRunsItself: this.#options.dialect.endsRunsItself,
    });
    run.state = next;
    for (const effect of effects) this.#apply(run, effect);
  }

  #apply(run: Run, effect: RunEffect): void {
    if (this.#run !== run) return;
    switch (effect.kind) {
      case 'askState':
        this.#commands.add(
          this.#options.channel.request$({ type: 'get_state' }).subscribe({
            next: (data) => {
              if (this.#run !== run) return;
              const state = SessionStateDataSchema.safeParse(data);
              if (!state.success) return;
              this.#options.onPiState(state.data);
              this.#step(run, { kind: 'state', id: effect.id, state: state.data });
            },
            error: () => undefined, // the session is dying; failAll settles the run
          }),
        );
        return;
      case 'announceStart':
        this.#watchLimits(run);
        this.#options.events.startWindow();
        this.#options.events.emit({ type: 'agent_start', ...this.#options.startFields(), raw: this.#startFrame?.raw }, this.#startFrame?.size ?? 64);
        return;
      case 'abort':
        this.#options.abort().catch(() => undefined);
        return;
      case 'finish':
        this.#finish(run, effect.outcome);
        return;
    }
  }

  /** A call of the run's result tool: recorded when its arguments fit the schema, else a tool error (and a failed try). */
  #onOutputCall(run: Run, args: unknown): HostCallAnswer {
    const progress = run.output;
    if (this.#run !== run || !progress) return toolErrorAnswer('No result is expected now.');
    if (progress.value) return { kind: 'result', content: [{ type: 'text', text: 'The result was already recorded.' }], terminate: true };
    const parsed = progress.request.schema.safeParse(args);
    if (parsed.success) {
      progress.value = { output: parsed.data };
      return { kind: 'result', content: [{ type: 'text', text: 'Result recorded.' }], terminate: true };
    }
    // Counted as a failed try when its tool_end arrives (as are those pi's own schema check refuses).
    return toolErrorAnswer(`Invalid result: ${describeIssues(parsed.error)}. Call ${progress.request.spec.name} again with arguments that fit its schema.`);
  }

  /** A call of the result tool failed: one failed try; the last one allowed ends the run. */
  #onFailedOutputCall(run: Run, text: string): void {
    const progress = run.output;
    if (this.#run !== run || !progress || progress.value) return;
    progress.invalid = true;
    progress.failures++;
    progress.lastError = text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
    if (progress.failures >= progress.request.maxAttempts) {
      this.force({ reason: 'error', errorCode: 'structured_output_invalid', errorMessage: progress.lastError });
    }
  }

  /**
   * A structured-output run that ended without a valid result asks again (a new prompt, in the
   * same run) while it has tries left. Whether it did.
   */
  #askAgain(run: Run, wouldBe: RunResult['reason']): boolean {
    const progress = run.output;
    if (!progress || progress.value || run.forced || wouldBe !== 'completed' || !run.ticket) return false;
    progress.failures++;
    if (progress.failures >= progress.request.maxAttempts) {
      run.forced = {
        reason: 'error',
        errorCode: outputErrorCode(progress),
        errorMessage: progress.lastError ?? `the model did not call ${progress.request.spec.name}`,
      };
      return false;
    }
    run.state = { ...newRun(false), started: true };
    this.#send(run, run.ticket, askAgainText(progress.lastError), undefined);
    return true;
  }

  /** `outcome`: what omp's `prompt_result` said, when the last assistant message doesn't tell. */
  #finish(run: Run, outcome: RunOutcome | undefined): void {
    const summary = this.#options.normalizer.lastAssistant;
    const piReason = summary ? endReason(summary.stopReason) : (outcome?.reason ?? 'completed');
    if (this.#askAgain(run, piReason)) return;
    this.#finished++;
    const forced = run.forced;
    const reason = forced?.reason ?? piReason;
    const errorMessage = forced ? forced.errorMessage : (summary?.errorMessage ?? outcome?.errorMessage);
    const result: RunResult = {
      finalText: summary?.text ?? '',
      reason,
      usage: run.usage,
      ...((reason === 'error' || forced) && errorMessage ? { errorMessage } : {}),
      ...(forced?.errorCode ? { errorCode: forced.errorCode } : {}),
      ...(forced?.limit ? { limit: forced.limit } : {}),
      ...(run.output?.value ? { output: run.output.value.output } : {}),
    };
    this.#retire(run, result);
    this.#options.store.patch({ status: 'idle', runs: this.#finished });
    run.ticket?.settle(result);
    this.startNext();
  }

  /**
   * The run is over with `result`: its parts end, its `agent_end` is emitted (if it started), and
   * later subscribers of `events$` start fresh (`recentEvents$` still has it).
   */
  #retire(run: Run, result: RunResult): void {
    this.#endRunParts(run);
    if (run.state.started) {
      this.#ended = true;
      // Still the current run (prompt$ sees it); `raw` is pi's own last agent_end of the run.
      const size = run.endFrame?.size ?? 64 + (result.errorMessage?.length ?? 0);
      this.#options.events.emit({ type: 'agent_end', ...result, raw: run.endFrame?.raw }, size);
    }
    this.#options.events.endWindow();
    this.#run = undefined;
    this.#options.events.runListeners = undefined;
  }

  /** The run's result tool is no longer offered, and its limits no longer watched. */
  #endRunParts(run: Run): void {
    if (run.limits) {
      this.#options.events.watcher = undefined;
      run.limits.subscription.unsubscribe();
      run.limits = undefined;
    }
    if (!run.output) return;
    this.#options.hostCalls.output = undefined;
    this.#options.hostCalls.withdrawOutput();
  }

  /** From its `agent_start`, the run's events go through its limits; the first breach ends it as `limit`. */
  #watchLimits(run: Run): void {
    const limits = { ...this.#options.limits, ...run.ticket?.limits };
    if (Object.keys(limits).length === 0) return;
    const events = new Subject<PiEvent>();
    const subscription = events.pipe(watchRunLimits(limits, this.#options.scheduler)).subscribe((breach) => {
      if (this.#run === run) this.force({ reason: 'limit', limit: breach.limit, errorMessage: breach.message });
    });
    run.limits = { events, subscription };
    this.#options.events.watcher = events;
  }

  /** The prompt was refused before its run started: no run after all. */
  #drop(run: Run, failure: Error): void {
    this.#endRunParts(run);
    this.#run = undefined;
    this.#options.events.runListeners = undefined;
    this.#options.store.patch({ status: 'idle' });
    run.ticket?.fail(failure);
    this.startNext();
  }
}

/** The longest validation message kept for `errorMessage` and the follow-up. */
const MAX_ERROR_CHARS = 1_000;

function outputErrorCode(progress: OutputProgress): string {
  return progress.invalid ? 'structured_output_invalid' : 'structured_output_missing';
}

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
