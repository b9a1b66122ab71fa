/**
 * pidriver's approval extension for pi: asks the host before guarded tools run, and gives the
 * model an `ask_user` tool. pi loads it with `-e <absolute path>` (built to
 * `dist/extension/approval.js`; pi's jiti also loads this `.ts` source directly).
 *
 * It imports nothing at runtime: only types, which vanish when compiled.
 *
 * - Environment `PIDRIVER_APPROVE`: `all` (every tool but `ask_user`), `none`, or a
 *   comma-separated list of tool names; default `bash,edit,write`.
 * - Before a guarded tool runs it calls `ctx.ui.select(title, ['Approve', 'Approve always', 'Deny'])`.
 *   On the wire that is an `extension_ui_request` `select` whose title is
 *   `Allow tool: <name>\n<detail>\n[pidriver toolCallId=<id>]`, the marker always its last line and
 *   the id percent-encoded; pidriver classifies it as a `permission` request. `Approve` runs the
 *   tool; `Approve always` runs it and stops asking for that tool (while this pi process lives);
 *   `Deny` or `Deny: <reason>` blocks it with that reason; anything else (cancelled, timed out,
 *   aborted, an error) blocks it: fail closed.
 * - With `PIDRIVER_ASK_TOOL=1`: an `ask_user({ question })` tool that asks `ctx.ui.input(question)`
 *   and returns `User answered: <answer>`; a cancelled question is a tool error.
 * - Host tools (`PIDRIVER_HOST_TOOLS`, a JSON array of `{ name, label?, description, parameters }`
 *   with a JSON Schema as `parameters`, and `PIDRIVER_NONCE`): each is registered as a pi tool
 *   whose `execute` asks the host to run the call, through the same dialog channel: an `input`
 *   dialog titled `pidriver:host_call <nonce>` whose placeholder is the JSON request
 *   (`{ op: 'call', toolCallId, name, args }`, then `{ op: 'next', toolCallId }` for each value
 *   after a progress update). The host's answer is JSON: `{ kind: 'update', content, details? }`
 *   (progress: pi's `onUpdate`, then the extension asks for the next value) or
 *   `{ kind: 'result', content, details?, isError?, terminate? }`. A cancelled dialog or an
 *   `isError` result is a tool error.
 * - Structured output: a prompt whose text starts with `<pidriver-run nonce="<nonce>">{json}</pidriver-run>\n`
 *   (checked in pi's `input` hook, stripped before anything else sees the prompt) offers the
 *   result tool it describes (`{ output: { name, description, parameters } }`) for that prompt;
 *   the next prompt without one takes it away. Its calls go to the host like a host tool's.
 *
 * The nonce and the tool list are removed from `process.env` once read, so the agent's bash
 * (which inherits pi's environment) never sees them.
 */
import type {
  ExtensionAPI,
  ExtensionContext,
  ExtensionUIDialogOptions,
  ToolCallEvent,
  InputEvent,
  InputEventResult,
  ToolCallEventResult,
  ToolDefinition,
} from '@mariozechner/pi-coding-agent';

/** The options of the approval `select` (pidriver's classifier and `toUiResponse` rely on them). */
const APPROVE = 'Approve';
const APPROVE_ALWAYS = 'Approve always';
const DENY = 'Deny';
const OPTIONS = [APPROVE, APPROVE_ALWAYS, DENY];

const DEFAULT_GUARDED = 'bash,edit,write';
const ASK_USER = 'ask_user';
const MAX_ARGUMENTS_CHARS = 500;

/** Which tools need approval, from `PIDRIVER_APPROVE`. */
type Guard = (toolName: string) => boolean;

function guardFrom(setting: string | undefined): Guard {
  const value = (setting ?? DEFAULT_GUARDED).trim();
  if (value.toLowerCase() === 'all') return (toolName) => toolName !== ASK_USER && !resultToolNames.has(toolName);
  if (value.toLowerCase() === 'none' || value === '') return () => false;
  const names = new Set(
    value
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
  );
  return (toolName) => names.has(toolName);
}

/** The line under `Allow tool: <name>` that says what the call does. */
function detailOf(event: ToolCallEvent): string {
  const input: Record<string, unknown> = event.input;
  const command = input['command'];
  const path = input['path'];
  if (event.toolName === 'bash' && typeof command === 'string') return `Command: ${command}`;
  if ((event.toolName === 'edit' || event.toolName === 'write') && typeof path === 'string') return `Path: ${path}`;
  const json = JSON.stringify(input) ?? 'null';
  return `Arguments: ${json.length > MAX_ARGUMENTS_CHARS ? `${json.slice(0, MAX_ARGUMENTS_CHARS)}…` : json}`;
}

function titleOf(event: ToolCallEvent): string {
  // The id comes from the model and may be any text: percent-encoded, it can't break the marker
  // line or forge one (a raw `]\n[pidriver toolCallId=<other call>` would point the host at
  // another call). Ordinary ids (`call_…`, `toolu_…`) are unchanged by the encoding.
  return `Allow tool: ${event.toolName}\n${detailOf(event)}\n[pidriver toolCallId=${encodeURIComponent(event.toolCallId)}]`;
}

function dialogOptions(signal: AbortSignal | undefined): ExtensionUIDialogOptions | undefined {
  return signal === undefined ? undefined : { signal };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Asks the host about one guarded tool call.
 *
 * @return `undefined` to let it run, or a block.
 */
async function approve(event: ToolCallEvent, ctx: ExtensionContext, approvedAlways: Set<string>): Promise<ToolCallEventResult | undefined> {
  let choice: string | undefined;
  try {
    choice = await ctx.ui.select(titleOf(event), [...OPTIONS], dialogOptions(ctx.signal));
  } catch (error) {
    return { block: true, reason: `Not approved by the host (approval failed: ${messageOf(error)})` };
  }
  if (choice === APPROVE) return undefined;
  if (choice === APPROVE_ALWAYS) {
    approvedAlways.add(event.toolName);
    return undefined;
  }
  if (typeof choice === 'string' && choice.startsWith(DENY)) {
    const reason = choice.startsWith(`${DENY}: `) ? choice.slice(DENY.length + 2).trim() : '';
    return { block: true, reason: reason || 'Denied by the host' };
  }
  return { block: true, reason: 'Not approved by the host (cancelled)' };
}

/** The JSON schema of `ask_user`'s parameters (pi accepts a plain JSON schema object). */
const ASK_USER_PARAMETERS = {
  type: 'object',
  properties: { question: { type: 'string', description: 'The question to ask the user.' } },
  required: ['question'],
  additionalProperties: false,
} as unknown as ToolDefinition['parameters'];

/**
 * The extension factory pi calls once when it loads the extension.
 *
 * @param pi pi's extension API.
 */
export default function pidriverApproval(pi: ExtensionAPI): void {
  const guarded = guardFrom(process.env['PIDRIVER_APPROVE']);
  const approvedAlways = new Set<string>();

  pi.on('tool_call', async (event, ctx) => {
    try {
      if (!guarded(event.toolName) || approvedAlways.has(event.toolName)) return undefined;
      return await approve(event, ctx, approvedAlways);
    } catch (error) {
      return { block: true, reason: `Not approved by the host (approval failed: ${messageOf(error)})` };
    }
  });

  const nonce = takeEnv('PIDRIVER_NONCE');
  if (nonce !== undefined && nonce !== '') {
    const hostTools = parseToolSpecs(takeEnv('PIDRIVER_HOST_TOOLS'));
    for (const spec of hostTools) pi.registerTool(hostToolDefinition(spec, nonce));
    offerResultTools(pi, nonce);
  }

  // The ask_user tool changes what the model sees, so it is opt-in (client.start({ askTool: true })).
  if (process.env['PIDRIVER_ASK_TOOL'] !== '1') return;
  pi.registerTool({
    name: ASK_USER,
    label: 'Ask user',
    description: 'Ask the user a question and wait for the answer. Use it when you need information only the user has.',
    parameters: ASK_USER_PARAMETERS,
    async execute(_toolCallId, params, signal, _onUpdate, ctx) {
      const question = (params as { question?: unknown } | undefined)?.question;
      if (typeof question !== 'string' || question.trim() === '') throw new Error('ask_user needs a non-empty "question" string');
      const answer = await ctx.ui.input(question, undefined, dialogOptions(signal));
      if (answer === undefined) throw new Error('The user did not answer (cancelled)');
      return { content: [{ type: 'text', text: `User answered: ${answer}` }], details: { question, answer } };
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Host tools and structured output

/** The title of a host-call dialog (followed by a space and the nonce). */
const HOST_CALL_TITLE = 'pidriver:host_call';
/** The run marker a prompt may start with. */
const RUN_MARKER_START = '<pidriver-run nonce="';
const RUN_MARKER_END = '</pidriver-run>\n';

/** A tool as the host describes it (a JSON Schema as its parameters). */
interface ToolSpec {
  readonly name: string;
  readonly label?: string;
  readonly description: string;
  readonly parameters: Record<string, unknown>;
}

/** What the host answers to a host-call dialog. */
interface HostAnswer {
  readonly kind: 'update' | 'result';
  readonly content: ToolContent[];
  readonly details?: unknown;
  readonly isError?: boolean;
  readonly terminate?: boolean;
}
type ToolContent = { type: 'text'; text: string } | { type: 'image'; data: string; mimeType: string };

/** Names of the result tools offered so far: never guarded by `PIDRIVER_APPROVE=all`. */
const resultToolNames = new Set<string>();

/** Reads an environment variable and removes it, so the tools pi spawns don't inherit it. */
function takeEnv(name: string): string | undefined {
  const value = process.env[name];
  delete process.env[name];
  return value;
}

function isToolSpec(value: unknown): value is ToolSpec {
  if (typeof value !== 'object' || value === null) return false;
  const spec = value as Record<string, unknown>;
  return (
    typeof spec['name'] === 'string' &&
    typeof spec['description'] === 'string' &&
    typeof spec['parameters'] === 'object' &&
    spec['parameters'] !== null &&
    (spec['label'] === undefined || typeof spec['label'] === 'string')
  );
}

function parseToolSpecs(json: string | undefined): ToolSpec[] {
  if (json === undefined || json === '') return [];
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed) || !parsed.every(isToolSpec)) throw new Error('pidriver: PIDRIVER_HOST_TOOLS is not a list of tool specs');
  return parsed;
}

/** Asks the host once; `undefined` when the dialog was cancelled (an abort, a closed session). */
async function askHostOnce(ctx: ExtensionContext, nonce: string, request: object, signal: AbortSignal | undefined): Promise<HostAnswer | undefined> {
  const value = await ctx.ui.input(`${HOST_CALL_TITLE} ${nonce}`, JSON.stringify(request), dialogOptions(signal));
  if (value === undefined) return undefined;
  const answer = JSON.parse(value) as HostAnswer;
  if ((answer.kind !== 'update' && answer.kind !== 'result') || !Array.isArray(answer.content)) throw new Error('pidriver: malformed host answer');
  return answer;
}

function textOf(content: readonly ToolContent[]): string {
  return content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

/** A pi tool whose calls run in the host. */
function hostToolDefinition(spec: ToolSpec, nonce: string): ToolDefinition {
  return {
    name: spec.name,
    label: spec.label ?? spec.name,
    description: spec.description,
    parameters: spec.parameters,
    async execute(toolCallId, params, signal, onUpdate, ctx) {
      let answer = await askHostOnce(ctx, nonce, { op: 'call', toolCallId, name: spec.name, args: params ?? {} }, signal);
      while (answer?.kind === 'update') {
        onUpdate?.({ content: answer.content, details: answer.details });
        answer = await askHostOnce(ctx, nonce, { op: 'next', toolCallId }, signal);
      }
      if (answer === undefined) throw new Error(`${spec.name} was cancelled`);
      if (answer.isError === true) throw new Error(textOf(answer.content) || `${spec.name} failed`);
      return { content: answer.content, details: answer.details, ...(answer.terminate === true ? { terminate: true } : {}) };
    },
  };
}

/**
 * The `input` hook: a prompt that starts with the run marker (and this pi's nonce) offers the
 * result tool it describes; any other prompt takes the last one away.
 */
function offerResultTools(pi: ExtensionAPI, nonce: string): void {
  let offered: string | undefined;
  const withdraw = (): void => {
    if (offered === undefined) return;
    const name = offered;
    offered = undefined;
    pi.setActiveTools(pi.getActiveTools().filter((tool) => tool !== name));
  };
  pi.on('input', (event: InputEvent): InputEventResult => {
    const start = `${RUN_MARKER_START}${nonce}">`;
    if (event.source !== 'rpc' || !event.text.startsWith(start)) {
      withdraw();
      return { action: 'continue' };
    }
    const end = event.text.indexOf(RUN_MARKER_END, start.length);
    if (end < 0) return { action: 'continue' };
    const run = JSON.parse(event.text.slice(start.length, end)) as { output?: unknown };
    const text = event.text.slice(end + RUN_MARKER_END.length);
    withdraw();
    if (isToolSpec(run.output)) {
      const spec = run.output;
      resultToolNames.add(spec.name);
      pi.registerTool(hostToolDefinition(spec, nonce));
      if (!pi.getActiveTools().includes(spec.name)) pi.setActiveTools([...pi.getActiveTools(), spec.name]);
      offered = spec.name;
    }
    return { action: 'transform', text, ...(event.images ? { images: event.images } : {}) };
  });
}
