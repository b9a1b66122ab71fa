/**
 * PiConfig.launcher through local wrapper scripts that behave like the real launchers:
 * `spec/fixtures/launchers/exec-in.sh` like `docker exec -i box` / `kubectl exec -i pod --`
 * (argv passed as is), `spec/fixtures/launchers/fake-ssh/ssh` like `ssh host` (argv joined and
 * re-parsed by a shell). Real pi 0.73, fake LLM. Checks: the protocol works, the dialect is
 * detected through the launcher, pi's environment is rebuilt on the other side from the
 * allowlist (a secret in the launcher's environment does not reach pi; `extraEnv` with spaces
 * and quotes does), pi works in the session's cwd over there, and nothing is left running.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { filter, firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { autoApprove } from '../../src/policies/autoApprove.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiClient } from '../../src/session/PiClient.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import { detectPi } from '../../src/transport/detectDialect.js';
import { waitForExit } from '../helpers/realPi.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PI = join(repo, 'node_modules', '.bin', 'pi');
const LAUNCHERS = {
  'docker exec -i': [join(repo, 'spec', 'fixtures', 'launchers', 'exec-in.sh'), 'box'],
  ssh: [join(repo, 'spec', 'fixtures', 'launchers', 'fake-ssh', 'ssh'), 'host'],
} as const;
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
      const config = env.config.with({ binary: PI, launcher: [...launcher], extraEnv: { ...env.config.extraEnv, PIDRIVER_MARK: MARK } });
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
