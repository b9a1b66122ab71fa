/**
 * Writes a throwaway pi agent directory (`PI_CODING_AGENT_DIR`) that points pi at the fake LLM
 * server: a `models.json` with one custom provider and a `settings.json` tuned for fast tests.
 *
 * pi reads `models.json` once at startup, so start the fake server first, then write the
 * directory with its URL, then spawn pi.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PiConfig, type PiConfigInput } from '../config/PiConfig.js';

/** Name of the custom provider in the fake `models.json` (pass it as `--provider`). */
export const FAKE_PROVIDER = 'fake';

/** Id of the fake model without reasoning (pass it as `--model`). */
export const FAKE_MODEL = 'fake-1';

/** Id of the fake model declared with `reasoning: true` (for thinking-level tests). */
export const FAKE_THINKING_MODEL = 'fake-think';

/** Options for {@link writeFakeAgentDir}. */
export interface FakeAgentDirOptions {
  /** The fake server's base URL, i.e. `FakeLlm.url` (`http://127.0.0.1:<port>/v1`). */
  readonly baseUrl: string;
  /** Directory to write into (created if missing). Default: a new `mkdtemp` dir under `os.tmpdir()`. */
  readonly dir?: string;
  /**
   * pi's auto-retry settings. Default `{ baseDelayMs: 50 }`, so an error test that exhausts pi's
   * three retries takes well under a second instead of pi's default 2 s + 4 s + 8 s.
   */
  readonly retry?: { readonly enabled?: boolean; readonly baseDelayMs?: number; readonly maxRetries?: number };
  /** Extra settings merged (deeply, for plain objects) over the defaults in `settings.json`. */
  readonly settings?: Record<string, unknown>;
}

/** Per-million-token prices; non-zero so that cost accounting shows up in tests. */
const FAKE_COST = { input: 1, output: 2, cacheRead: 0.1, cacheWrite: 1.25 } as const;

/** Default retry delay: fast enough for error tests, still exercising pi's retry path. */
const DEFAULT_RETRY_DELAY_MS = 50;

/**
 * Writes `models.json` (provider `fake`, models `fake-1` and `fake-think`) and `settings.json`
 * (and their omp twins `models.yml` and `config.yml`)
 * into an agent directory and returns its path.
 *
 * pi may also create `auth.json` and `sessions/` in that directory on its own; it is meant to be
 * thrown away after the test.
 *
 * @param options The fake server URL and optional directory, retry and settings overrides.
 * @return The absolute path of the agent directory, for `PI_CODING_AGENT_DIR`.
 */
export async function writeFakeAgentDir(options: FakeAgentDirOptions): Promise<string> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'pidriver-agent-')));
  await mkdir(dir, { recursive: true });
  await writeJson(join(dir, 'models.json'), fakeModelsConfig(options.baseUrl));
  await writeJson(join(dir, 'settings.json'), fakeSettings(options));
  // omp reads the same settings as YAML (`models.yml`, `config.yml`); JSON is valid YAML.
  await writeJson(join(dir, 'models.yml'), fakeModelsConfig(options.baseUrl));
  await writeJson(join(dir, 'config.yml'), fakeSettings(options));
  return dir;
}

/** Options for {@link fakeAgentConfig}. */
export interface FakeAgentConfigOptions extends FakeAgentDirOptions {
  /** Fields merged over the fake defaults (e.g. `thinking`, `extraEnv`, `binary`). */
  readonly config?: PiConfigInput;
}

/**
 * Writes a fake agent directory (see {@link writeFakeAgentDir}) and returns a ready `PiConfig`
 * for it: provider `fake`, model `fake-1`, `agentDir` set, offline. Use it when the fake LLM
 * runs elsewhere (another process, or your own `startFakeLlm()`); `startFakePiEnv()` does both.
 *
 * ```ts
 * const llm = await startFakeLlm();
 * const config = await fakeAgentConfig({ baseUrl: llm.url });
 * const session = await new PiClient({ config }).start({ cwd: projectDir });
 * ```
 *
 * @param options The fake server URL, where to write, and config overrides.
 * @return A frozen `PiConfig`.
 */
export async function fakeAgentConfig(options: FakeAgentConfigOptions): Promise<PiConfig> {
  const { config, ...dirOptions } = options;
  const agentDir = await writeFakeAgentDir(dirOptions);
  return PiConfig.parse({ provider: FAKE_PROVIDER, model: FAKE_MODEL, agentDir, offline: true, ...config });
}

/** The `models.json` content, exactly as the recorded runs in `spec/fixtures/transcripts/` used it. */
function fakeModelsConfig(baseUrl: string): Record<string, unknown> {
  return {
    providers: {
      [FAKE_PROVIDER]: {
        baseUrl,
        api: 'openai-completions',
        // Required by pi; it is tried as an env var name first, then sent literally as the bearer token.
        apiKey: 'fake-key',
        // Without this pi would send the system prompt as role "developer" for reasoning models.
        compat: { supportsDeveloperRole: false, supportsReasoningEffort: false },
        models: [fakeModel(FAKE_MODEL, 'Fake One', false), fakeModel(FAKE_THINKING_MODEL, 'Fake Thinker', true)],
      },
    },
  };
}

function fakeModel(id: string, name: string, reasoning: boolean): Record<string, unknown> {
  return { id, name, reasoning, input: ['text'], contextWindow: 100000, maxTokens: 4096, cost: FAKE_COST };
}

function fakeSettings(options: FakeAgentDirOptions): Record<string, unknown> {
  const defaults: Record<string, unknown> = {
    retry: { baseDelayMs: DEFAULT_RETRY_DELAY_MS, ...options.retry },
  };
  return options.settings === undefined ? defaults : mergeDeep(defaults, options.settings);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Merges `over` into `base`: plain objects recursively, everything else replaced. */
function mergeDeep(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? mergeDeep(current, value) : value;
  }
  return out;
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`, 'utf8');
}
