/**
 * Opt-in: the same user code (spec/dialects/userCode.ts) against the real oh-my-pi 18.2.3
 * under Bun, both installed from npm into `.pidriver-cache/e2e/` on first use (~1 min, ~750 MB).
 *
 *     PIDRIVER_E2E_OMP=1 npx vitest run spec/dialects/omp.e2e.spec.ts
 *
 * Skipped (with the reason) when not enabled or when the install fails. omp probes the local
 * LLM ports 11434/8080/1234; the fake LLM listens on a random port.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { PiConfig } from '../../src/config/PiConfig.js';
import { PiConfigError } from '../../src/errors.js';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import type { FakePiEnv } from '../../src/testing/fakePiEnv.js';
import { recordTranscript, type TranscriptRecord } from '../../src/testing/recordTranscript.js';
import { detectPi } from '../../src/transport/detectDialect.js';
import { resolveBinary } from '../../src/transport/resolveBinary.js';
import { e2eEnabled, installPi } from './installPi.js';
import { EXPECTED_REPORT, runUserCode, startUserCodeEnv } from './userCode.js';

const enabled = e2eEnabled('omp');
const installed = enabled ? await installPi('omp') : { skip: 'set PIDRIVER_E2E_OMP=1 to run it (installs bun + @oh-my-pi/pi-coding-agent@18.2.3 from npm)' };

describe('omp e2e', () => {
  if ('skip' in installed) {
    it.skip(`omp e2e skipped: ${installed.skip}`, () => undefined);
    return;
  }
  const omp = installed;
  let env: FakePiEnv | undefined;
  const sessions: PiSession[] = [];
  afterAll(async () => {
    for (const session of sessions) await session.close();
    await env?.close();
  });

  it('detects omp 18.2.3 from its package.json and runs it with the bun installed beside it', async () => {
    const config = PiConfig.parse({ binary: omp.binary, envPassthrough: [] }); // no PATH: bun must come from beside the binary
    expect(await detectPi(config)).toMatchObject({ dialect: 'omp', version: omp.version, source: 'package.json' });
    const resolved = await resolveBinary(omp.binary, { pathEnv: '' });
    expect(resolved.file).toBe(omp.runtime);
  });

  it('runs the same user code and policies, and sees the same events as pi 0.73', async () => {
    env = await startUserCodeEnv();
    const wire: TranscriptRecord[] = [];
    const recording = recordTranscript((record) => wire.push(record), { normalize: false });
    const config = env.config.with({ binary: omp.binary, offline: false });
    const { report, session } = await runUserCode(config, env.cwd, { transportFactory: recording.transportFactory });
    sessions.push(session);
    expect(session.capabilities).toMatchObject({ dialect: 'omp', version: omp.version, approvals: 'builtin', promptResult: false });
    expect(session.protocolVersion).toBe(2);
    expect(report).toEqual(EXPECTED_REPORT);
    // The 1.2 MB reply crossed omp's 1 MiB frame limit losslessly, as protocol-v2 chunks.
    expect(wire.some((record) => record.dir === 'out' && record.line.startsWith('{"type":"rpc_chunk"'))).toBe(true);
    const argv = wire.find((record) => record.dir === 'note' && record.note.startsWith('spawn'));
    expect(argv?.dir === 'note' && argv.note).toContain('--approval-mode always-ask');
    await recording.close();
  });

  it('refuses a config field omp has no flag for, before spawning', async () => {
    const client = new PiClient({ config: { binary: omp.binary, offline: true } });
    await expect(client.start({ cwd: env?.cwd ?? process.cwd() })).rejects.toBeInstanceOf(PiConfigError);
  });
});
