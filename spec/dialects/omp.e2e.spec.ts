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
import * as z from 'zod';
import { PiConfig } from '../../src/config/PiConfig.js';
import { PiConfigError } from '../../src/errors.js';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import { recordTranscript, type TranscriptRecord } from '../../src/testing/recordTranscript.js';
import { detectPi } from '../../src/transport/detectDialect.js';
import { hostTool } from '../../src/tools/hostTool.js';
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

  it('host tools, structured output and run limits work as on pi 0.73, over omp’s set_host_tools and host_tool_* frames', async () => {
    const tenv = await startFakePiEnv();
    try {
      const wire: TranscriptRecord[] = [];
      const recording = recordTranscript((record) => wire.push(record), { normalize: false });
      const client = new PiClient({
        config: tenv.config.with({ binary: omp.binary, offline: false }),
        approve: 'none',
        transportFactory: recording.transportFactory,
      });
      const calls: { sku: string; toolCallId: string }[] = [];
      const lookup = hostTool({
        name: 'lookup_stock',
        description: 'Looks up how many units of a SKU are in stock.',
        parameters: z.object({ sku: z.string() }),
        execute: ({ sku }, { toolCallId }) => {
          calls.push({ sku, toolCallId });
          return `12 units of ${sku}`;
        },
      });
      const session = await client.start({ cwd: tenv.cwd, tools: [lookup], limits: { maxTurns: 3 } });
      sessions.push(session);
      expect(session.capabilities).toMatchObject({ dialect: 'omp', version: omp.version });

      const tool = await session.prompt('scenario:tool-call [[tool:lookup_stock]] [[args:{"sku":"A-1"}]]');
      expect(tool).toMatchObject({ reason: 'completed' });
      expect(tool.finalText).toContain('12 units of A-1');
      expect(calls).toEqual([{ sku: 'A-1', toolCallId: 'call_tool_1' }]);
      process.stdout.write(JSON.stringify(tenv.llm.requests.map((r) => r.tools)) + '\n' + JSON.stringify(tenv.llm.requests[0]?.body).slice(0, 20000) + '\n');
      expect(tenv.llm.requests.at(-1)?.tools).toContain('lookup_stock');

      const City = z.object({ city: z.string(), population: z.number() });
      const out = await session.prompt('scenario:result-prose [[args:{"city":"Paris","population":2100000}]]', { output: City });
      expect(out).toMatchObject({ reason: 'completed', output: { city: 'Paris', population: 2_100_000 } });

      await expect(session.prompt('scenario:tool-loop [[tool:lookup_stock]] [[args:{"sku":"B"}]]')).resolves.toMatchObject({
        reason: 'limit',
        limit: 'maxTurns',
      });
      // The session is usable after the limit, and the result tool is gone again.
      await expect(session.prompt('scenario:text')).resolves.toMatchObject({ reason: 'completed', finalText: 'Hello from the fake LLM.' });
      expect(tenv.llm.requests.at(-1)?.tools).toContain('lookup_stock');
      expect(tenv.llm.requests.at(-1)?.tools).not.toContain('submit_result');

      // On the wire: omp's own frames, with the field names of its rpc-types.ts.
      const frames = (dir: 'in' | 'out') =>
        wire.flatMap((record) => (record.dir === dir ? [JSON.parse(record.line) as { type: string; [field: string]: unknown }] : []));
      const setTools = frames('in').filter((frame) => frame.type === 'set_host_tools');
      expect(setTools.map((frame) => (frame['tools'] as { name: string }[]).map((spec) => spec.name))).toEqual([
        ['lookup_stock'],
        ['lookup_stock', 'submit_result'],
        ['lookup_stock'],
      ]);
      const answered = frames('out').filter((frame) => frame.type === 'response' && frame['command'] === 'set_host_tools');
      expect(answered.every((frame) => frame['success'] === true)).toBe(true);
      expect(frames('out').find((frame) => frame.type === 'host_tool_call')).toMatchObject({
        id: expect.any(String),
        toolCallId: 'call_tool_1',
        toolName: 'lookup_stock',
        arguments: { sku: 'A-1' },
      });
      expect(frames('in').find((frame) => frame.type === 'host_tool_result')).toMatchObject({
        id: expect.any(String),
        result: { content: [{ type: 'text', text: '12 units of A-1' }] },
      });
      await recording.close();
    } finally {
      await tenv.close();
    }
  });
});
