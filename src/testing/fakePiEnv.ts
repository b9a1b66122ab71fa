import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PiConfig, type PiConfigInput } from '../config/PiConfig.js';
import { FAKE_MODEL, FAKE_PROVIDER, writeFakeAgentDir, type FakeAgentDirOptions } from './fakeAgentDir.js';
import { startFakeLlm } from './fakeLlm/startFakeLlm.js';
import type { FakeLlm, FakeLlmOptions } from './fakeLlm/types.js';

export interface FakePiEnvOptions {
  /** Passed to {@link startFakeLlm} (e.g. a `script`). */
  readonly llm?: FakeLlmOptions;
  /** pi retry settings; default `{ baseDelayMs: 50 }`. */
  readonly retry?: FakeAgentDirOptions['retry'];
  /** Extra pi `settings.json` content. */
  readonly settings?: Record<string, unknown>;
  /** Overrides merged into the returned config. */
  readonly config?: PiConfigInput;
  /** Files to create in the working directory (name → content). */
  readonly files?: Readonly<Record<string, string>>;
}

/** Everything a test needs to run a real pi offline: the fake LLM, a private agent dir, a cwd. */
export interface FakePiEnv extends AsyncDisposable {
  readonly llm: FakeLlm;
  readonly agentDir: string;
  /** A fresh working directory for pi. */
  readonly cwd: string;
  /** A private HOME, so nothing touches the real one. */
  readonly home: string;
  /** Provider `fake`, model `fake-1`, the private agent dir and HOME, offline. */
  readonly config: PiConfig;
  /** Stops the fake LLM and deletes the temporary directories. */
  close(): Promise<void>;
}

/**
 * Starts the bundled fake LLM and writes a pi agent directory pointing at it, so a real `pi`
 * runs with no network and no API key.
 *
 * ```ts
 * await using env = await startFakePiEnv();
 * const client = new PiClient({ config: env.config });
 * const session = await client.start({ cwd: env.cwd, task: 'scenario:tool-bash [[cmd:ls]]' });
 * ```
 */
export async function startFakePiEnv(options: FakePiEnvOptions = {}): Promise<FakePiEnv> {
  const llm = await startFakeLlm(options.llm);
  const root = await mkdtemp(join(tmpdir(), 'pidriver-env-'));
  const agentDir = await writeFakeAgentDir({
    baseUrl: llm.url,
    dir: join(root, 'agent'),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.settings ? { settings: options.settings } : {}),
  });
  const cwd = join(root, 'work');
  const home = join(root, 'home');
  await mkdir(cwd, { recursive: true });
  await mkdir(home, { recursive: true });
  for (const [name, content] of Object.entries(options.files ?? {})) await writeFile(join(cwd, name), content);
  const base: PiConfigInput = {
    provider: FAKE_PROVIDER,
    model: FAKE_MODEL,
    agentDir,
    offline: true,
    extraEnv: { HOME: home },
  };
  const config = PiConfig.parse({ ...base, ...options.config, extraEnv: { ...base.extraEnv, ...options.config?.extraEnv } });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await llm.close();
    await rm(root, { recursive: true, force: true }).catch(() => undefined);
  };
  return { llm, agentDir, cwd, home, config, close, [Symbol.asyncDispose]: close };
}
