import type { PiConfig } from '../config/PiConfig.js';
import { PiProtocolError } from '../errors.js';
import type { EventFields, UnstampedEvent } from '../protocol/events.js';
import { defineDeferredRaw, DeferredRaw } from '../protocol/DeferredRaw.js';
import type { ExtensionUiRequestFrame, KnownFrame } from '../protocol/frames.js';
import { parseLine, readLine, readScan, type SessionLine } from '../protocol/parseLine.js';
import { OversizeLine, ScannedLine } from '../transport/LineSplitter.js';
import type { TransportLine } from '../transport/PiTransport.js';
import { redactSecrets, secretsOf } from '../transport/redactSecrets.js';
import type { UsageTotals } from '../usage/UsageTotals.js';
import type { ApproveSetting } from './approvalExtension.js';
import { APPROVE_OPTION, classifyDialog, DIALOG_METHODS, toUiNotice } from '../protocol/classifyUiRequest.js';
import type { CommandChannel } from './CommandChannel.js';
import type { EventNormalizer } from '../protocol/EventNormalizer.js';
import type { HostCalls } from './HostCalls.js';
import type { InteractionDesk } from './InteractionDesk.js';
import type { RunTracker } from './RunTracker.js';
import type { SessionEvents } from './SessionEvents.js';
import type { WireDialect } from './WireDialect.js';

/** Options of {@link FrameRouter}. @internal */
export interface FrameRouterOptions {
  readonly config: PiConfig;
  readonly approve: ApproveSetting;
  readonly events: SessionEvents;
  readonly channel: CommandChannel;
  readonly runs: RunTracker;
  readonly desk: InteractionDesk;
  readonly dialect: WireDialect;
  readonly normalizer: EventNormalizer;
  /** Host tools: pidriver's extension's host calls, omp's `host_tool_*` frames. */
  readonly hostCalls: HostCalls;
  /** Writes a command to pi (answers pidriver gives on its own). */
  readonly write: (command: object) => Promise<void>;
  /** An assistant message's usage (the session's totals). */
  readonly onUsage: (totals: UsageTotals) => void;
}

/**
 * Where each line from pi goes: parsed (the fast path for `message_update`), then by frame type
 * to the command channel (responses), the run tracker (what ends a run), the interaction desk
 * (dialogs), the dialect (`ready`, v2 chunks) and, as typed events, to `events$`. A line pi sends
 * that pidriver can't read becomes an `error` event, and what its head says still counts.
 *
 * @internal
 */
export class FrameRouter {
  readonly #options: FrameRouterOptions;
  readonly #events: SessionEvents;
  readonly #runs: RunTracker;
  readonly #normalizer: EventNormalizer;
  /** Secret values to mask in text pidriver builds from pi's stdout (computed on first use). */
  #secrets: readonly string[] | undefined;

  constructor(options: FrameRouterOptions) {
    this.#options = options;
    this.#events = options.events;
    this.#runs = options.runs;
    this.#normalizer = options.normalizer;
  }

  onLine(line: TransportLine): void {
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
      // withRaw); until then it is carried as is, and only its small text is retained.
      this.#onFrame(parsed.frame, parsed.raw as unknown as Record<string, unknown>, parsed.raw.size);
      return;
    }
    const text = typeof line === 'string' ? line : line.line;
    const { events } = this.#options;
    if (parsed.kind === 'invalid') {
      events.emit(
        { type: 'error', code: 'invalid_line', fatal: false, message: this.#redact(parsed.message), line: this.#redact(text), raw: undefined },
        text.length,
      );
      return;
    }
    if (parsed.kind === 'unknown') {
      const shown = this.#redact(text);
      const raw = shown === text ? parsed.frame : (JSON.parse(shown) as Record<string, unknown>);
      events.emit({ type: 'unknown', frameType: parsed.frame.type, line: shown, raw }, text.length);
      return;
    }
    this.#onFrame(parsed.frame, parsed.raw, text.length);
  }

  #onFrame(frame: KnownFrame, raw: Record<string, unknown>, size: number): void {
    const runs = this.#runs;
    switch (frame.type) {
      case 'response':
        this.#onResponse(frame, raw, size);
        return;
      case 'agent_start':
        runs.onAgentStart(raw, size);
        return;
      case 'agent_end':
        this.#emitContent(frame, raw, size);
        runs.noteEndFrame(raw, size);
        runs.feed({ kind: 'agent_end', isTerminal: frame.isTerminal, willRetry: frame.willRetry });
        return;
      case 'ready':
        this.#options.dialect.onReady(frame);
        return;
      case 'agent_settled':
        this.#options.dialect.learn('pi-1');
        this.#options.dialect.sawSettledSignal();
        runs.feed({ kind: 'settled' });
        return;
      case 'prompt_result':
        this.#options.dialect.learn('omp');
        runs.onPromptResult(frame);
        return;
      case 'session_settled':
        this.#options.dialect.learn('omp');
        runs.feed({ kind: 'settled' });
        return;
      case 'rpc_chunk': {
        // Protocol v2: reassemble, then handle the frame as if it had been one line.
        const outcome = this.#options.dialect.reassemble(frame);
        if (outcome.kind === 'frame') this.onLine(outcome.line);
        else if (outcome.kind === 'error')
          this.#events.emit({ type: 'error', code: 'invalid_chunk', fatal: false, message: outcome.message, raw: undefined }, size);
        return;
      }
      case 'rpc_frame_error': {
        const message = `omp could not send a ${frame.originalType ?? '?'} frame: ${frame.error ?? 'over its frame limit'} (protocol v${this.#options.dialect.protocolVersion})`;
        this.#events.emit({ type: 'error', code: 'frame_too_large', fatal: false, message, raw }, size);
        if (frame.originalType === 'agent_end') runs.feed({ kind: 'agent_end' });
        return;
      }
      case 'extension_ui_request':
        this.#onUiRequest(frame, raw, size);
        return;
      case 'host_tool_call':
        this.#options.hostCalls.onHostToolCall(frame);
        return;
      case 'host_tool_cancel':
        this.#options.hostCalls.onHostToolCancel(frame);
        return;
      case 'tool_execution_end':
        this.#options.hostCalls.onToolEnd(frame);
        break;
      case 'auto_retry_start':
        runs.feed({ kind: 'retry_start' });
        break;
      case 'auto_retry_end':
        runs.feed({ kind: 'retry_end' });
        break;
      case 'compaction_start':
      case 'auto_compaction_start':
        runs.feed({ kind: 'compaction_start' });
        break;
      case 'compaction_end':
      case 'auto_compaction_end':
        runs.feed({ kind: 'compaction_end', auto: frame.type === 'auto_compaction_end' });
        break;
      default:
        break;
    }
    this.#emitContent(frame, raw, size);
  }

  #onResponse(frame: Extract<KnownFrame, { type: 'response' }>, raw: Record<string, unknown>, size: number): void {
    const { runs, channel } = this.#options;
    // Mark our prompt accepted now, not a microtask later: the frames after the response (up to
    // agent_settled) may arrive in the same stdout chunk.
    if (frame.success && runs.isCurrentPrompt(frame.id)) runs.feed({ kind: 'prompt_acked' });
    if (channel.handleResponse(frame) || runs.onLatePromptFailure(frame)) return;
    const what = frame.success ? 'an unexpected response' : `an error (${frame.error ?? 'no message'})`;
    const message = `pi sent ${what} for ${frame.command ?? 'an unknown command'}${frame.id ? ` (id ${frame.id})` : ''}`;
    this.#options.events.emit({ type: 'error', code: frame.success ? 'unmatched_response' : 'command_failed', fatal: false, message, raw }, size);
  }

  /** The events a frame means (deltas, tool calls, usage…), with pi's frame as their `raw`. */
  #emitContent(frame: KnownFrame, raw: Record<string, unknown>, size: number): void {
    for (const event of this.#normalizer.normalize(frame)) {
      if (event.type === 'usage') {
        this.#runs.addUsage(event.totals);
        this.#options.onUsage(event.totals);
      }
      this.#events.emit(withRaw(event, raw), size);
    }
  }

  #onUiRequest(frame: ExtensionUiRequestFrame, raw: Record<string, unknown>, size: number): void {
    const { desk, events } = this.#options;
    if (frame.method === 'cancel' && frame.targetId) desk.withdraw(frame.targetId); // omp dismissed a dialog itself
    if (this.#options.hostCalls.isHostCall(frame)) {
      this.#options.hostCalls.onDialog(frame); // a host tool call: not a question for anyone
      return;
    }
    if (!DIALOG_METHODS.has(frame.method)) {
      events.emit({ ...toUiNotice(frame), raw }, size);
      return;
    }
    const fields = classifyDialog(frame, this.#options.normalizer);
    if (this.#isUnguardedBuiltinApproval(fields)) {
      // omp asks about a tool the host didn't ask to guard: approve it, as pi's extension would
      // not have asked. Nothing else sees it (it is not a question for the host).
      this.#options.write({ type: 'extension_ui_response', id: frame.id, value: APPROVE_OPTION }).catch(() => undefined);
      return;
    }
    desk.open(fields, raw, size);
  }

  #isUnguardedBuiltinApproval(fields: {
    readonly kind: string;
    readonly method: string;
    readonly toolName?: string | undefined;
    readonly options: readonly string[];
  }): boolean {
    if (this.#options.dialect.capabilities.approvals !== 'builtin' || fields.kind !== 'permission' || fields.method !== 'select') return false;
    if (!fields.options.includes(APPROVE_OPTION) || fields.toolName === undefined) return false;
    // The run's result tool is pidriver's own: never guarded, as pi's extension never guards it.
    if (fields.toolName === this.#options.hostCalls.output?.spec.name) return true;
    // With 'all' (pidriver runs omp with `always-ask`) every question goes to the policy; with
    // 'none' omp runs in its own approval mode, and whatever it asks goes to the policy too.
    const approve = this.#options.approve;
    if (approve === 'all' || approve === 'none') return false;
    return !approve.includes(fields.toolName);
  }

  /**
   * A line over `maxLineBytes` was dropped as it arrived; only its head is known. It becomes an
   * `error` event, and what the head says still counts: a dropped `agent_end` still ends the run,
   * a dropped response still settles (rejects) its command, a dropped dialog is refused.
   */
  #onOversizeLine(line: OversizeLine): void {
    const { config, events, runs, channel } = this.#options;
    const message = `dropped a ${line.bytes}-byte line from pi (maxLineBytes is ${config.maxLineBytes})`;
    events.emit({ type: 'error', code: 'line_too_long', fatal: false, message, raw: undefined, line: this.#redact(line.head) }, line.head.length);
    const type = /^\{"type":"([a-z_]+)"/.exec(line.head)?.[1];
    if (type === 'agent_end') runs.feed({ kind: 'agent_end' });
    if (type === 'extension_ui_request') this.#refuseUnreadableRequest(line);
    if (type === 'response' || /^\{"id":"[^"]*","type":"response"/.test(line.head)) {
      const id = /^\{"id":"([^"]*)"/.exec(line.head)?.[1];
      if (id !== undefined)
        channel.failCommand(id, new PiProtocolError(`pi's response to command ${id} was larger than maxLineBytes (${line.bytes} bytes)`, line.head));
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
    this.#options.write({ type: 'extension_ui_response', id: requestId, cancelled: true }).catch(() => undefined);
  }

  /**
   * Text of pi's stdout that pidriver itself puts into an event (a line it could not read): the API
   * key and other secret env values masked, as in stderr. (What pi says in its frames is pi's
   * output, passed on as is.)
   */
  #redact(text: string): string {
    this.#secrets ??= secretsOf(this.#options.config, process.env);
    return this.#secrets.length === 0 ? text : redactSecrets(text, this.#secrets);
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
