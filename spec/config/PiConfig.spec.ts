import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PiConfig } from '../../src/config/PiConfig.js';
import { PiConfigError } from '../../src/errors.js';

describe('PiConfig', () => {
  it('applies the reference defaults and is frozen', () => {
    const config = PiConfig.parse({});
    expect(config.binary).toBe('pi');
    expect(config.noExtensions && config.noSkills && config.noContextFiles && config.noPromptTemplates && config.noThemes).toBe(true);
    expect(config.skipVersionCheck).toBe(true);
    expect(config.session).toBe(false);
    expect(config.inheritEnv).toBe(false);
    expect(config.envPassthrough).toEqual(['PATH', 'HOME', 'LANG', 'LC_ALL', 'TERM', 'TZ']);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.envPassthrough)).toBe(true);
    expect(() => {
      (config as { binary: string }).binary = 'omp';
    }).toThrow();
  });

  it('builds argv', () => {
    const config = PiConfig.parse({
      provider: 'anthropic',
      model: 'anthropic/claude-sonnet-4-5',
      thinking: 'low',
      tools: ['read', 'bash'],
      systemPrompt: 'be brief',
      appendSystemPrompt: ['a', 'b'],
      offline: true,
      extensions: ['/abs/ext.js'],
      extraArgs: ['--verbose'],
      apiKey: 'sk-secret',
    });
    expect(config.toArgv()).toEqual([
      'pi',
      '--mode',
      'rpc',
      '--provider',
      'anthropic',
      '--model',
      'anthropic/claude-sonnet-4-5',
      '--thinking',
      'low',
      '--tools',
      'read,bash',
      '--no-session',
      '--system-prompt',
      'be brief',
      '--append-system-prompt',
      'a',
      '--append-system-prompt',
      'b',
      '--no-extensions',
      '--no-skills',
      '--no-prompt-templates',
      '--no-themes',
      '--no-context-files',
      '--offline',
      '-e',
      '/abs/ext.js',
      '--verbose',
    ]);
    expect(config.toArgv().join(' ')).not.toContain('sk-secret');
  });

  it('uses session flags instead of --no-session when a session is asked for', () => {
    expect(PiConfig.parse({ sessionPath: '/s/a.jsonl' }).toArgv()).toEqual(expect.arrayContaining(['--session', '/s/a.jsonl']));
    expect(PiConfig.parse({ sessionPath: '/s/a.jsonl' }).toArgv()).not.toContain('--no-session');
    expect(PiConfig.parse({ continueSession: true, sessionDir: '/s' }).toArgv()).toEqual(expect.arrayContaining(['--continue', '--session-dir', '/s']));
    expect(PiConfig.parse({ session: true }).toArgv()).not.toContain('--no-session');
  });

  it('scrubs the environment and injects the API key under the provider variable', () => {
    const parent = { PATH: '/bin', HOME: '/home/u', OPENAI_API_KEY: 'leak', AWS_SECRET: 'x', LANG: 'C' };
    const env = PiConfig.parse({ provider: 'anthropic', apiKey: 'sk-ant', agentDir: '/agent', offline: true }).toEnv(parent);
    expect(env).toEqual({
      PATH: '/bin',
      HOME: '/home/u',
      LANG: 'C',
      PI_CODING_AGENT_DIR: '/agent',
      PI_OFFLINE: '1',
      PI_SKIP_VERSION_CHECK: '1',
      ANTHROPIC_API_KEY: 'sk-ant',
    });
    expect(PiConfig.parse({ inheritEnv: true }).toEnv(parent)).toMatchObject({ OPENAI_API_KEY: 'leak', AWS_SECRET: 'x' });
    expect(PiConfig.parse({ envPassthrough: ['PATH'], extraEnv: { FOO: 'bar' } }).toEnv(parent)).toEqual({
      PATH: '/bin',
      PI_SKIP_VERSION_CHECK: '1',
      FOO: 'bar',
    });
  });

  it('resolves the API key variable name', () => {
    expect(PiConfig.parse({ provider: 'openai' }).apiKeyEnvName()).toBe('OPENAI_API_KEY');
    expect(PiConfig.parse({ provider: 'my-gateway' }).apiKeyEnvName()).toBe('MY_GATEWAY_API_KEY');
    expect(PiConfig.parse({}).apiKeyEnvName()).toBe('ANTHROPIC_API_KEY');
    expect(PiConfig.parse({ provider: 'openai', apiKeyEnv: 'MY_KEY' }).apiKeyEnvName()).toBe('MY_KEY');
  });

  it('passes through the env var named by apiKeyEnv when no key is given', () => {
    const env = PiConfig.parse({ provider: 'openai', apiKeyEnv: 'TEAM_OPENAI' }).toEnv({ TEAM_OPENAI: 'sk-team', PATH: '/bin' });
    expect(env).toMatchObject({ TEAM_OPENAI: 'sk-team', OPENAI_API_KEY: 'sk-team' });
  });

  it('never shows the API key', () => {
    const config = PiConfig.parse({ provider: 'openai', apiKey: 'sk-very-secret' });
    expect(String(config)).not.toContain('sk-very-secret');
    expect(JSON.stringify(config)).not.toContain('sk-very-secret');
    expect(inspect(config)).not.toContain('sk-very-secret');
    expect({ ...config }).not.toHaveProperty('apiKey');
    expect(config.apiKey).toBe('sk-very-secret');
    expect(config.with({ model: 'gpt' }).apiKey).toBe('sk-very-secret');
    const error = (() => {
      try {
        PiConfig.parse({ apiKey: 'sk-very-secret', thinking: 'bogus' as never });
      } catch (e) {
        return e as PiConfigError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(PiConfigError);
    expect(`${error?.message} ${String(error?.cause)} ${inspect(error)}`).not.toContain('sk-very-secret');
  });

  it.each([
    [{ thinking: 'bogus' }, 'thinking'],
    [{ terminateTimeoutMs: -1 }, 'terminateTimeoutMs'],
    [{ requestTimeoutMs: 1.5 }, 'requestTimeoutMs'],
    [{ extraArgs: ['ok', 42] }, 'extraArgs.1'],
    [{ binary: 'relative/pi' }, 'binary'],
    [{ agentDir: 'relative' }, 'agentDir'],
    [{ extraEnv: { 'BAD NAME': 'x' } }, 'extraEnv.BAD NAME'],
    [{ provdier: 'typo' }, 'provdier'],
  ])('rejects %j naming the field', (input, field) => {
    let error: unknown;
    try {
      PiConfig.parse(input as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PiConfigError);
    expect((error as PiConfigError).field).toBe(field);
    expect((error as PiConfigError).message).toContain(field);
  });

  it.each([
    [{ apiKey: 'sk-\0secret' }, 'apiKey'],
    [{ agentDir: '/srv/agent\0x' }, 'agentDir'],
    [{ extraEnv: { OK: 'x', NUL: 'a\0b' } }, 'extraEnv.NUL'],
    [{ systemPrompt: 'be brief\0' }, 'systemPrompt'],
    [{ appendSystemPrompt: ['ok', '\0'] }, 'appendSystemPrompt.1'],
    [{ extraArgs: ['--x', 'y\0'] }, 'extraArgs.1'],
    [{ workspace: '/w\0' }, 'workspace'],
    [{ launcher: ['ssh', 'h\0'] }, 'launcher.1'],
  ])('rejects a NUL byte (no process can be given one) in %j, naming the field', (input, field) => {
    let error: unknown;
    try {
      PiConfig.parse(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PiConfigError);
    expect((error as PiConfigError).field).toBe(field);
    expect((error as PiConfigError).message).toMatch(/NUL byte/);
    expect(inspect(error)).not.toContain('secret');
  });

  it('derives a sane key variable for any provider name, Object.prototype members included', () => {
    for (const provider of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      const config = PiConfig.parse({ provider, apiKey: 'sk-test-key' });
      const name = config.apiKeyEnvName() ?? '';
      expect(name).toMatch(/^[A-Z_][A-Z0-9_]*_API_KEY$/);
      expect(Object.keys(config.toEnv({}))).toEqual(['PI_SKIP_VERSION_CHECK', name]);
      expect(PiConfig.parse({ provider, apiKeyEnv: 'TEAM_KEY' }).toEnv({ TEAM_KEY: 'sk-team' })).toEqual({
        PI_SKIP_VERSION_CHECK: '1',
        TEAM_KEY: 'sk-team',
        [name]: 'sk-team',
      });
    }
    expect(PiConfig.parse({ provider: 'constructor' }).apiKeyEnvName()).toBe('CONSTRUCTOR_API_KEY');
  });

  it('approvalExtensionPath must be absolute', () => {
    expect(PiConfig.parse({ approvalExtensionPath: '/opt/app/approval.js' }).approvalExtensionPath).toBe('/opt/app/approval.js');
    expect(() => PiConfig.parse({ approvalExtensionPath: 'approval.js' })).toThrow(PiConfigError);
  });

  it('derives variants with with() and keeps the original', () => {
    const base = PiConfig.parse({ model: 'a' });
    const derived = base.with({ model: 'b' });
    expect(base.model).toBe('a');
    expect(derived.model).toBe('b');
    expect(PiConfig.parse(base)).toBe(base);
  });
});
