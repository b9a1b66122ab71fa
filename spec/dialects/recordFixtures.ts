/**
 * Records the transcripts in `spec/fixtures/transcripts/` from real runs against the bundled
 * fake LLM, with `recordTranscript()`:
 *
 * - `pi1-*`: pi 1.x (`@earendil-works/pi-coding-agent`, run under Bun), the same scenarios as
 *   the shared pi 0.73 / omp recordings of the same name;
 * - `pi-p-approval-*`: pi 0.73 with pidriver's approval extension, the twin of the shared
 *   `omp-p-approval-*` (omp's built-in approvals);
 * - `omp-i-*`: omp 18.2.3 (run under Bun) only, what the other dialects lack: its subagents.
 *
 * Run it by hand (it installs pi 1.x and omp into the e2e cache first, as the filter needs):
 * `npx tsx spec/dialects/recordFixtures.ts [name-filter]`. The goldens then need
 * `UPDATE_GOLDEN=1 npx vitest run spec/testing/transcripts.spec.ts`.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import { PiConfig, type PiConfigInput } from '../../src/config/PiConfig.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiClient, type StartOptions } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { startFakePiEnv, type FakePiEnv, type FakePiEnvOptions } from '../../src/testing/fakePiEnv.js';
import { recordTranscript } from '../../src/testing/recordTranscript.js';
import { installPi, type PiKind } from './installPi.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(repo, 'spec', 'fixtures', 'transcripts');

interface Scenario {
  readonly name: string;
  readonly config?: PiConfigInput;
  readonly start?: Omit<StartOptions, 'cwd'>;
  /** The fake environment (omp's settings go to its `config.yml`). */
  readonly env?: FakePiEnvOptions;
  readonly run: (session: PiSession, env: FakePiEnv) => Promise<void>;
}

const nth = (session: PiSession, type: PiEvent['type'], count = 1) =>
  firstValueFrom(
    session.events$.pipe(
      filter((event) => event.type === type),
      take(count),
      toArray(),
    ),
  );

const answerNext = async (session: PiSession, value: boolean | string) => {
  const [request] = await nth(session, 'interaction_request');
  if (request?.type === 'interaction_request') await session.respond(request.requestId, value);
};

/** The scenarios of the shared pi 0.73 / omp recordings of the same name, driven through a session. */
const common: readonly Scenario[] = [
  { name: 'a-startup', run: () => Promise.resolve() },
  { name: 'b-text', run: async (session) => void (await session.prompt('scenario:text Say hello')) },
  {
    name: 'b-thinking',
    config: { model: 'fake-think', thinking: 'medium' },
    run: async (session) => void (await session.prompt('scenario:think What is the answer?')),
  },
  { name: 'c-tool-bash', run: async (session) => void (await session.prompt('scenario:tool-bash please')) },
  {
    name: 'd-abort',
    run: async (session) => {
      const run = session.prompt('scenario:slow stream slowly');
      await nth(session, 'message_delta', 3);
      await session.abort();
      await run;
      await session.getState();
      await session.prompt('scenario:text after abort');
      await session.getMessages();
    },
  },
  {
    name: 'e-stats-messages',
    run: async (session) => {
      await session.prompt('scenario:tool-bash please');
      await session.getStats();
      await session.getMessages();
      for (const type of ['get_last_assistant_text', 'get_state', 'get_fork_messages', 'get_commands', 'get_available_models']) await session.command(type);
    },
  },
  {
    name: 'g-bad-input',
    run: async (session) => {
      // A session writes only JSON commands: the unknown one, and the ones pi refuses.
      await session.command('frobnicate').catch(() => undefined);
      await session.command('set_model', { provider: 'nope', modelId: 'x' }).catch(() => undefined);
      await session.command('set_thinking_level', { level: 'bogus' }).catch(() => undefined);
      await session.command('get_state');
    },
  },
  { name: 'g-http401', run: async (session) => void (await session.prompt('scenario:http401 auth')) },
  {
    name: 'c-steer',
    run: async (session) => {
      const run = session.prompt('scenario:slow:20:30 first');
      await nth(session, 'message_delta', 2);
      await session.steer('scenario:text steer me');
      await session.followUp('scenario:text and then this');
      await run;
    },
  },
];

const approvals: readonly Scenario[] = [
  {
    name: 'p-approval-approve',
    start: { approve: ['bash'] },
    run: async (session) => {
      const run = session.prompt('scenario:tool-bash please');
      await answerNext(session, 'Approve');
      await run;
    },
  },
  {
    name: 'p-approval-deny',
    start: { approve: ['bash'] },
    run: async (session) => {
      const run = session.prompt('scenario:tool-bash please');
      await answerNext(session, 'Deny');
      await run;
    },
  },
];

/** omp only: what the other dialects lack. */
const ompOnly: readonly Scenario[] = [
  {
    // omp's `task` tool spawns a subagent; with `async.enabled` off the call waits for it (one run),
    // and `get_subagents` is asked while it runs (its replies are 40 ms a delta).
    name: 'i-subagent',
    env: { settings: { async: { enabled: false } } },
    run: async (session) => {
      const run = session.prompt('scenario:subagent:40 please');
      await nth(session, 'subagent_lifecycle');
      await session.command('get_subagents');
      await run;
    },
  },
];

async function record(prefix: string, scenario: Scenario, base: PiConfigInput): Promise<void> {
  const name = `${prefix}-${scenario.name}`;
  await using env = await startFakePiEnv(scenario.env);
  const path = join(OUT, `${name}.jsonl`);
  const recording = recordTranscript(path, { normalize: { replace: [[repo, '<repo>']] } });
  // pi's temp files (omp's subagent sessions) go inside the env, removed with it.
  const extraEnv = { ...env.config.extraEnv, TMPDIR: env.home };
  const config = PiConfig.parse({ ...env.config.toInput(), extraEnv, ...base, ...scenario.config });
  const client = new PiClient({ config, transportFactory: recording.transportFactory });
  const session = await client.start({ cwd: env.cwd, approve: 'none', ...scenario.start });
  try {
    await scenario.run(session, env);
  } finally {
    await session.close();
    await recording.close();
  }
  console.log(`recorded ${name}: ${recording.count} records (${session.capabilities.dialect} ${session.capabilities.version ?? '?'})`);
}

const only = process.argv[2];
const wanted = (prefix: string, scenarios: readonly Scenario[]): Scenario[] =>
  scenarios.filter((scenario) => !only || `${prefix}-${scenario.name}`.includes(only));
/** Installs `kind` (once, into the e2e cache) and runs it with the Bun beside it. */
const installed = async (kind: PiKind): Promise<PiConfigInput> => {
  const pi = await installPi(kind);
  if ('skip' in pi) throw new Error(pi.skip);
  // omp has no `--offline` flag: `offline: true` would be a PiConfigError.
  return { binary: pi.binary, runtime: pi.runtime, ...(kind === 'omp' ? { offline: false } : {}) };
};
mkdirSync(OUT, { recursive: true });
const groups: [string, Scenario[], () => Promise<PiConfigInput>][] = [
  ['pi1', wanted('pi1', [...common, ...approvals]), () => installed('pi1')],
  ['pi', wanted('pi', approvals), () => Promise.resolve({})],
  ['omp', wanted('omp', ompOnly), () => installed('omp')],
];
for (const [prefix, scenarios, base] of groups) {
  if (scenarios.length === 0) continue;
  const config = await base();
  for (const scenario of scenarios) await record(prefix, scenario, config);
}
