import type { AgentMessage, ContentBlock, FrameOf, KnownFrame, ToolResult } from './frames.js';
import type { EventFields } from './events.js';
import type { SubagentChildFrame } from './subagentFrames.js';
import { UsageTotals } from '../usage/UsageTotals.js';

/** What the last assistant message of a run said, for `RunResult` and `agent_end`. */
export interface AssistantSummary {
  readonly text: string;
  readonly stopReason: string | undefined;
  readonly errorMessage: string | undefined;
}

/** A tool call the agent started and has not finished. */
export interface OpenToolCall {
  readonly toolCallId: string;
  readonly name: string;
  readonly args: Record<string, unknown>;
}

/**
 * Turns pi's content frames (messages, tools, queues, retries) into pidriver events. It keeps
 * the little state that needs: open tool calls, the last assistant message. Run boundaries,
 * responses and extension UI are the session's job.
 *
 * Text comes from the deltas, never from the resent `partial`/`message` snapshots, which can be stale: the
 * deltas of one message concatenate to exactly its final text.
 */
export class EventNormalizer {
  readonly #openTools = new Map<string, OpenToolCall>();
  /** Tool calls of the last assistant message not yet started (omp asks for approval before starting). */
  #announcedTools: OpenToolCall[] = [];
  #lastAssistant: AssistantSummary | undefined;
  /** Who each omp subagent is, from its lifecycle and progress frames (its `subagent_event`s carry only its id). */
  readonly #subagents = new Map<string, SubagentIdentity>();

  get lastAssistant(): AssistantSummary | undefined {
    return this.#lastAssistant;
  }

  /** Tool calls currently running. */
  get openTools(): ReadonlyMap<string, OpenToolCall> {
    return this.#openTools;
  }

  /** Tool calls the model asked for that have not started yet. */
  get announcedTools(): readonly OpenToolCall[] {
    return this.#announcedTools;
  }

  /**
   * pi died with these tool calls running (the session restarts it): forgets them and returns
   * them, so the session can end each one with a `tool_end`.
   */
  abandonTools(): OpenToolCall[] {
    const open = [...this.#openTools.values()];
    this.#openTools.clear();
    this.#announcedTools = [];
    return open;
  }

  /** Forgets the previous run's summary. */
  startRun(): void {
    this.#lastAssistant = undefined;
  }

  /** The events for one frame (often none). `raw` is attached by the caller. */
  normalize(frame: KnownFrame): EventFields[] {
    switch (frame.type) {
      case 'message_start':
        return frame.message.role === 'user' ? [{ type: 'user_message', text: messageText(frame.message) }] : [];
      case 'message_update':
        return this.#messageUpdate(frame);
      case 'message_end':
        return frame.message.role === 'assistant' ? this.#assistantEnd(frame.message) : [];
      case 'tool_execution_start': {
        const args = asRecord(frame.args);
        this.#openTools.set(frame.toolCallId, { toolCallId: frame.toolCallId, name: frame.toolName, args });
        this.#announcedTools = this.#announcedTools.filter((tool) => tool.toolCallId !== frame.toolCallId);
        return [{ type: 'tool_start', toolCallId: frame.toolCallId, name: frame.toolName, arguments: args }];
      }
      case 'tool_execution_update':
        return [
          {
            type: 'tool_update',
            toolCallId: frame.toolCallId,
            name: frame.toolName,
            output: resultText(frame.partialResult),
          },
        ];
      case 'tool_execution_end': {
        this.#openTools.delete(frame.toolCallId);
        const details = frame.result?.details;
        return [
          {
            type: 'tool_end',
            toolCallId: frame.toolCallId,
            name: frame.toolName,
            result: resultText(frame.result),
            isError: frame.isError ?? false,
            ...(details === undefined ? {} : { details }),
          },
        ];
      }
      case 'turn_start':
        return [{ type: 'turn_start' }];
      case 'turn_end':
        return [{ type: 'turn_end' }];
      case 'queue_update':
        return [{ type: 'queue_update', steering: frame.steering ?? [], followUp: frame.followUp ?? [] }];
      case 'auto_retry_start':
        return [
          {
            type: 'retry',
            phase: 'start',
            ...defined({ attempt: frame.attempt, maxAttempts: frame.maxAttempts, delayMs: frame.delayMs, errorMessage: frame.errorMessage }),
          },
        ];
      case 'auto_retry_end':
        return [
          {
            type: 'retry',
            phase: 'end',
            ...defined({ attempt: frame.attempt, success: frame.success, errorMessage: frame.finalError }),
          },
        ];
      case 'compaction_start':
      case 'auto_compaction_start':
        return [{ type: 'compaction', phase: 'start', ...defined({ reason: frame.reason }) }];
      case 'compaction_end':
      case 'auto_compaction_end':
        return [
          {
            type: 'compaction',
            phase: 'end',
            ...defined({ reason: frame.reason, aborted: frame.aborted, errorMessage: frame.errorMessage }),
          },
        ];
      case 'extension_error':
        return [
          {
            type: 'error',
            code: 'extension_error',
            fatal: false,
            message: `extension ${frame.extensionPath ?? '?'} failed in ${frame.event ?? '?'}: ${frame.error ?? 'unknown error'}`,
          },
        ];
      case 'subagent_lifecycle':
        return [this.#subagentLifecycle(frame.payload)];
      case 'subagent_progress':
        return [this.#subagentProgress(frame.payload)];
      case 'subagent_event':
        return [{ type: 'subagent_event', ...this.#subagent(frame.payload.id), event: withoutResentMessage(frame.payload.event) }];
      default:
        return [];
    }
  }

  #subagentLifecycle(payload: FrameOf<'subagent_lifecycle'>['payload']): EventFields {
    const who = this.#subagent(payload.id, payload);
    const { agentSource, description, sessionFile, detached } = payload;
    return { type: 'subagent_lifecycle', ...who, status: payload.status, ...defined({ agentSource, description, sessionFile, detached }) };
  }

  #subagentProgress(payload: FrameOf<'subagent_progress'>['payload']): EventFields {
    const progress = payload.progress;
    const who = this.#subagent(progress.id, {
      agent: payload.agent ?? progress.agent,
      parentToolCallId: payload.parentToolCallId,
      index: payload.index ?? progress.index,
    });
    const { task, assignment, sessionFile, detached } = payload;
    return {
      type: 'subagent_progress',
      ...who,
      status: progress.status,
      ...defined({ task, assignment, description: progress.description, sessionFile, detached }),
      progress,
    };
  }

  /** Who subagent `id` is: what this frame says, completed with what earlier frames said. */
  #subagent(id: string, seen: SubagentFields = {}): SubagentIdentity {
    const known = this.#subagents.get(id);
    const who: SubagentIdentity = {
      subagentId: id,
      ...defined({ agent: known?.agent, parentToolCallId: known?.parentToolCallId, index: known?.index }),
      ...defined({ agent: seen.agent, parentToolCallId: seen.parentToolCallId, index: seen.index }),
    };
    if (known === undefined || seen.agent != null || seen.parentToolCallId != null || seen.index != null) {
      this.#subagents.delete(id);
      this.#subagents.set(id, who);
      // omp keeps at most 256 ended subagents' transcripts too; the oldest are forgotten.
      if (this.#subagents.size > MAX_SUBAGENTS) this.#subagents.delete(this.#subagents.keys().next().value as string);
    }
    return who;
  }

  #messageUpdate(frame: FrameOf<'message_update'>): EventFields[] {
    const event = frame.assistantMessageEvent;
    const contentIndex = event.contentIndex ?? 0;
    if (event.type === 'text_delta' && event.delta) {
      return [{ type: 'message_delta', text: event.delta, channel: 'assistant', contentIndex }];
    }
    if (event.type === 'thinking_delta' && event.delta) {
      return [{ type: 'message_delta', text: event.delta, channel: 'thinking', contentIndex }];
    }
    if (event.type === 'toolcall_end' && event.toolCall) {
      const call = event.toolCall;
      this.#announcedTools.push({ toolCallId: call.id, name: call.name, args: asRecord(call.arguments) });
    }
    return [];
  }

  #assistantEnd(message: AgentMessage): EventFields[] {
    const blocks = Array.isArray(message.content) ? message.content : [];
    const stopReason = message.stopReason ?? undefined;
    const text = messageText(message);
    this.#lastAssistant = { text, stopReason, errorMessage: message.errorMessage ?? undefined };
    // Tool calls the model asked for (omp asks for approval before tool_execution_start).
    this.#announcedTools = blocks.filter(isToolCall).map((call) => ({ toolCallId: call.id, name: call.name, args: asRecord(call.arguments) }));

    const events: EventFields[] = [];
    const thinking = blocks.filter(isThinking);
    if (thinking.length > 0) {
      events.push({
        type: 'message_complete',
        channel: 'thinking',
        text: thinking.map((block) => block.thinking).join(''),
        ...defined({ stopReason }),
      });
    }
    if (text.length > 0 || !blocks.some(isToolCall)) {
      events.push({ type: 'message_complete', channel: 'assistant', text, ...defined({ stopReason }) });
    }
    const usage = UsageTotals.fromAssistantUsage(message.usage);
    if (!usage.isZero) events.push({ type: 'usage', totals: usage });
    if (stopReason === 'error') {
      events.push({
        type: 'error',
        code: 'provider_error',
        fatal: false,
        message: message.errorMessage ?? 'the model provider returned an error',
      });
    }
    return events;
  }
}

function isText(block: ContentBlock): block is Extract<ContentBlock, { type: 'text'; text: string }> {
  return block.type === 'text' && typeof (block as { text?: unknown }).text === 'string';
}

function isThinking(block: ContentBlock): block is Extract<ContentBlock, { type: 'thinking'; thinking: string }> {
  return block.type === 'thinking' && typeof (block as { thinking?: unknown }).thinking === 'string';
}

function isToolCall(block: ContentBlock): block is Extract<ContentBlock, { type: 'toolCall'; id: string }> {
  return block.type === 'toolCall' && typeof (block as { id?: unknown }).id === 'string';
}

/** How many subagents' identities the normalizer remembers. */
const MAX_SUBAGENTS = 256;

/** What a subagent frame may say about who the subagent is. */
interface SubagentFields {
  readonly agent?: string | null | undefined;
  readonly parentToolCallId?: string | null | undefined;
  readonly index?: number | null | undefined;
}

/** The fields of every subagent event that say who the subagent is. */
interface SubagentIdentity {
  readonly subagentId: string;
  readonly agent?: string;
  readonly parentToolCallId?: string;
  readonly index?: number;
}

/**
 * A subagent's frame for its `subagent_event`: as omp sent it, except that a `message_update`
 * loses its resent copies of the partial message (`message`, `assistantMessageEvent.partial`), as
 * the session's own `message_update`s do. A copy: the frame's `raw` keeps them.
 */
function withoutResentMessage(frame: SubagentChildFrame): SubagentChildFrame {
  if (frame.type !== 'message_update') return frame;
  const { message: _message, ...rest } = frame;
  const update = rest['assistantMessageEvent'];
  if (typeof update === 'object' && update !== null && 'partial' in update) {
    const { partial: _partial, ...event } = update as Record<string, unknown>;
    rest['assistantMessageEvent'] = event;
  }
  return rest;
}

/** The text of a message: a string, or its text blocks joined. */
export function messageText(message: Pick<AgentMessage, 'content'>): string {
  const content = message.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter(isText)
    .map((block) => block.text)
    .join('');
}

/** The text of a tool result (its text blocks, joined). @internal */
export function resultText(result: ToolResult | null | undefined): string {
  return (result?.content ?? [])
    .filter(isText)
    .map((block) => block.text)
    .join('');
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Drops `undefined`/`null` fields (exactOptionalPropertyTypes: absent, not undefined). */
function defined<T extends Record<string, unknown>>(fields: T): { [K in keyof T]?: Exclude<T[K], null | undefined> } {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined && value !== null) result[key] = value;
  return result as { [K in keyof T]?: Exclude<T[K], null | undefined> };
}
