import { connect, defaultIfEmpty, defer, from, isObservable, last, map, merge, of, pairwise, catchError, Subscription, take, type Observable } from 'rxjs';
import type { ExtensionUiRequestFrame, FrameOf } from '../protocol/frames.js';
import {
  HostCallRequestSchema,
  hostCallTitle,
  toolErrorAnswer,
  withRunMarker,
  type HostCallAnswer,
  type ToolResultContent,
  type ToolSpec,
} from '../protocol/hostCalls.js';
import { resultText, type OpenToolCall } from '../protocol/EventNormalizer.js';
import type { PiSession } from './PiSession.js';
import { describeIssues, type AnyHostTool, type HostToolContext, type HostToolOutput, type HostToolResult } from '../tools/hostTool.js';

/** The result tool of the run going on, and what a call of it does. @internal */
export interface OutputSlot {
  readonly spec: ToolSpec;
  /** A call of the result tool: its answer (recorded, or why it is invalid). */
  readonly onCall: (args: unknown) => HostCallAnswer;
  /** A call of the result tool failed (pi's own schema check, or {@link onCall}'s): `text` says why. */
  readonly onFailedCall: (text: string) => void;
}

/** Options of {@link HostCalls}. @internal */
export interface HostCallsOptions {
  readonly tools: readonly AnyHostTool[];
  /** This pi's nonce (pi dialects): host-call dialogs are titled with it, run markers carry it. `undefined`: pi runs without pidriver's extension. */
  readonly nonce: string | undefined;
  readonly session: PiSession;
  /** Tools running now (a call must be one of them). */
  readonly openTools: () => ReadonlyMap<string, OpenToolCall>;
  /** Whether the pi is omp (host tools through its own frames), as the wire says now. */
  readonly isOmp: () => boolean;
  /** Sends a command and emits its answer (omp's `set_host_tools`). */
  readonly request$: (command: { readonly type: string; readonly [field: string]: unknown }) => Observable<unknown>;
  /** Writes a frame to pi (answers, no response expected). */
  readonly write: (command: object) => Promise<void>;
  /** A problem worth an `error` event. */
  readonly onError: (code: string, message: string) => void;
}

/** One call running in the host. */
interface Call {
  readonly toolCallId: string;
  readonly controller: AbortController;
  subscription: Subscription | undefined;
  /** pi: answers not asked for yet (the extension asks for each with `op: 'next'`). */
  readonly queued: HostCallAnswer[];
  /** pi: the dialog waiting for the next answer. */
  waiting: string | undefined;
  /** Delivers an answer (pi: to the waiting dialog or the queue; omp: as a frame). */
  readonly deliver: (answer: HostCallAnswer) => void;
}

/**
 * Where the agent's calls of host tools run: each call's arguments validated, its `execute` run
 * in the host with an `AbortSignal`, its progress and result sent back. On pi the calls arrive as
 * pidriver's extension's dialogs (titled with this pi's nonce, and only for a tool call that is
 * running); on omp as its own `host_tool_call` frames. A run's result tool (structured output) is
 * answered by the run's {@link OutputSlot}.
 *
 * @internal
 */
export class HostCalls {
  readonly #options: HostCallsOptions;
  readonly #tools: ReadonlyMap<string, AnyHostTool>;
  readonly #calls = new Map<string, Call>();
  /** The result tool of the run going on. */
  output: OutputSlot | undefined;
  /** omp: a result tool is among its host tools now. */
  #ompOffered = false;
  /** Commands in flight (omp's `set_host_tools`). */
  readonly #commands = new Subscription();

  constructor(options: HostCallsOptions) {
    this.#options = options;
    this.#tools = new Map(options.tools.map((tool) => [tool.name, tool]));
  }

  /** The tools as the model sees them (omp's `set_host_tools`, pi's `PIDRIVER_HOST_TOOLS`). */
  get specs(): ToolSpec[] {
    return [...this.#tools.values()].map(toolSpec);
  }

  /** omp: gives it the host tools (`set_host_tools`), once it is started. pi got them at spawn. */
  install$(): Observable<void> {
    if (!this.#options.isOmp() || this.#tools.size === 0) return of(undefined);
    return this.#options.request$({ type: 'set_host_tools', tools: ompToolDefinitions(this.specs) }).pipe(
      map(() => undefined),
      defaultIfEmpty(undefined),
      take(1),
    );
  }

  /**
   * The prompt that offers `output` as its run's result tool (none: takes an offered one away).
   * On pi the prompt carries it to pidriver's extension (the run marker); on omp the host tools
   * are set again before the prompt (omp runs commands in order).
   *
   */
  offerOutput(output: ToolSpec | undefined, message: string): string {
    if (this.#options.isOmp()) {
      if (output !== undefined && !this.#ompOffered) this.#setOmpTools(output);
      return message;
    }
    const nonce = this.#options.nonce;
    return output === undefined || nonce === undefined ? message : withRunMarker(nonce, { output }, message);
  }

  /** Whether a run's result tool can be offered: on omp, or on pi with pidriver's extension. */
  get canOfferOutput(): boolean {
    return this.#options.nonce !== undefined || this.#options.isOmp();
  }

  /** The run with a result tool is over: omp's host tools are set back without it (pi's extension drops it at the next prompt). */
  withdrawOutput(): void {
    if (this.#ompOffered && this.#options.isOmp()) this.#setOmpTools(undefined);
  }

  #setOmpTools(output: ToolSpec | undefined): void {
    this.#ompOffered = output !== undefined;
    const tools = output === undefined ? this.specs : [...this.specs, output];
    this.#commands.add(
      this.#options.request$({ type: 'set_host_tools', tools: ompToolDefinitions(tools) }).subscribe({
        error: (error: unknown) => this.#options.onError('command_failed', `set_host_tools failed: ${error instanceof Error ? error.message : String(error)}`),
      }),
    );
  }

  /** Whether a dialog is one of pidriver's host calls (then {@link onDialog} handles it, and nobody else sees it). */
  isHostCall(frame: ExtensionUiRequestFrame): boolean {
    return this.#options.nonce !== undefined && frame.method === 'input' && frame.title === hostCallTitle(this.#options.nonce);
  }

  /** pi: a host-call dialog. */
  onDialog(frame: ExtensionUiRequestFrame): void {
    const reply = (answer: HostCallAnswer): void => this.#write({ type: 'extension_ui_response', id: frame.id, value: JSON.stringify(answer) });
    let request;
    try {
      request = HostCallRequestSchema.parse(JSON.parse(frame.placeholder ?? ''));
    } catch {
      reply(toolErrorAnswer('pidriver could not read this host tool call'));
      return;
    }
    if (request.op === 'next') {
      const call = this.#calls.get(request.toolCallId);
      if (!call) return reply(toolErrorAnswer('no such host tool call'));
      const next = call.queued.shift();
      if (next) this.#sendDialogAnswer(call, frame.id, next);
      else call.waiting = frame.id;
      return;
    }
    const running = this.#options.openTools().get(request.toolCallId);
    if (running?.name !== request.name || this.#calls.has(request.toolCallId)) {
      // Only a call pi is running now, once: another extension's dialog can't run host code.
      this.#options.onError('host_tool_refused', `refused a host call of ${request.name} (${request.toolCallId}): no such tool call is running`);
      return reply(toolErrorAnswer(`no running call of ${request.name} with this id`));
    }
    const call: Call = {
      toolCallId: request.toolCallId,
      controller: new AbortController(),
      subscription: undefined,
      queued: [],
      waiting: frame.id,
      deliver: (answer) => {
        if (call.waiting === undefined) call.queued.push(answer);
        else this.#sendDialogAnswer(call, call.waiting, answer);
      },
    };
    this.#run(call, request.name, request.args);
  }

  /** omp: `host_tool_call`. */
  onHostToolCall(frame: FrameOf<'host_tool_call'>): void {
    const call: Call = {
      toolCallId: frame.toolCallId,
      controller: new AbortController(),
      subscription: undefined,
      queued: [],
      waiting: undefined,
      deliver: (answer) => {
        if (answer.kind === 'update') {
          this.#write({ type: 'host_tool_update', id: frame.id, partialResult: { content: answer.content, ...detailsOf(answer) } });
          return;
        }
        this.#calls.delete(frame.id);
        this.#write({
          type: 'host_tool_result',
          id: frame.id,
          result: { content: answer.content, ...detailsOf(answer) },
          ...(answer.isError ? { isError: true } : {}),
        });
      },
    };
    this.#calls.set(frame.id, call);
    this.#run(call, frame.toolName, frame.arguments ?? {}, frame.id);
  }

  /** omp: `host_tool_cancel`. */
  onHostToolCancel(frame: FrameOf<'host_tool_cancel'>): void {
    this.#stop(frame.targetId);
  }

  /** A tool call ended: whatever still runs for it is stopped (pi); a failed result-tool call counts as a failed try. */
  onToolEnd(frame: FrameOf<'tool_execution_end'>): void {
    if (!this.#options.isOmp()) this.#stop(frame.toolCallId);
    const output = this.output;
    if (output !== undefined && frame.toolName === output.spec.name && frame.isError === true) {
      output.onFailedCall(resultText(frame.result));
    }
  }

  /** The run was aborted or the session is closing: every call's signal aborts. */
  abortAll(): void {
    for (const key of [...this.#calls.keys()]) this.#stop(key);
  }

  /** The session ended: calls aborted, commands dropped. */
  dispose(): void {
    this.abortAll();
    this.#commands.unsubscribe();
  }

  /** Runs one call: the result tool's answer, or a host tool's `execute`. */
  #run(call: Call, name: string, args: unknown, key = call.toolCallId): void {
    const output = this.output;
    if (output !== undefined && name === output.spec.name) {
      call.deliver(output.onCall(args));
      return;
    }
    const tool = this.#tools.get(name);
    if (!tool) {
      call.deliver(toolErrorAnswer(`${name} is not a host tool of this session`));
      return;
    }
    const parsed = tool.parameters.safeParse(args);
    if (!parsed.success) {
      call.deliver(toolErrorAnswer(`Invalid arguments for ${name}: ${describeIssues(parsed.error)}`));
      return;
    }
    this.#calls.set(key, call);
    const context: HostToolContext = { signal: call.controller.signal, session: this.#options.session, toolCallId: call.toolCallId };
    call.subscription = answers$(() => tool.execute(parsed.data as never, context)).subscribe((answer) => {
      if (answer.kind === 'result' && this.#options.isOmp()) this.#calls.delete(key);
      call.deliver(answer);
    });
  }

  #sendDialogAnswer(call: Call, dialogId: string, answer: HostCallAnswer): void {
    call.waiting = undefined;
    if (answer.kind === 'result') this.#calls.delete(call.toolCallId);
    this.#write({ type: 'extension_ui_response', id: dialogId, value: JSON.stringify(answer) });
  }

  #stop(key: string): void {
    const call = this.#calls.get(key);
    if (!call) return;
    this.#calls.delete(key);
    call.controller.abort(new Error('the tool call was cancelled'));
    call.subscription?.unsubscribe();
  }

  #write(command: object): void {
    this.#options.write(command).catch(() => undefined); // the session is closing: nobody waits for it
  }
}

/** A tool as the model sees it. @internal */
export function toolSpec(tool: AnyHostTool): ToolSpec {
  return { name: tool.name, label: tool.label, description: tool.description, parameters: tool.jsonSchema };
}

/**
 * The tools as omp's `set_host_tools` takes them: `loadMode: 'essential'`, so the model gets each
 * one as a function with its JSON Schema. Without it omp makes a host tool "discoverable", and with
 * its `tools.xdev` setting (on by default) the model sees only a line `xd://<name> — <description>`
 * in the system prompt, reads the schema on demand and calls the tool through `write`.
 */
function ompToolDefinitions(specs: readonly ToolSpec[]): (ToolSpec & { readonly loadMode: 'essential' })[] {
  return specs.map((spec) => ({ ...spec, loadMode: 'essential' }));
}

/**
 * What `execute` gives, as answers: each value before the last is progress, the last is the
 * result; a throw, a rejection, an error or no value at all is an error result.
 */
function answers$(execute: () => HostToolOutput): Observable<HostCallAnswer> {
  return defer(() => toObservable(execute())).pipe(
    connect((values$) =>
      merge(
        values$.pipe(
          pairwise(),
          map(([previous]): HostCallAnswer => ({ kind: 'update', ...partsOf(previous) })),
        ),
        values$.pipe(
          last(),
          map((value): HostCallAnswer => ({ kind: 'result', ...partsOf(value), ...(isErrorResult(value) ? { isError: true } : {}) })),
        ),
      ),
    ),
    catchError((error: unknown) => of(toolErrorAnswer(error instanceof Error ? error.message : String(error)))),
    map(serializable),
  );
}

/** An answer that can be written as JSON: `details` with a cycle or a BigInt would otherwise throw at the write. */
function serializable(answer: HostCallAnswer): HostCallAnswer {
  try {
    JSON.stringify(answer);
    return answer;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return answer.kind === 'update'
      ? { kind: 'update', content: [{ type: 'text', text: `(progress that could not be serialized: ${why})` }] }
      : toolErrorAnswer(`the tool's result could not be serialized: ${why}`);
  }
}

function toObservable(output: HostToolOutput): Observable<HostToolResult> {
  if (typeof output === 'string') return of(output);
  if (isObservable(output) || isObservableInputLike(output)) return from(output as Observable<HostToolResult>);
  return of(output as HostToolResult);
}

function isObservableInputLike(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return (
    typeof (value as PromiseLike<unknown>).then === 'function' ||
    Array.isArray(value) ||
    Symbol.asyncIterator in value ||
    Symbol.iterator in value ||
    (typeof Symbol.observable === 'symbol' && Symbol.observable in value) ||
    '@@observable' in value
  );
}

function isErrorResult(value: HostToolResult): boolean {
  return typeof value === 'object' && value !== null && value.isError === true;
}

function partsOf(value: HostToolResult): { content: ToolResultContent[]; details?: unknown } {
  if (typeof value === 'string') return { content: [{ type: 'text', text: value }] };
  if (typeof value !== 'object' || value === null || value.content === undefined) {
    throw new TypeError(`a host tool must give a string or { content }, not ${value === null ? 'null' : typeof value}`);
  }
  const content = typeof value.content === 'string' ? [{ type: 'text' as const, text: value.content }] : value.content.map((part) => ({ ...part }));
  return { content, ...(value.details !== undefined ? { details: value.details } : {}) };
}

function detailsOf(answer: HostCallAnswer): { details?: unknown } {
  return answer.details !== undefined ? { details: answer.details } : {};
}
