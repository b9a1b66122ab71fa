/**
 * The same user code (spec/dialects/userCode.ts) through the real pi 0.73.1 from
 * devDependencies: the baseline the omp and pi 1.x suites must match. Always runs (offline).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { PiSession } from '../../src/session/PiSession.js';
import type { FakePiEnv } from '../../src/testing/fakePiEnv.js';
import { EXPECTED_REPORT, runUserCode, startUserCodeEnv } from './userCode.js';

describe('the same user code on pi 0.73 (real pi, fake LLM)', () => {
  let env: FakePiEnv | undefined;
  let session: PiSession | undefined;
  afterAll(async () => {
    await session?.close();
    await env?.close();
  });

  it('sees the expected events, with the capabilities of pi 0.73', async () => {
    env = await startUserCodeEnv();
    const result = await runUserCode(env.config, env.cwd);
    session = result.session;
    expect(session.capabilities).toMatchObject({ dialect: 'pi-0.73', version: '0.73.1', approvals: 'extension', agentSettled: false });
    expect(result.report).toEqual(EXPECTED_REPORT);
  });
});
