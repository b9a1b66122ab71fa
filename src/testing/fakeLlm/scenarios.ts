/**
 * The fake LLM's built-in scenarios: the reply to a request, chosen from the request alone.
 */
import { OUTPUT_TOOL_NAME } from '../../tools/outputTool.js';
import { isResultFollowUp } from './requests.js';
import type { FakeLlmRequest, FakeReply } from './types.js';

const DEFAULT_TEXT = ['Hello', ' from', ' the', ' fake', ' LLM.'] as const;
const SLOW_DEFAULTS = { count: 60, intervalMs: 100 } as const;
const LONG_DEFAULT_COUNT = 1000;
const ECHO_DEFAULT_PARTS = 4;
const HTTP_SCENARIOS: Readonly<Record<string, number>> = { http500: 500, http401: 401, http429: 429, http400: 400 };

type ScenarioFn = (request: FakeLlmRequest, params: readonly number[]) => FakeReply;

/** Scenarios whose step 0 calls a tool; their later steps echo the tool results. */
const TOOL_SCENARIOS: ReadonlyMap<string, ScenarioFn> = new Map<string, ScenarioFn>([
  [
    'tool-bash',
    (request) => ({
      text: 'Running it.',
      toolCalls: [{ id: 'call_bash_1', name: 'bash', arguments: { command: override(request, 'cmd') ?? 'echo hi' } }],
    }),
  ],
  [
    'tool-read',
    (request) => ({
      toolCalls: [{ id: 'call_read_1', name: 'read', arguments: { path: override(request, 'path') ?? 'hello.txt' } }],
    }),
  ],
  [
    'tool-two',
    // The sleep makes call_b finish after call_a, as in the recorded parallel run.
    () => ({
      toolCalls: [
        { id: 'call_a', name: 'bash', arguments: { command: 'echo a' } },
        { id: 'call_b', name: 'bash', arguments: { command: 'sleep 0.2; echo b' } },
      ],
    }),
  ],
  ['tool-ask', () => ({ toolCalls: [{ id: 'call_ask_1', name: 'ask_user', arguments: { question: 'Favourite colour?' } }] })],
  [
    'tool-call',
    (request) => ({ toolCalls: [{ id: 'call_tool_1', name: override(request, 'tool') ?? 'bash', arguments: jsonOverride(request, 'args') ?? {} }] }),
  ],
]);

/** Scenarios that call a tool at every step, or decide by step themselves. */
const STEP_SCENARIOS: ReadonlyMap<string, ScenarioFn> = new Map<string, ScenarioFn>([
  // Never stops calling the tool: for run limits.
  [
    'tool-loop',
    (request) => ({
      toolCalls: [
        {
          id: `call_loop_${request.step + 1}`,
          name: override(request, 'tool') ?? 'bash',
          arguments: jsonOverride(request, 'args') ?? { command: 'echo loop' },
        },
      ],
    }),
  ],
  // Structured output: submits [[args:…]] at once.
  ['result', (request) => (request.step === 0 ? resultCall(request, 'args', 1) : { text: 'Done.' })],
  // Submits [[bad:…]] first, then [[args:…]] after the tool error.
  ['result-retry', (request) => (request.step === 0 ? resultCall(request, 'bad', 1) : request.step === 1 ? resultCall(request, 'args', 2) : { text: 'Done.' })],
  // Answers in prose; submits [[args:…]] only when pidriver asks again.
  [
    'result-prose',
    (request) =>
      !isResultFollowUp(request.lastUserText)
        ? { text: 'It is Paris, with about two million people.' }
        : request.step === 0
          ? resultCall(request, 'args', 1)
          : { text: 'Done.' },
  ],
  // Never gets it right: submits [[bad:…]] at every step.
  ['result-never', (request) => resultCall(request, 'bad', request.step + 1)],
  // omp's subagents: the parent calls omp's `task` tool, whose task carries this scenario on to
  // the subagent; a request that offers omp's `yield` tool is the subagent's, and it answers in a
  // few deltas (MS apart) and yields them (a subagent that never yields is reminded three times).
  ['subagent', (request, [delayMs = 0]) => (request.tools.includes(SUBAGENT_YIELD_TOOL) ? subagentReply(request, delayMs) : subagentParent(request))],
]);

const SUBAGENT_YIELD_TOOL = 'yield';
const SUBAGENT_TEXT = ['Hello ', 'from ', 'the ', 'subagent.'] as const;

/** The parent's side: step 0 calls `task` (`[[task:…]]` overrides the task); then it echoes the result. */
function subagentParent(request: FakeLlmRequest): FakeReply {
  if (request.step > 0) return toolResultsReply(request);
  const task = override(request, 'task') ?? `scenario:${request.scenario} Say hello.`;
  return { toolCalls: [{ id: 'call_task_1', name: 'task', arguments: { agent: 'task', task } }] };
}

/** The subagent's side: text, then `yield` with that text as its result; after that, a last word. */
function subagentReply(request: FakeLlmRequest, delayMs: number): FakeReply {
  if (request.step > 0) return { text: 'Done.' };
  return {
    text: SUBAGENT_TEXT,
    delayMs,
    toolCalls: [{ id: 'call_yield_1', name: SUBAGENT_YIELD_TOOL, arguments: { data: SUBAGENT_TEXT.join('') } }],
  };
}

function resultCall(request: FakeLlmRequest, key: string, index: number): FakeReply {
  return { toolCalls: [{ id: `call_result_${index}`, name: OUTPUT_TOOL_NAME, arguments: jsonOverride(request, key) ?? {} }] };
}

const PLAIN_SCENARIOS: ReadonlyMap<string, ScenarioFn> = new Map<string, ScenarioFn>([
  ['text', (request) => ({ text: textOverride(request) ?? DEFAULT_TEXT })],
  ['think', () => ({ thinking: ['Let me ', 'think about ', 'this.'], text: ['The answer ', 'is 42.'] })],
  [
    'slow',
    (_request, [count = SLOW_DEFAULTS.count, intervalMs = SLOW_DEFAULTS.intervalMs]) => ({
      text: Array.from({ length: count }, (_, i) => `w${i} `),
      delayMs: intervalMs,
    }),
  ],
  ['long', (_request, [count = LONG_DEFAULT_COUNT]) => ({ text: Array.from({ length: count }, (_, i) => sixChars(i)) })],
  // pi's retries resend the same request, so `attempt` tells a first try from a retry without server state.
  ['flaky500', (request) => (request.attempt === 1 ? { status: 500 } : { text: DEFAULT_TEXT })],
  // Replies with the last user message itself, so a test can check a prompt survived both hops
  // (host → pi → LLM and back) byte for byte. Few deltas: pi 0.73 resends the whole partial
  // message with every delta, so a 1 MB echo in many deltas would be quadratic on its stdout.
  ['echo', (request, [parts = ECHO_DEFAULT_PARTS]) => ({ text: splitEvenly(request.lastUserText, parts) })],
  ['cut', () => ({ text: ['This will ', 'be cut'], cutAfter: 2 })],
  ['length', () => ({ text: 'Truncated answ', finishReason: 'length' })],
  ['hang', () => ({ hang: true })],
  ...Object.entries(HTTP_SCENARIOS).map(([name, status]): [string, ScenarioFn] => [name, () => ({ status })]),
]);

/**
 * The built-in scenario table: the reply the fake server sends when no `script` overrides it.
 *
 * The scenario comes from `request.scenario` (`text`, `think`, `tool-bash`, `tool-read`, `tool-two`,
 * `tool-ask`, `tool-call` (`[[tool:NAME]]` with `[[args:{json}]]`), `tool-loop` (calls that tool at
 * every step, forever), `subagent[:MS]` (omp: calls its `task` tool; the subagent's requests, which
 * offer omp's `yield` tool, get `Hello from the subagent.` in deltas MS apart and a `yield` of it;
 * `[[task:…]]` overrides the task), the structured-output ones `result` (submits `[[args:…]]`), `result-retry`
 * (`[[bad:…]]` first, then `[[args:…]]`), `result-prose` (prose, then `[[args:…]]` when asked
 * again), `result-never` (`[[bad:…]]` at every step), `slow[:N[:MS]]`, `long[:N]`, `echo[:N]`, `http500`, `http401`, `http429`, `http400`,
 * `flaky500`, `cut`, `length`, `hang`). `echo[:N]` replies with the last user message itself, in
 * at most N deltas (default 4). Tool scenarios at step ≥ 1 reply `Tool said: ` + the JSON array of the
 * tool results. Overrides in the user text: `[[cmd:…]]` (tool-bash command), `[[path:…]]` (tool-read
 * path), `[[text:…]]` (text reply); the word `noretry` adds `x-should-retry: false`. An unknown
 * scenario replies with a text naming it. Exported so a `script` can delegate or compose.
 *
 * @param request The request as the server parsed it.
 * @return The reply to send.
 */
export function scenarioReply(request: FakeLlmRequest): FakeReply {
  const reply = baseScenarioReply(request);
  return /\bnoretry\b/i.test(request.lastUserText) ? { ...reply, noRetry: true } : reply;
}

function baseScenarioReply(request: FakeLlmRequest): FakeReply {
  const [name = 'text', ...rawParams] = request.scenario.split(':');
  const params = rawParams.map(Number);
  const stepScenario = STEP_SCENARIOS.get(name);
  if (stepScenario !== undefined) return stepScenario(request, params);
  const toolScenario = TOOL_SCENARIOS.get(name);
  if (toolScenario !== undefined) {
    return request.step === 0 ? toolScenario(request, params) : toolResultsReply(request);
  }
  const scenario = PLAIN_SCENARIOS.get(name);
  return scenario === undefined ? { text: `Unknown fake scenario "${name}".` } : scenario(request, params);
}

/** The reply after tool results: lets a test read back exactly what the tool returned. */
function toolResultsReply(request: FakeLlmRequest): FakeReply {
  return { text: ['Tool said: ', JSON.stringify(request.toolResults)] };
}

/** The text between `[[<key>:` and the next `]]` in the scenario's user message. */
function override(request: FakeLlmRequest, key: string): string | undefined {
  const text = request.scenarioText;
  const start = text.indexOf(`[[${key}:`);
  if (start < 0) return undefined;
  const from = start + key.length + 3;
  const end = text.indexOf(']]', from);
  return end < 0 ? undefined : text.slice(from, end);
}

/** `[[<key>:{json}]]` parsed (`undefined` when absent or not a JSON object). */
function jsonOverride(request: FakeLlmRequest, key: string): Record<string, unknown> | undefined {
  const text = override(request, key);
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** `[[text:…]]` split into word deltas (each whitespace starts a new delta), so it still streams. */
function textOverride(request: FakeLlmRequest): readonly string[] | undefined {
  const text = override(request, 'text');
  return text === undefined ? undefined : text.split(/(?=\s)/).filter((delta) => delta.length > 0);
}

/**
 * `text` cut into at most `parts` deltas of about equal length, never inside a surrogate pair
 * (a lone surrogate would not survive the JSON hops intact).
 */
function splitEvenly(text: string, parts: number): readonly string[] {
  const count = Math.max(1, Math.min(Math.floor(parts) || 1, text.length));
  const pieces: string[] = [];
  let start = 0;
  for (let index = 1; index <= count && start < text.length; index++) {
    let end = index === count ? text.length : Math.max(start + 1, Math.round((text.length * index) / count));
    if (end < text.length && isLowSurrogate(text.charCodeAt(end))) end++;
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** A 6-character delta (`00042 `), so `long:N` replies have a predictable size. */
function sixChars(i: number): string {
  return `${String(i % 100_000).padStart(5, '0')} `;
}
