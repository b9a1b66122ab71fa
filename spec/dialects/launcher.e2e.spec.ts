/**
 * PiConfig.launcher through local wrapper scripts that behave like the real launchers:
 * `spec/fixtures/launchers/exec-in.sh` like `docker exec -i box` / `kubectl exec -i pod --`
 * (argv passed as is), `spec/fixtures/launchers/fake-ssh/ssh` like `ssh host`, `…/autossh` like
 * `autossh -M 0 host` and `…/sshpass` like `sshpass -p pw ssh host` (argv joined and re-parsed
 * by a shell). Real pi 0.73, fake LLM. Checks: the protocol works, the dialect is detected
 * through the launcher, pi's environment is rebuilt on the other side from the allowlist (a
 * secret in the launcher's environment does not reach pi; `extraEnv` with spaces and quotes
 * does), pi works in the session's cwd over there, nothing is left running, and values made to
 * run commands in an unquoting shell (`cwd`, `extraEnv`, `systemPrompt`, `agentDir`, `binary`,
 * `extraArgs`) reach pi as plain text through every shell-joining launcher.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { filter, firstValueFrom } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PiConfigInput } from '../../src/config/PiConfig.js';
import { autoApprove } from '../../src/policies/autoApprove.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiClient } from '../../src/session/PiClient.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import { detectPi } from '../../src/transport/detectDialect.js';
import { waitForExit } from '../helpers/realPi.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PI = join(repo, 'node_modules', '.bin', 'pi');
const fixture = (name: string) => join(repo, 'spec', 'fixtures', 'launchers', name);
const FAKE_SSH = fixture(join('fake-ssh', 'ssh'));
const LAUNCHERS: Readonly<Record<string, NonNullable<PiConfigInput['launcher']>>> = {
  // A wrapper pidriver doesn't know is quoted for a shell unless it is said to pass argv as is.
  'docker exec -i': { command: [fixture('exec-in.sh'), 'box'], argv: 'exec' },
  ssh: [FAKE_SSH, 'host'],
};
/** Launchers that join their arguments for a remote shell without being named `ssh`. */
const SSH_WRAPPERS: Readonly<Record<string, readonly string[]>> = {
  'autossh -M 0 host': [fixture('autossh'), '-M', '0', 'host'],
  'sshpass -p pw ssh host': [fixture('sshpass'), '-p', 'pw', FAKE_SSH, 'host'],
};
const MARK = `it's "quoted" $HOME and spaced`;

describe('PiConfig.launcher (local wrapper scripts, real pi 0.73)', () => {
  let env: FakePiEnv;
  beforeAll(async () => {
    env = await startFakePiEnv();
    process.env['PIDRIVER_LAUNCHER_SECRET'] = 'must-not-leak';
  });
  afterAll(async () => {
    delete process.env['PIDRIVER_LAUNCHER_SECRET'];
    await env.close();
  });

  for (const [name, launcher] of Object.entries(LAUNCHERS)) {
    it(`runs pi through ${name}, with the env allowlist rebuilt on the other side`, async () => {
      const config = env.config.with({ binary: PI, launcher, extraEnv: { ...env.config.extraEnv, PIDRIVER_MARK: MARK } });
      // Detection runs `pi --version` on the other side (a few seconds for pi 0.73): once is enough.
      if (name === 'ssh') expect(await detectPi(config)).toMatchObject({ dialect: 'pi-0.73', version: '0.73.1', source: '--version' });
      const client = new PiClient({ config: name === 'ssh' ? config : config.with({ dialect: 'pi-0.73' }), policy: autoApprove() });
      const session = await client.start({ cwd: env.cwd });
      try {
        const command = 'echo "<$PIDRIVER_LAUNCHER_SECRET><$PIDRIVER_MARK><$PI_CODING_AGENT_DIR><$(pwd)>"';
        const toolEnd = firstValueFrom(session.events$.pipe(filter((event): event is Extract<PiEvent, { type: 'tool_end' }> => event.type === 'tool_end')));
        const result = await session.prompt(`scenario:tool-bash [[cmd:${command}]]`);
        expect(result.reason).toBe('completed');
        expect((await toolEnd).result.trim()).toBe(`<><${MARK}><${env.agentDir}><${env.cwd}>`);
        expect(session.capabilities.dialect).toBe('pi-0.73');
      } finally {
        const pid = session.pid;
        await session.close();
        if (pid !== undefined) expect(await waitForExit(pid)).toBe(true);
      }
    });
  }
});

describe('PiConfig.launcher: no command injection through ssh wrappers (real pi 0.73)', () => {
  let env: FakePiEnv;
  let root: string | undefined;
  beforeAll(async () => {
    env = await startFakePiEnv();
  });
  afterAll(async () => {
    await env.close();
  });
  afterEach(() => {
    delete process.env['PIDRIVER_PWNED'];
    if (root) rmSync(root, { recursive: true, force: true });
    root = undefined;
  });

  for (const [name, launcher] of Object.entries(SSH_WRAPPERS)) {
    it(`${name}: hostile cwd, extraEnv, systemPrompt, agentDir, binary and extraArgs arrive as text, and run nothing`, async () => {
      root = mkdtempSync(join(tmpdir(), 'pidriver-inject-'));
      /** Where an injected `touch` would leave a file: must stay empty. */
      const pwned = join(root, 'pwned');
      mkdirSync(pwned);
      // The launcher (and a shell it starts) has this process's environment: `${PIDRIVER_PWNED}x`
      // names a file in `pwned` without a slash, so it fits in a directory name.
      process.env['PIDRIVER_PWNED'] = `${pwned}/`;
      const touch = (tag: string) => `$(touch \${PIDRIVER_PWNED}${tag})`;
      const cwd = join(root, `work ${touch('cwd')}; touch \${PIDRIVER_PWNED}cwd2 'q' "dq"`);
      mkdirSync(cwd);
      const agentDir = join(root, `agent \`touch \${PIDRIVER_PWNED}agent\``);
      cpSync(env.agentDir, agentDir, { recursive: true });
      const binDir = join(root, `bin ${touch('binary')}`);
      mkdirSync(binDir);
      symlinkSync(realpathSync(PI), join(binDir, 'pi'));
      const mark = `x'; touch \${PIDRIVER_PWNED}env; echo "${touch('env2')}`;
      const systemPrompt = `You are a test. \`touch \${PIDRIVER_PWNED}prompt\` ${touch('prompt2')}`;
      const appended = `; touch \${PIDRIVER_PWNED}args #`;

      const config = env.config.with({
        binary: join(binDir, 'pi'),
        dialect: 'pi-0.73',
        launcher: [...launcher],
        agentDir,
        systemPrompt,
        extraArgs: ['--append-system-prompt', appended],
        extraEnv: { ...env.config.extraEnv, PIDRIVER_MARK: mark },
      });
      const session = await new PiClient({ config, policy: autoApprove() }).start({ cwd });
      try {
        const toolEnd = firstValueFrom(session.events$.pipe(filter((event): event is Extract<PiEvent, { type: 'tool_end' }> => event.type === 'tool_end')));
        const command = 'printf "<%s><%s><%s>" "$PIDRIVER_MARK" "$(pwd)" "$PI_CODING_AGENT_DIR"';
        const result = await session.prompt(`scenario:tool-bash [[cmd:${command}]]`);
        expect(result.reason).toBe('completed');
        expect((await toolEnd).result.trim()).toBe(`<${mark}><${cwd}><${agentDir}>`);
        // The model got both prompts, verbatim.
        const system = JSON.stringify(env.llm.requests.at(-1)?.body);
        expect(system).toContain(JSON.stringify(systemPrompt).slice(1, -1));
        expect(system).toContain(JSON.stringify(appended).slice(1, -1));
      } finally {
        const pid = session.pid;
        await session.close();
        if (pid !== undefined) expect(await waitForExit(pid)).toBe(true);
      }
      expect(readdirSync(pwned)).toEqual([]);
    });
  }
});
