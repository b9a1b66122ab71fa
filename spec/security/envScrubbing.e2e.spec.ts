/**
 * Environment scrubbing, proved through the real pi 0.73.1 CLI: the fake LLM has pi's `bash` tool
 * run `env`, and the test reads what the agent would see. A secret in the parent's environment
 * (and a stray `*_API_KEY` of the kind every developer shell has) never reaches the agent unless
 * the config passes it on: `envPassthrough`, `extraEnv`, `apiKeyEnv` or `inheritEnv`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ENV_PASSTHROUGH, type PiConfigInput } from '../../src/config/PiConfig.js';
import { PiClient } from '../../src/session/PiClient.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import { bashOutput, environOf, parseEnv, setParentEnv } from './support.js';

const SECRET = `pidriver-secret-${process.pid}-${Date.now()}`;
const STRAY_KEY = `sk-stray-${process.pid}`;
const KEY_VAR_VALUE = `sk-from-key-var-${process.pid}`;

/** What the child may see by default: the allowlist, pidriver's own variables, and what pi and bash add. */
const DEFAULT_NAMES = new Set([
  ...DEFAULT_ENV_PASSTHROUGH,
  'PI_CODING_AGENT_DIR',
  'PI_OFFLINE',
  'PI_SKIP_VERSION_CHECK',
  'PIDRIVER_APPROVE', // the approval extension's setting
  'PIDRIVER_TREE_ID', // marks pi's process tree for reaping
  'PI_CODING_AGENT', // set by pi for its tools
  'PWD',
  'SHLVL',
  '_', // set by bash
]);

let env: FakePiEnv;
let restoreEnv: () => void;

beforeAll(async () => {
  restoreEnv = setParentEnv({ PIDRIVER_TEST_SECRET: SECRET, OPENAI_API_KEY: STRAY_KEY, PIDRIVER_TEST_KEY_VAR: KEY_VAR_VALUE });
  env = await startFakePiEnv();
});

afterAll(async () => {
  restoreEnv();
  await env.close();
});

let cases = 0;

/**
 * Starts a session with `overrides` over the fake env's config, runs `env` in bash, closes.
 * `modelSaw` is the tool result the fake LLM received for this run (the tests run concurrently).
 */
async function agentEnv(overrides: PiConfigInput): Promise<{ vars: Map<string, string>; output: string; piEnviron: Map<string, string>; modelSaw: string }> {
  const client = new PiClient({ config: env.config.with(overrides), approve: 'none' });
  const session = await client.start({ cwd: env.cwd });
  try {
    const piEnviron = environOf(session.pid!);
    const tag = `case-${++cases}`;
    const { output } = await bashOutput(session, `env # ${tag}`);
    const modelSaw = env.llm.requests
      .filter((request) => request.lastUserText.includes(`# ${tag}]]`))
      .flatMap((request) => request.toolResults)
      .join('\n');
    return { vars: parseEnv(output), output, piEnviron, modelSaw };
  } finally {
    await session.close();
  }
}

describe.concurrent('environment scrubbing through the real pi CLI (bash runs `env`)', () => {
  it('by default a parent secret and a stray OPENAI_API_KEY are absent, and nothing outside the allowlist is present', async () => {
    const { vars, output, piEnviron, modelSaw } = await agentEnv({});
    expect(output).not.toContain(SECRET);
    expect(output).not.toContain(STRAY_KEY);
    expect(output).not.toContain(KEY_VAR_VALUE);
    expect(vars.has('PIDRIVER_TEST_SECRET')).toBe(false);
    expect(vars.has('OPENAI_API_KEY')).toBe(false);
    expect([...vars.keys()].filter((name) => !DEFAULT_NAMES.has(name))).toEqual([]);
    // pi's own environment, not only what its tool saw.
    expect([...piEnviron.values()].some((value) => value.includes(SECRET) || value.includes(STRAY_KEY))).toBe(false);
    // And what the model was sent as the tool result.
    expect(modelSaw).toContain('PI_CODING_AGENT_DIR=');
    expect(modelSaw).not.toContain(SECRET);
  });

  it('envPassthrough passes a named parent variable on, and only that one', async () => {
    const { vars, output } = await agentEnv({ envPassthrough: [...DEFAULT_ENV_PASSTHROUGH, 'PIDRIVER_TEST_SECRET'] });
    expect(vars.get('PIDRIVER_TEST_SECRET')).toBe(SECRET);
    expect(output).not.toContain(STRAY_KEY);
  });

  it('extraEnv sets a variable explicitly', async () => {
    const { vars, output } = await agentEnv({ extraEnv: { ...env.config.extraEnv, PIDRIVER_TEST_GIVEN: SECRET } });
    expect(vars.get('PIDRIVER_TEST_GIVEN')).toBe(SECRET);
    expect(vars.has('PIDRIVER_TEST_SECRET')).toBe(false);
    expect(output).not.toContain(STRAY_KEY);
  });

  it("apiKeyEnv passes that one parent variable on, also under the provider's key name", async () => {
    const { vars, output } = await agentEnv({ apiKeyEnv: 'PIDRIVER_TEST_KEY_VAR' });
    expect(vars.get('PIDRIVER_TEST_KEY_VAR')).toBe(KEY_VAR_VALUE);
    expect(vars.get('FAKE_API_KEY')).toBe(KEY_VAR_VALUE);
    expect(output).not.toContain(SECRET);
    expect(output).not.toContain(STRAY_KEY);
  });

  it('inheritEnv: true passes the whole parent environment on (secret and stray key included)', async () => {
    const { vars } = await agentEnv({ inheritEnv: true });
    expect(vars.get('PIDRIVER_TEST_SECRET')).toBe(SECRET);
    expect(vars.get('OPENAI_API_KEY')).toBe(STRAY_KEY);
  });
});
