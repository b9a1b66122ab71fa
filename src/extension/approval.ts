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
 */
import type {
  ExtensionAPI,
  ExtensionContext,
  ExtensionUIDialogOptions,
  ToolCallEvent,
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
  if (value.toLowerCase() === 'all') return (toolName) => toolName !== ASK_USER;
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
