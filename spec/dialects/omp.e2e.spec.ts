/**
 * Opt-in: the same user code (spec/dialects/userCode.ts) against the real oh-my-pi 18.2.3
 * under Bun, both installed from npm into `.pidriver-cache/e2e/` on first use (~1 min, ~750 MB).
 *
 *     PIDRIVER_E2E_OMP=1 npx vitest run spec/dialects/omp.e2e.spec.ts
 *
 * Skipped (with the reason) when not enabled or when the install fails. omp probes the local
 * LLM ports 11434/8080/1234; the fake LLM listens on a random port.
 *
 * Host tools and structured output go over omp's own RPC frames (omp 18.2.3 has them: its
 * `src/modes/rpc/host-tools.ts` and `rpc-types.ts`): `set_host_tools`, then `host_tool_call` →
 * `host_tool_update`/`host_tool_result`, and `host_tool_cancel`.
 */
import { filter, firstValueFrom, take, timeout } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { PiConfig } from '../../src/config/PiConfig.js';
import { PiConfigError } from '../../src/errors.js';
import { autoApprove } from '../../src/policies/autoApprove.js';
import type { PiEvent, PiEventOf } from '../../src/protocol/events.js';
import { childFrameOf } from '../../src/protocol/subagentEvents.js';
import { SubagentsDataSchema } from '../../src/protocol/subagentFrames.js';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import { recordTranscript, type TranscriptRecord } from '../../src/testing/recordTranscript.js';
import { detectPi } from '../../src/transport/detectDialect.js';
import { hostTool } from '../../src/tools/hostTool.js';
import { resolveBinary } from '../../src/transport/resolveBinary.js';
import { e2eEnabled, installPi } from './installPi.js';
import { EXPECTED_LIFECYCLE, runLifecycle } from './lifecycleCode.js';
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
    await using tenv = await startFakePiEnv();
    const wire: TranscriptRecord[] = [];
    const recording = recordTranscript((record) => wire.push(record), { normalize: false });
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
    const config = tenv.config.with({ binary: omp.binary, offline: false });
    const client = new PiClient({ config, approve: 'none', transportFactory: recording.transportFactory });
    await using session = await client.start({ cwd: tenv.cwd, tools: [lookup], limits: { maxTurns: 3 } });

    const tool = await session.prompt('scenario:tool-call [[tool:lookup_stock]] [[args:{"sku":"A-1"}]]');
    expect(tool).toMatchObject({ reason: 'completed', finalText: expect.stringContaining('12 units of A-1') });
    expect(calls).toEqual([{ sku: 'A-1', toolCallId: 'call_tool_1' }]);

    const City = z.object({ city: z.string(), population: z.number() });
    const out = await session.prompt('scenario:result-prose [[args:{"city":"Paris","population":2100000}]]', { output: City });
    expect(out).toMatchObject({ reason: 'completed', output: { city: 'Paris', population: 2_100_000 } });

    const looped = await session.prompt('scenario:tool-loop [[tool:lookup_stock]] [[args:{"sku":"B"}]]');
    expect(looped).toMatchObject({ reason: 'limit', limit: 'maxTurns' });
    await expect(session.prompt('scenario:text')).resolves.toMatchObject({ reason: 'completed', finalText: 'Hello from the fake LLM.' });
    await session.close();
    await recording.close();

    // On the wire, omp's own frames with the field names of its src/modes/rpc/rpc-types.ts: the
    // tools set at start, again with the result tool before the structured run, and without it after.
    const frames = (dir: 'in' | 'out') => wire.flatMap((record) => (record.dir === dir ? [JSON.parse(record.line) as Record<string, unknown>] : []));
    const toolSets = frames('in').filter((frame) => frame['type'] === 'set_host_tools');
    expect(toolSets.map((frame) => (frame['tools'] as { name: string }[]).map((spec) => spec.name))).toEqual([
      ['lookup_stock'],
      ['lookup_stock', 'submit_result'],
      ['lookup_stock'],
    ]);
    expect(toolSets[0]?.['tools']).toMatchObject([
      {
        name: 'lookup_stock',
        description: 'Looks up how many units of a SKU are in stock.',
        parameters: expect.objectContaining({ type: 'object', properties: { sku: { type: 'string' } }, required: ['sku'] }),
      },
    ]);
    const answers = frames('out').filter((frame) => frame['type'] === 'response' && frame['command'] === 'set_host_tools');
    expect(answers.map((frame) => frame['success'])).toEqual([true, true, true]);
    expect(frames('out').find((frame) => frame['type'] === 'host_tool_call')).toEqual({
      type: 'host_tool_call',
      id: expect.any(String),
      toolCallId: 'call_tool_1',
      toolName: 'lookup_stock',
      arguments: { sku: 'A-1' },
    });
    const callId = frames('out').find((frame) => frame['type'] === 'host_tool_call')?.['id'];
    expect(frames('in').find((frame) => frame['type'] === 'host_tool_result')).toEqual({
      type: 'host_tool_result',
      id: callId,
      result: { content: [{ type: 'text', text: '12 units of A-1' }] },
    });
  });

  // A known bug (`it.fails` until fixed, then `it`): src/session/HostCalls.ts sends the tools
  // without `loadMode`, which omp reads as `discoverable`; with its `tools.xdev` setting (on by
  // default) the model then gets only a line `xd://lookup_stock — <description>` in the system
  // prompt, no function and no JSON Schema, and would call the tool through `write` to
  // `xd://lookup_stock`. `loadMode: 'essential'` makes each one a function. The fake LLM calls
  // tools by name whatever it is offered, so the test above passes either way.
  it('the model sees the host tools and the result tool as functions with their JSON Schema', async () => {
    await using tenv = await startFakePiEnv();
    const lookup = hostTool({
      name: 'lookup_stock',
      description: 'Looks up how many units of a SKU are in stock.',
      parameters: z.object({ sku: z.string().min(3) }),
      execute: ({ sku }) => `12 units of ${sku}`,
    });
    const client = new PiClient({ config: tenv.config.with({ binary: omp.binary, offline: false }), approve: 'none' });
    await using session = await client.start({ cwd: tenv.cwd, tools: [lookup] });
    const offered = () => {
      const request = tenv.llm.requests.at(-1);
      const body = request?.body as { tools?: { function: { name: string; description: string; parameters: unknown } }[] } | undefined;
      return body?.tools?.filter((spec) => ['lookup_stock', 'submit_result'].includes(spec.function.name)).map((spec) => spec.function) ?? [];
    };
    await session.prompt('scenario:text');
    expect(offered()).toEqual([
      {
        name: 'lookup_stock',
        description: 'Looks up how many units of a SKU are in stock.',
        // omp adds its own `i` ("concise intent") to every tool's schema, and strips it from the call.
        parameters: expect.objectContaining({
          type: 'object',
          properties: expect.objectContaining({ sku: { type: 'string', minLength: 3 } }),
          required: expect.arrayContaining(['sku']),
        }),
      },
    ]);
    const City = z.object({ city: z.string(), population: z.number() });
    await session.prompt('scenario:result [[args:{"city":"Paris","population":2100000}]]', { output: City });
    expect(offered().map((spec) => spec.name)).toEqual(['lookup_stock', 'submit_result']);
    await session.prompt('scenario:text');
    expect(offered().map((spec) => spec.name)).toEqual(['lookup_stock']);
  });

  // A known bug (`it.fails` until fixed, then `it`): pidriver runs omp with `--approval-mode
  // always-ask` for `approve: 'all'` and lists, and omp then asks before every host tool, the
  // result tool too. For a list, src/session/FrameRouter.ts approves the tools not in it; for
  // 'all' the result tool goes to the policy, which pi's extension never asks about.
  it('approve all: the host tool is a question for the policy, the result tool is not (as on pi 0.73)', async () => {
    await using tenv = await startFakePiEnv();
    const lookup = hostTool({
      name: 'lookup_stock',
      description: 'Looks up how many units of a SKU are in stock.',
      parameters: z.object({ sku: z.string() }),
      execute: ({ sku }) => `12 units of ${sku}`,
    });
    const config = tenv.config.with({ binary: omp.binary, offline: false });
    const client = new PiClient({ config, approve: 'all', policy: autoApprove() });
    await using session = await client.start({ cwd: tenv.cwd, tools: [lookup] });
    const asked: (string | undefined)[] = [];
    const subscription = session.events$.subscribe((event) => {
      if (event.type === 'interaction_request') asked.push(event.toolName);
    });
    try {
      await expect(session.prompt('scenario:tool-call [[tool:lookup_stock]] [[args:{"sku":"A-1"}]]')).resolves.toMatchObject({
        finalText: expect.stringContaining('12 units of A-1'),
      });
      const City = z.object({ city: z.string(), population: z.number() });
      const out = await session.prompt('scenario:result [[args:{"city":"Paris","population":2100000}]]', { output: City });
      expect(out).toMatchObject({ reason: 'completed', output: { city: 'Paris', population: 2_100_000 } });
      expect(asked).toEqual(['lookup_stock']);
    } finally {
      subscription.unsubscribe();
    }
  });

  it("omp's subagents (its task tool) come as subagent_* events with the parent's tool call, and get_subagents lists one while it runs", async () => {
    // `async.enabled` off: the task call waits for its subagent, so it is all one run.
    await using tenv = await startFakePiEnv({ settings: { async: { enabled: false } } });
    // omp keeps its subagents' sessions in a directory under its TMPDIR: inside the env, removed with it.
    const extraEnv = { ...tenv.config.extraEnv, TMPDIR: tenv.home };
    const client = new PiClient({ config: tenv.config.with({ binary: omp.binary, offline: false, extraEnv }), approve: 'none' });
    await using session = await client.start({ cwd: tenv.cwd });
    expect(session.capabilities.subagents).toBe(true);
    const events: PiEvent[] = [];
    const subscription = session.events$.subscribe((event) => events.push(event));
    try {
      const run = session.prompt('scenario:subagent:40 please');
      const started = await firstValueFrom(
        session.events$.pipe(
          filter((event): event is PiEventOf<'subagent_lifecycle'> => event.type === 'subagent_lifecycle'),
          take(1),
          timeout(60_000),
        ),
      );
      const running = SubagentsDataSchema.parse(await session.command('get_subagents')).subagents;
      const result = await run;
      expect(result).toMatchObject({ reason: 'completed', finalText: expect.stringContaining('Hello from the subagent.') });

      const task = events.find((event): event is PiEventOf<'tool_start'> => event.type === 'tool_start' && event.name === 'task');
      expect(task?.toolCallId).toBe('call_task_1');
      expect(started).toMatchObject({ status: 'started', agent: 'task', parentToolCallId: task?.toolCallId, detached: false });
      expect(running).toEqual([expect.objectContaining({ id: started.subagentId, status: 'running', parentToolCallId: task?.toolCallId })]);
      const ofSubagent = events.filter((event) => event.type.startsWith('subagent_'));
      for (const event of ofSubagent) expect(event).toMatchObject({ subagentId: started.subagentId, parentToolCallId: task?.toolCallId });
      const lifecycle = events.filter((event): event is PiEventOf<'subagent_lifecycle'> => event.type === 'subagent_lifecycle');
      expect(lifecycle.map((event) => event.status)).toEqual(['started', 'completed']);
      expect(events.filter((event) => event.type === 'subagent_progress').length).toBeGreaterThan(0);

      // The subagent's own session: its text in deltas, and its yield.
      const frames = events.flatMap((event) => (event.type === 'subagent_event' ? [childFrameOf(event)] : []));
      const text = frames
        .map((frame) => (frame?.type === 'message_update' && frame.assistantMessageEvent.type === 'text_delta' ? frame.assistantMessageEvent.delta : ''))
        .join('');
      expect(text).toBe('Hello from the subagent.');
      expect(frames.some((frame) => frame?.type === 'tool_execution_start' && frame.toolName === 'yield')).toBe(true);
      // An ended subagent is no longer listed.
      expect(SubagentsDataSchema.parse(await session.command('get_subagents')).subagents).toEqual([]);
    } finally {
      subscription.unsubscribe();
    }
  });
  it('session lifecycle: entries, fork, a crash and the restart on the fork, as on pi 0.73', async () => {
    const tenv = await startFakePiEnv();
    try {
      const { report, session } = await runLifecycle(tenv.config.with({ binary: omp.binary, offline: false }), tenv);
      sessions.push(session);
      expect(report).toEqual(EXPECTED_LIFECYCLE);
      await session.close();
    } finally {
      await tenv.close();
    }
  });
});
