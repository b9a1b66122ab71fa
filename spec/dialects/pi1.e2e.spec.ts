/**
 * Opt-in: the same user code (spec/dialects/userCode.ts) against the real pi 1.x
 * (`@earendil-works/pi-coding-agent@1.5.2`, falling back to 0.87.1) under Bun (it needs Node ≥
 * 22.19, or Bun), installed from npm into `.pidriver-cache/e2e/` on first use.
 *
 *     PIDRIVER_E2E_PI1=1 npx vitest run spec/dialects/pi1.e2e.spec.ts
 *
 * Skipped (with the reason) when not enabled or when the install fails.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { PiClient } from '../../src/session/PiClient.js';
import { startFakePiEnv } from '../../src/testing/fakePiEnv.js';
import { hostTool } from '../../src/tools/hostTool.js';
import { PiConfig } from '../../src/config/PiConfig.js';
import type { PiSession } from '../../src/session/PiSession.js';
import type { FakePiEnv } from '../../src/testing/fakePiEnv.js';
import { recordTranscript, type TranscriptRecord } from '../../src/testing/recordTranscript.js';
import { detectPi } from '../../src/transport/detectDialect.js';
import { e2eEnabled, installPi } from './installPi.js';
import { EXPECTED_LIFECYCLE, runLifecycle } from './lifecycleCode.js';
import { EXPECTED_REPORT, runUserCode, startUserCodeEnv } from './userCode.js';

const enabled = e2eEnabled('pi1');
const installed = enabled
  ? await installPi('pi1')
  : { skip: 'set PIDRIVER_E2E_PI1=1 to run it (installs bun + @earendil-works/pi-coding-agent@1.5.2 from npm)' };

describe('pi 1.x e2e', () => {
  if ('skip' in installed) {
    it.skip(`pi 1.x e2e skipped: ${installed.skip}`, () => undefined);
    return;
  }
  const pi1 = installed;
  let env: FakePiEnv | undefined;
  const sessions: PiSession[] = [];
  afterAll(async () => {
    for (const session of sessions) await session.close();
    await env?.close();
  });

  it('detects pi 1.x from its package.json', async () => {
    expect(await detectPi(PiConfig.parse({ binary: pi1.binary, runtime: pi1.runtime }))).toMatchObject({ dialect: 'pi-1', version: pi1.version });
  });

  it('runs the same user code and policies under PiConfig.runtime, ends runs on agent_settled, and sees the same events as pi 0.73', async () => {
    env = await startUserCodeEnv();
    const wire: TranscriptRecord[] = [];
    const recording = recordTranscript((record) => wire.push(record), { normalize: false });
    const config = env.config.with({ binary: pi1.binary, runtime: pi1.runtime });
    const { report, session } = await runUserCode(config, env.cwd, { transportFactory: recording.transportFactory });
    sessions.push(session);
    expect(session.capabilities).toMatchObject({ dialect: 'pi-1', version: pi1.version, approvals: 'extension', agentSettled: true });
    expect(report).toEqual(EXPECTED_REPORT);
    const sent = wire.filter((record) => record.dir === 'in').map((record) => (JSON.parse(record.line) as { type: string }).type);
    // agent_settled ends every run: the only get_state is the startup one.
    expect(sent.filter((type) => type === 'get_state')).toHaveLength(1);
    expect(wire.some((record) => record.dir === 'out' && record.line.includes('"type":"agent_settled"'))).toBe(true);
    await recording.close();
  });

  it('host tools, structured output and run limits work as on pi 0.73', async () => {
    const tenv = await startFakePiEnv();
    try {
      const client = new PiClient({ config: tenv.config.with({ binary: pi1.binary, runtime: pi1.runtime }), approve: 'none' });
      const lookup = hostTool({
        name: 'lookup_stock',
        description: 'Looks up how many units of a SKU are in stock.',
        parameters: z.object({ sku: z.string() }),
        execute: ({ sku }) => `12 units of ${sku}`,
      });
      const session = await client.start({ cwd: tenv.cwd, tools: [lookup], limits: { maxTurns: 3 } });
      sessions.push(session);
      const tool = await session.prompt('scenario:tool-call [[tool:lookup_stock]] [[args:{"sku":"A-1"}]]');
      expect(tool.finalText).toContain('12 units of A-1');
      const City = z.object({ city: z.string(), population: z.number() });
      const out = await session.prompt('scenario:result-prose [[args:{"city":"Paris","population":2100000}]]', { output: City });
      expect(out).toMatchObject({ reason: 'completed', output: { city: 'Paris', population: 2_100_000 } });
      await expect(session.prompt('scenario:tool-loop [[tool:lookup_stock]] [[args:{"sku":"B"}]]')).resolves.toMatchObject({
        reason: 'limit',
        limit: 'maxTurns',
      });
    } finally {
      await tenv.close();
    }
  });
  it('session lifecycle: entries, fork, a crash and the restart on the fork, as on pi 0.73', async () => {
    const tenv = await startFakePiEnv();
    try {
      const { report, session } = await runLifecycle(tenv.config.with({ binary: pi1.binary, runtime: pi1.runtime }), tenv);
      sessions.push(session);
      expect(report).toEqual(EXPECTED_LIFECYCLE);
      await session.close();
    } finally {
      await tenv.close();
    }
  });
});
