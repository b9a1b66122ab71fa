/**
 * "The same user code": one app-like program (prompts, a tool approved and one denied by a
 * policy, an abort, a steer, a reply over omp's 1 MiB frame limit, stats) that the dialect e2e
 * suites run unchanged against pi 0.73, omp and pi 1.x. Only the config differs (which binary);
 * every suite must produce {@link EXPECTED_REPORT}.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { filter, firstValueFrom, lastValueFrom, shareReplay, take, toArray, type Observable } from 'rxjs';
import type { PiConfig, PiConfigInput } from '../../src/config/PiConfig.js';
import { autoApprove } from '../../src/policies/autoApprove.js';
import { chain } from '../../src/policies/chain.js';
import { denyTools } from '../../src/policies/denyTools.js';
import type { Policy } from '../../src/policies/types.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import type { TransportFactory } from '../../src/transport/PiTransport.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import { eventView } from './eventView.js';

/** Bigger than omp's 1 MiB line limit, so on omp it travels as protocol-v2 chunks. */
export const BIG_REPLY_CHARS = 1_200_000;

/**
 * A reply of {@link BIG_REPLY_CHARS} characters in one delta. Counters, not one repeated
 * character: omp treats a long exact cycle as a "thinking loop" and retries.
 */
export const BIG_REPLY = Array.from({ length: BIG_REPLY_CHARS / 8 }, (_, index) => `${String(index).padStart(7, '0')} `).join('');

/**
 * The fake LLM for the user code: the built-in scenarios, plus `scenario:big` (one huge delta).
 * The models get a 10M-token context window, so the big reply doesn't trigger a compaction
 * (omp estimates tokens from the text; the fake's 100k window would be full).
 */
export async function startUserCodeEnv(config: PiConfigInput = {}): Promise<FakePiEnv> {
  const env = await startFakePiEnv({
    config,
    llm: { script: (request) => (request.scenario === 'big' ? { text: [BIG_REPLY] } : undefined) },
  });
  for (const file of ['models.json', 'models.yml']) {
    const path = join(env.agentDir, file);
    await writeFile(path, (await readFile(path, 'utf8')).replaceAll('"contextWindow": 100000', '"contextWindow": 10000000'));
  }
  return env;
}

/** The app's policy: never run a `forbidden` command, approve everything else. */
export const userPolicy: Policy = chain(
  denyTools((tool, request) => {
    const command = request.args?.['command'];
    return tool === 'bash' && typeof command === 'string' && command.includes('forbidden');
  }),
  autoApprove(),
);

/** What the user code saw, dialect-neutral (see {@link eventView}). */
export interface UserCodeReport {
  readonly steps: Readonly<Record<string, unknown>>;
  readonly stats: { readonly userMessages: boolean; readonly tokens: boolean };
}

const until = (events$: Observable<PiEvent>, type: PiEvent['type'], count: number) =>
  firstValueFrom(
    events$.pipe(
      filter((event) => event.type === type),
      take(count),
      toArray(),
    ),
  );

/** Runs the user code on one session of `config` (cwd: the env's) and reports what it saw. */
export async function runUserCode(
  config: PiConfig,
  cwd: string,
  options: { readonly transportFactory?: TransportFactory } = {},
): Promise<{ report: UserCodeReport; session: PiSession }> {
  const client = new PiClient({ config, policy: userPolicy, approve: ['bash'], ...options });
  const session = await client.start({ cwd });
  const steps: Record<string, unknown> = {};
  try {
    const run = async (name: string, text: string, during?: (run$: Observable<PiEvent>) => Promise<void>) => {
      // One prompt, watched twice: by `during` (which acts on it) and for the report.
      const run$ = session.prompt$(text).pipe(shareReplay({ bufferSize: Number.POSITIVE_INFINITY, refCount: false }));
      const events = lastValueFrom(run$.pipe(toArray()));
      await during?.(run$);
      steps[name] = eventView(await events);
    };
    await run('text', 'scenario:text Say hello');
    await run('tool approved', 'scenario:tool-bash [[cmd:echo same-code]]');
    await run('tool denied', 'scenario:tool-bash [[cmd:echo forbidden]]');
    await run('abort', 'scenario:slow:200:20 go', async (run$) => {
      await until(run$, 'message_delta', 2);
      await session.abort();
    });
    await run('steer', 'scenario:slow:40:20 first', async (run$) => {
      await until(run$, 'message_delta', 2);
      await session.steer('scenario:text steered');
    });
    await run('big reply', 'scenario:big');
    const stats = await session.getStats();
    return { report: { steps, stats: { userMessages: (stats.userMessages ?? 0) >= 6, tokens: (stats.tokens?.total ?? 0) > 0 } }, session };
  } catch (error) {
    await session.close();
    throw error;
  }
}

const text = (...rest: Record<string, unknown>[]) => [{ type: 'agent_start' }, { type: 'turn_start' }, ...rest];

const toolRun = (command: string, isError: boolean) =>
  text(
    { type: 'user_message', text: `scenario:tool-bash [[cmd:${command}]]` },
    { type: 'message_delta', channel: 'assistant', text: 'Running it.' },
    { type: 'message_complete', channel: 'assistant', stopReason: 'toolUse', text: 'Running it.' },
    { type: 'usage' },
    { type: 'interaction_request', kind: 'permission', toolName: 'bash', approve: true },
    { type: 'tool_start', name: 'bash' },
    ...(isError ? [] : [{ type: 'tool_update', name: 'bash' }]),
    { type: 'tool_end', name: 'bash', isError },
    { type: 'turn_end' },
    { type: 'turn_start' },
    { type: 'message_delta', channel: 'assistant', text: 'Tool said: …' },
    { type: 'message_complete', channel: 'assistant', stopReason: 'stop', text: 'Tool said: …' },
    { type: 'usage' },
    { type: 'turn_end' },
    { type: 'agent_end', reason: 'completed', text: 'Tool said: …' },
  );

const HELLO = 'Hello from the fake LLM.';

/** What every dialect must report. */
export const EXPECTED_REPORT: UserCodeReport = {
  steps: {
    text: text(
      { type: 'user_message', text: 'scenario:text Say hello' },
      { type: 'message_delta', channel: 'assistant', text: HELLO },
      { type: 'message_complete', channel: 'assistant', stopReason: 'stop', text: HELLO },
      { type: 'usage' },
      { type: 'turn_end' },
      { type: 'agent_end', reason: 'completed', text: HELLO },
    ),
    'tool approved': toolRun('echo same-code', false),
    'tool denied': toolRun('echo forbidden', true),
    abort: text(
      { type: 'user_message', text: 'scenario:slow:200:20 go' },
      { type: 'message_delta', channel: 'assistant', text: '<text streamed before the abort>' },
      { type: 'message_complete', channel: 'assistant', stopReason: 'aborted', text: '<text streamed before the abort>' },
      { type: 'turn_end' },
      { type: 'agent_end', reason: 'cancelled', text: '<text streamed before the abort>' },
    ),
    steer: text(
      { type: 'user_message', text: 'scenario:slow:40:20 first' },
      { type: 'message_delta', channel: 'assistant', text: Array.from({ length: 40 }, (_, i) => `w${i} `).join('') },
      { type: 'message_complete', channel: 'assistant', stopReason: 'stop', text: Array.from({ length: 40 }, (_, i) => `w${i} `).join('') },
      { type: 'usage' },
      { type: 'turn_end' },
      { type: 'turn_start' },
      { type: 'user_message', text: 'scenario:text steered' },
      { type: 'message_delta', channel: 'assistant', text: HELLO },
      { type: 'message_complete', channel: 'assistant', stopReason: 'stop', text: HELLO },
      { type: 'usage' },
      { type: 'turn_end' },
      { type: 'agent_end', reason: 'completed', text: HELLO },
    ),
    'big reply': text(
      { type: 'user_message', text: 'scenario:big' },
      { type: 'message_delta', channel: 'assistant', text: `<${BIG_REPLY_CHARS} chars: ${BIG_REPLY.slice(0, 20)}…>` },
      { type: 'message_complete', channel: 'assistant', stopReason: 'stop', text: `<${BIG_REPLY_CHARS} chars: ${BIG_REPLY.slice(0, 20)}…>` },
      { type: 'usage' },
      { type: 'turn_end' },
      { type: 'agent_end', reason: 'completed', text: `<${BIG_REPLY_CHARS} chars: ${BIG_REPLY.slice(0, 20)}…>` },
    ),
  },
  stats: { userMessages: true, tokens: true },
};
