/**
 * Reading a chat-completions request: the conversation the scenarios need, the headers, the body.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { OUTPUT_TOOL_NAME } from '../../tools/outputTool.js';

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function messagesOf(body: unknown): readonly JsonObject[] {
  const messages = isObject(body) ? body['messages'] : undefined;
  return Array.isArray(messages) ? messages.filter(isObject) : [];
}

/** Text of a message content: a string, or an array of `{type:'text', text}` parts. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter(isObject)
    .map((part) => (part['type'] === 'text' && typeof part['text'] === 'string' ? part['text'] : ''))
    .filter((text) => text.length > 0)
    .join('\n');
}

export function toolNamesOf(body: unknown): readonly string[] {
  const tools = isObject(body) ? body['tools'] : undefined;
  if (!Array.isArray(tools)) return [];
  return tools.filter(isObject).flatMap((tool) => {
    const fn = tool['function'];
    return isObject(fn) && typeof fn['name'] === 'string' ? [fn['name']] : [];
  });
}

/** The scenario token: a name plus optional numeric parameters (`slow:10:5`). */
const SCENARIO_TOKEN = /\bscenario:([A-Za-z0-9][\w-]*(?::\d+)*)/;

/** Everything the scenarios need from a request body, derived without server state. */
interface Conversation {
  readonly roles: readonly string[];
  readonly lastUserText: string;
  readonly toolResults: readonly string[];
  readonly scenario: string;
  readonly scenarioText: string;
}

/** pidriver's structured-output follow-up ("…call the submit_result tool now…"): it names the result tool and has no scenario token. */
export function isResultFollowUp(userText: string): boolean {
  return userText.includes(OUTPUT_TOOL_NAME) && !SCENARIO_TOKEN.test(userText);
}

export function readConversation(body: unknown): Conversation {
  const messages = messagesOf(body);
  const roles = messages.map((message) => String(message['role']));
  const lastUser = roles.lastIndexOf('user');
  const lastUserText = lastUser < 0 ? '' : textOf(messages[lastUser]?.['content']);
  const toolResults = messages
    .slice(lastUser + 1)
    .filter((message) => message['role'] === 'tool')
    .map((message) => textOf(message['content']));
  // pidriver's structured-output follow-up ("…call the submit_result tool now…") carries no token:
  // the scenario is the one of the user message before it.
  const followUp = isResultFollowUp(lastUserText);
  const source = followUp
    ? (messages
        .filter((message) => message['role'] === 'user')
        .map((message) => textOf(message['content']))
        .findLast((text) => SCENARIO_TOKEN.test(text)) ?? '')
    : lastUserText;
  const scenario = SCENARIO_TOKEN.exec(source)?.[1] ?? 'text';
  return { roles, lastUserText, toolResults, scenario, scenarioText: source };
}

export function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

export function parseJson(text: string): { readonly ok: true; readonly value: unknown } | { readonly ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}
