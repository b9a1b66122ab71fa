/**
 * Records the transcripts in `spec/fixtures/transcripts/` from real runs against the bundled
 * fake LLM, with `recordTranscript()`:
 *
 * - `pi1-*`: pi 1.x (`@earendil-works/pi-coding-agent`, run under Bun), the same scenarios as
 *   the shared pi 0.73 / omp recordings of the same name;
 * - `pi-p-approval-*`: pi 0.73 with pidriver's approval extension, the twin of the shared
 *   `omp-p-approval-*` (omp's built-in approvals).
 *
 * Run it by hand (it installs pi 1.x into the e2e cache first):
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
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import { recordTranscript } from '../../src/testing/recordTranscript.js';
import { installPi } from './installPi.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(repo, 'spec', 'fixtures', 'transcripts');

interface Scenario {
  readonly name: string;
  readonly config?: PiConfigInput;
  readonly start?: Omit<StartOptions, 'cwd'>;
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

async function record(prefix: string, scenario: Scenario, base: PiConfigInput): Promise<void> {
  const name = `${prefix}-${scenario.name}`;
  await using env = await startFakePiEnv();
  const path = join(OUT, `${name}.jsonl`);
  const recording = recordTranscript(path, { normalize: { replace: [[repo, '<repo>']] } });
  const config = PiConfig.parse({ ...env.config.toInput(), ...base, ...scenario.config });
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
mkdirSync(OUT, { recursive: true });
const pi1 = await installPi('pi1');
if ('skip' in pi1) throw new Error(pi1.skip);
const plans: [string, Scenario, PiConfigInput][] = [
  ...[...common, ...approvals].map((scenario): [string, Scenario, PiConfigInput] => ['pi1', scenario, { binary: pi1.binary, runtime: pi1.runtime }]),
  ...approvals.map((scenario): [string, Scenario, PiConfigInput] => ['pi', scenario, {}]),
];
for (const [prefix, scenario, base] of plans) {
  if (only && !`${prefix}-${scenario.name}`.includes(only)) continue;
  await record(prefix, scenario, base);
}
