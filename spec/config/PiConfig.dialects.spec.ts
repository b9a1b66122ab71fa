/**
 * PiConfig per dialect: flags a dialect lacks are PiConfigErrors, and a launcher rebuilds pi's
 * environment on the other side (`env -i` + the allowlist's remote values + pidriver's own).
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PiConfig, shellQuote, type PiConfigInput } from '../../src/config/PiConfig.js';
import type { Dialect } from '../../src/protocol/dialects.js';
import { PiConfigError } from '../../src/errors.js';

describe('PiConfig.toArgv per dialect', () => {
  it('maps fields to each dialect’s flags', () => {
    const config = PiConfig.parse({ model: 'fake/fake-1', noContextFiles: true });
    expect(config.toArgv({ dialect: 'pi-0.73' })).toContain('--no-context-files');
    expect(config.toArgv({ dialect: 'pi-0.73' })).toContain('--no-prompt-templates');
    const omp = config.toArgv({ dialect: 'omp' });
    expect(omp).toContain('--no-rules');
    expect(omp).not.toContain('--no-prompt-templates'); // a default omp has no flag for: left out
    expect(omp).not.toContain('--no-themes');
  });

  it.each<[PiConfigInput, Dialect, string]>([
    [{ excludeTools: ['bash'] }, 'pi-0.73', 'excludeTools'],
    [{ excludeTools: ['bash'] }, 'omp', 'excludeTools'],
    [{ sessionName: 'n' }, 'omp', 'sessionName'],
    [{ sessionId: 'abc' }, 'pi-0.73', 'sessionId'],
    [{ noBuiltinTools: true }, 'omp', 'noBuiltinTools'],
    [{ offline: true }, 'omp', 'offline'],
    [{ thinking: 'max' }, 'pi-0.73', 'thinking'],
    [{ noThemes: true }, 'omp', 'noThemes'],
  ])('%j on %s is a PiConfigError naming %s', (input, dialect, field) => {
    const config = PiConfig.parse(input);
    expect(() => config.toArgv({ dialect })).toThrow(PiConfigError);
    try {
      config.toArgv({ dialect });
    } catch (error) {
      expect((error as PiConfigError).field).toBe(field);
      expect((error as Error).message).toMatch(dialect === 'omp' ? /^omp has no/ : /^pi 0\.73 has no/);
    }
  });

  it('passes what pi 1.x has', () => {
    const argv = PiConfig.parse({ excludeTools: ['bash'], sessionName: 'n', thinking: 'max' }).toArgv({ dialect: 'pi-1' });
    expect(argv).toEqual(expect.arrayContaining(['--exclude-tools', 'bash', '--name', 'n', '--thinking', 'max']));
  });
});

describe('PiConfig.toLaunchArgv', () => {
  const base = { agentDir: '/srv/agent', extraEnv: { MARK: "it's $HOME" }, envPassthrough: ['PATH', 'HOME'] };

  it('is toArgv without a launcher', () => {
    const config = PiConfig.parse({ model: 'm' });
    expect(config.toLaunchArgv()).toEqual(config.toArgv());
  });

  it('wraps pi in `sh -c exec env -i <allowlist> "$@"` with pidriver’s variables as arguments', () => {
    const argv = PiConfig.parse({ ...base, launcher: ['docker', 'exec', '-i', 'box'], runtime: 'bun', binary: '/opt/omp/bin/omp' }).toLaunchArgv({
      dialect: 'omp',
    });
    expect(argv.slice(0, 6)).toEqual(['docker', 'exec', '-i', 'box', 'sh', '-c']);
    expect(argv[6]).toBe('exec env -i ${PATH+"PATH=$PATH"} ${HOME+"HOME=$HOME"} "$@"');
    expect(argv.slice(7, 12)).toEqual(['sh', 'PI_CODING_AGENT_DIR=/srv/agent', 'PI_SKIP_VERSION_CHECK=1', "MARK=it's $HOME", 'bun']);
    expect(argv.slice(12, 15)).toEqual(['/opt/omp/bin/omp', '--mode', 'rpc']);
  });

  it('really rebuilds the environment: remote allowlist values, no stray variables, values kept verbatim', () => {
    const [, , ...command] = PiConfig.parse({ ...base, launcher: { command: ['sh', '-c'], argv: 'exec' }, binary: '/usr/bin/env' }).toLaunchArgv({
      argv: ['/usr/bin/env'],
    });
    // Run the part after the launcher as `docker exec` would: argv as is, in an environment with a secret.
    const output = execFileSync(command[0] as string, command.slice(1), {
      env: { PATH: '/usr/bin:/bin', HOME: '/remote/home', SECRET_KEY: 'x' },
      encoding: 'utf8',
    });
    const env = Object.fromEntries(
      output
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(env).toEqual({ PATH: '/usr/bin:/bin', HOME: '/remote/home', PI_CODING_AGENT_DIR: '/srv/agent', PI_SKIP_VERSION_CHECK: '1', MARK: "it's $HOME" });
  });

  it('cds to the remote working directory first', () => {
    const argv = PiConfig.parse({ ...base, launcher: ['docker', 'exec', '-i', 'box'] }).toLaunchArgv({ cwd: '/work/my repo' });
    expect(argv.slice(4, 8)).toEqual(['sh', '-c', 'cd -- "$0" && exec env -i ${PATH+"PATH=$PATH"} ${HOME+"HOME=$HOME"} "$@"', '/work/my repo']);
    const [, , ...command] = PiConfig.parse({ ...base, launcher: { command: ['sh', '-c'], argv: 'exec' }, binary: '/bin/pwd' }).toLaunchArgv({
      argv: ['/bin/pwd'],
      cwd: '/tmp',
    });
    expect(execFileSync(command[0] as string, command.slice(1), { encoding: 'utf8', cwd: '/' }).trim()).toBe('/tmp');
  });

  it('passes apiKeyEnv through from the remote side, also under the provider’s name', () => {
    const argv = PiConfig.parse({ launcher: ['ssh', 'h'], provider: 'anthropic', apiKeyEnv: 'MY_KEY', envPassthrough: [] }).toLaunchArgv();
    expect(argv.join(' ')).toContain('${MY_KEY+"MY_KEY=$MY_KEY"} ${MY_KEY+"ANTHROPIC_API_KEY=$MY_KEY"}');
  });

  it('shell-quotes every argument for ssh (it joins them into one remote command line)', () => {
    const argv = PiConfig.parse({ ...base, launcher: ['/usr/bin/ssh', 'host'], appendSystemPrompt: 'be brief; no $(rm)' }).toLaunchArgv();
    expect(argv.slice(0, 2)).toEqual(['/usr/bin/ssh', 'host']);
    // What the remote shell sees is exactly the argv a docker launcher would get.
    const unquoted = execFileSync('sh', ['-c', `printf '%s\\n' ${argv.slice(2).join(' ')}`], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(unquoted).toEqual(
      PiConfig.parse({ ...base, launcher: ['docker', 'exec', '-i', 'b'], appendSystemPrompt: 'be brief; no $(rm)' })
        .toLaunchArgv()
        .slice(4),
    );
  });

  describe('quotes for every launcher but those known to pass argv as is', () => {
    // Values that would run commands if a shell over there parsed them unquoted.
    const hostile = {
      ...base,
      agentDir: '/srv/agent $(touch /tmp/pwned-agent)',
      extraEnv: { MARK: "x'; touch /tmp/pwned-env; echo '" },
      systemPrompt: '`touch /tmp/pwned-prompt`',
      extraArgs: ['--flag', '; touch /tmp/pwned-args'],
      binary: '/opt/pi $(touch /tmp/pwned-binary)/pi',
    };
    const asExec = (command: readonly string[]) =>
      PiConfig.parse({ ...hostile, launcher: { command: [...command], argv: 'exec' } }).toLaunchArgv({ cwd: '/work/a;b' });

    for (const launcher of [
      ['ssh', 'host'],
      ['/usr/bin/autossh', '-M', '0', 'host'],
      ['sshpass', '-p', 'pw', 'ssh', 'host'],
      ['gcloud', 'compute', 'ssh', 'vm', '--'],
      ['my-wrapper', 'box'],
      ['docker', 'run', '-i', 'image'], // only `exec` is known; anything else is quoted
      ['sudo', 'docker', 'exec', '-i', 'box'],
    ]) {
      it(`${launcher.join(' ')}: shell-quoted, so the remote shell parses back exactly the argv`, () => {
        const config = PiConfig.parse({ ...hostile, launcher });
        expect(config.launcherSpec()).toEqual({ command: launcher, argv: 'shell' });
        const argv = config.toLaunchArgv({ cwd: '/work/a;b' });
        expect(argv.slice(0, launcher.length)).toEqual(launcher);
        // What such a launcher does: join the rest with spaces, and a shell over there parses it.
        const parsed = execFileSync('sh', ['-c', `printf '%s\\0' ${argv.slice(launcher.length).join(' ')}`], { encoding: 'utf8' })
          .split('\0')
          .slice(0, -1);
        expect(parsed).toEqual(asExec(launcher).slice(launcher.length));
      });
    }

    for (const launcher of [
      ['docker', 'exec', '-i', 'box'],
      ['/usr/local/bin/podman', 'exec', '-i', 'box'],
      ['nerdctl', 'container', 'exec', '-i', 'box'],
      ['kubectl', 'exec', '-i', 'pod', '--'],
    ]) {
      it(`${launcher.join(' ')}: argv as is`, () => {
        const config = PiConfig.parse({ ...hostile, launcher });
        expect(config.launcherSpec()).toEqual({ command: launcher, argv: 'exec' });
        expect(config.toLaunchArgv({ cwd: '/work/a;b' })).toEqual(asExec(launcher));
      });
    }

    it('the object form says which a launcher is', () => {
      const shell = PiConfig.parse({ ...hostile, launcher: { command: ['docker', 'exec', '-i', 'box'], argv: 'shell' } });
      expect(shell.toLaunchArgv({ cwd: '/work/a;b' }).slice(4)).toEqual(asExec(['docker', 'exec', '-i', 'box']).slice(4).map(shellQuote));
      const exec = PiConfig.parse({ ...hostile, launcher: { command: ['my-wrapper', 'box'], argv: 'exec' } });
      expect(exec.toLaunchArgv().slice(2)).toContain(hostile.systemPrompt);
      expect(() => PiConfig.parse({ launcher: { command: [], argv: 'exec' } })).toThrow(PiConfigError);
      expect(() => PiConfig.parse({ launcher: { command: ['x'], argv: 'bogus' as 'exec' } })).toThrow(PiConfigError);
    });
  });

  it('uses a plain `env NAME=value` with inheritEnv (the remote environment stays)', () => {
    const argv = PiConfig.parse({ launcher: ['kubectl', 'exec', '-i', 'pod', '--'], inheritEnv: true, agentDir: '/a' }).toLaunchArgv();
    expect(argv.slice(0, 11)).toEqual([
      'kubectl',
      'exec',
      '-i',
      'pod',
      '--',
      'sh',
      '-c',
      'exec env "$@"',
      'sh',
      'PI_CODING_AGENT_DIR=/a',
      'PI_SKIP_VERSION_CHECK=1',
    ]);
  });

  it('refuses an apiKey with a launcher (it would be on a command line)', () => {
    expect(() => PiConfig.parse({ launcher: ['ssh', 'h'], apiKey: 'sk-secret' })).toThrow(PiConfigError);
  });

  it('shellQuote leaves plain words alone and quotes the rest', () => {
    expect(shellQuote('--mode')).toBe('--mode');
    expect(shellQuote('PI_CODING_AGENT_DIR=/a/b')).toBe('PI_CODING_AGENT_DIR=/a/b');
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('')).toBe("''");
  });
});
