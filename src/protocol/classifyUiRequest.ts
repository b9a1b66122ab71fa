import type { ExtensionUiRequestFrame } from './frames.js';
import type { InteractionRequest, UiNoticeEvent } from './events.js';
import type { OpenToolCall } from './EventNormalizer.js';

/** UI methods that block the agent until the host answers. */
export const DIALOG_METHODS: ReadonlySet<string> = new Set(['select', 'confirm', 'input', 'editor']);

/** The options of an approval `select`: omp's built-in approvals and our own extension. */
export const APPROVE_OPTION = 'Approve';
export const APPROVE_ALWAYS_OPTION = 'Approve always';
export const DENY_OPTION = 'Deny';

const TOOL_CALL_MARKER = /^\[pidriver toolCallId=([^\]]*)\]$/;
const ALLOW_TOOL_TITLE = /^Allow tool: (.+)$/;

type RequestFields = Omit<InteractionRequest, 'sessionId' | 'seq' | 'raw'>;
type NoticeFields = Omit<UiNoticeEvent, 'sessionId' | 'seq' | 'raw'>;

export interface ToolContext {
  /** Tools running now (pi asks its `tool_call` hook after `tool_execution_start`). */
  readonly openTools: ReadonlyMap<string, OpenToolCall>;
  /** Tools the model asked for that have not started (omp asks before starting them). */
  readonly announcedTools: readonly OpenToolCall[];
}

/**
 * Classifies an `extension_ui_request` dialog as a typed interaction request:
 * - a `select` offering `Approve`/`Deny` (omp's approvals, and pidriver's approval extension)
 *   and a `confirm` are **permission** requests; the tool is taken from the title
 *   (`Allow tool: <name>`, and our extension's `[pidriver toolCallId=…]` marker, its last line,
 *   which is stripped) or from the running tool calls;
 * - another `select` is a **choice**; `editor` is an **editor** request;
 * - `input` is a **question** when a tool is running (an LLM tool asking the user) and an
 *   **input** otherwise (e.g. a slash command asking for a value).
 */
export function classifyDialog(frame: ExtensionUiRequestFrame, tools: ToolContext): RequestFields {
  const options = frame.options ?? [];
  const base = {
    type: 'interaction_request' as const,
    requestId: frame.id,
    method: frame.method,
    options: [...options],
    ...(typeof frame.timeout === 'number' ? { timeoutMs: frame.timeout } : {}),
  };
  switch (frame.method) {
    case 'select': {
      if (options.includes(APPROVE_OPTION) && options.includes(DENY_OPTION)) return permissionFromSelect(frame, base, tools);
      return { ...base, kind: 'choice', prompt: { title: frame.title ?? '', message: frame.message ?? '' } };
    }
    case 'confirm': {
      const title = frame.title ?? '';
      const message = frame.message ?? '';
      const tool = findTool(tools, (call) => title.includes(call.name) || message.includes(call.name), `${title}\n${message}`);
      return { ...base, kind: 'permission', prompt: { title, message }, ...toolFields(tool), default: false };
    }
    case 'editor':
      return {
        ...base,
        kind: 'editor',
        prompt: { title: frame.title ?? '', message: '' },
        ...(frame.prefill != null ? { default: frame.prefill } : {}),
      };
    default: {
      const running = tools.openTools.size > 0;
      const tool = running ? [...tools.openTools.values()].at(-1) : undefined;
      return {
        ...base,
        kind: running ? 'question' : 'input',
        prompt: { title: frame.title ?? '', message: frame.placeholder ?? frame.message ?? '' },
        ...toolFields(tool),
      };
    }
  }
}

function permissionFromSelect(frame: ExtensionUiRequestFrame, base: Omit<RequestFields, 'kind' | 'prompt'>, tools: ToolContext): RequestFields {
  const visible = (frame.title ?? '').split('\n');
  // Only the last line is our extension's marker: the lines above carry model-chosen text (a
  // command may contain a marker-like line), and the id in it is percent-encoded.
  const marker = TOOL_CALL_MARKER.exec(visible.at(-1) ?? '');
  const markedId = marker ? decodeMarkedId(marker[1] ?? '') : undefined;
  if (marker) visible.pop();
  const [title = '', ...rest] = visible;
  const toolName = ALLOW_TOOL_TITLE.exec(title)?.[1]?.trim();
  const tool =
    (markedId !== undefined ? tools.openTools.get(markedId) : undefined) ??
    (toolName !== undefined ? findTool(tools, (call) => call.name === toolName, rest.join('\n')) : undefined);
  return {
    ...base,
    kind: 'permission',
    prompt: { title, message: rest.join('\n') },
    ...toolFields(tool),
    ...(markedId !== undefined ? { toolCallId: markedId } : {}),
    ...(toolName !== undefined ? { toolName } : {}),
    default: false,
  };
}

/** The marker's id, percent-decoded (an extension build from before the encoding wrote it raw). */
function decodeMarkedId(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}

/**
 * The tool call a dialog is about. Several calls may match by name (two parallel `bash` calls);
 * then the one whose string arguments all appear in the dialog's text wins (omp's approval
 * says `Command: <command>`), so a policy that judges arguments sees the call that will run.
 */
function findTool(tools: ToolContext, match: (call: OpenToolCall) => boolean, text: string): OpenToolCall | undefined {
  const candidates = [...tools.openTools.values(), ...tools.announcedTools].filter(match);
  if (candidates.length <= 1) return candidates[0];
  const described = candidates.filter((call) => argsAppearIn(call.args, text));
  return described.length === 1 ? described[0] : (described[0] ?? candidates[0]);
}

function argsAppearIn(args: Record<string, unknown>, text: string): boolean {
  const strings = Object.values(args).filter((value): value is string => typeof value === 'string' && value.length > 0);
  return strings.length > 0 && strings.every((value) => text.includes(value));
}

function toolFields(tool: OpenToolCall | undefined): Pick<RequestFields, 'toolCallId' | 'toolName' | 'args'> {
  return tool ? { toolCallId: tool.toolCallId, toolName: tool.name, args: tool.args } : {};
}

/** A fire-and-forget UI frame as a `ui_notice` event. */
export function toUiNotice(frame: ExtensionUiRequestFrame): NoticeFields {
  const raw = frame as Record<string, unknown>;
  const str = (key: string): string | undefined => (typeof raw[key] === 'string' ? raw[key] : undefined);
  const fields: Record<string, unknown> = {
    message: str('message'),
    level: str('notifyType'),
    key: str('statusKey') ?? str('widgetKey') ?? str('targetId'),
    text: str('statusText') ?? str('text') ?? str('url') ?? (frame.method === 'setTitle' ? str('title') : undefined),
    lines: Array.isArray(raw['widgetLines']) ? (raw['widgetLines'] as unknown[]).filter((line) => typeof line === 'string') : undefined,
  };
  for (const key of Object.keys(fields)) if (fields[key] === undefined) delete fields[key];
  return { type: 'ui_notice', method: frame.method, ...(fields as Partial<NoticeFields>) };
}
