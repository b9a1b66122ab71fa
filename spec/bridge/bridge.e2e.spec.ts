/**
 * End-to-end: a real pi 0.73.1 session (fake LLM) behind the bridge, driven from
 * `pidriver/browser`'s RemoteSession over real HTTP (Node's fetch). One pi process for the file.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { filter, firstValueFrom, Subject, switchMap, takeWhile, timeout, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSession, type RemoteSession } from '../../src/browser/connectSession.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import { UsageTotals } from '../../src/usage/UsageTotals.js';
import { startBridge, type Bridge } from './helpers.js';
import { waitFor } from '../helpers/realPi.js';

let env: FakePiEnv;
let session: PiSession;
let bridge: Bridge;
let remote: RemoteSession;

beforeAll(async () => {
  env = await startFakePiEnv();
  session = await new PiClient({ config: env.config }).start({ cwd: env.cwd });
  bridge = await startBridge(session, { heartbeatMs: null });
  remote = connectSession(bridge.url);
});

afterAll(async () => {
  remote?.close();
  await bridge?.close();
  await session?.close();
  await env?.close();
});

const runEnd = (after: number) =>
  firstValueFrom(
    remote.events$.pipe(
      filter((event): event is Extract<PiEvent, { type: 'agent_end' }> => event.type === 'agent_end' && event.seq > after),
      timeout(30_000),
    ),
  );

describe('bridge + browser client through the real pi CLI', () => {
  it('streams a real run; switchMap over prompt$ aborts the superseded run', async () => {
    const prompts = new Subject<string>();
    const seen: PiEvent[] = [];
    const subscription = prompts.pipe(switchMap((text) => remote.prompt$(text))).subscribe({ next: (event) => seen.push(event), error: () => undefined });
    const firstDelta = firstValueFrom(
      remote.events$.pipe(
        filter((event) => event.type === 'message_delta'),
        timeout(30_000),
      ),
    );
    const cancelled = runEnd(0);
    prompts.next('scenario:slow:40:100');
    await firstDelta;
    prompts.next('scenario:text [[text:the second prompt wins]]');
    expect(await cancelled).toMatchObject({ reason: 'cancelled' });
    const completed = await runEnd((await cancelled).seq);
    expect(completed).toMatchObject({ reason: 'completed', finalText: 'the second prompt wins' });
    expect(completed.usage).toBeInstanceOf(UsageTotals);
    expect(completed.usage.totalTokens).toBeGreaterThan(0);
    // The run's own POST stream is a different HTTP response from events$: wait (bounded) for its end.
    expect(await waitFor(() => seen.some((event) => event.type === 'agent_end'))).toBe(true);
    expect(seen.filter((event) => event.type === 'agent_end')).toHaveLength(1); // the first prompt$ was unsubscribed
    subscription.unsubscribe();
  });

  it('a bash permission answered with respond(): Deny blocks the tool, Allow runs it', async () => {
    for (const [answer, name] of [
      [false, 'denied.txt'],
      [true, 'allowed.txt'],
    ] as const) {
      const file = join(env.cwd, name);
      const events = firstValueFrom(
        remote.prompt$(`scenario:tool-bash [[cmd:touch ${file}]]`).pipe(
          takeWhile((event) => event.type !== 'agent_end', true),
          toArray(),
          timeout(30_000),
        ),
      );
      const [request] = await firstValueFrom(
        remote.pending$.pipe(
          filter((pending) => pending.length > 0),
          timeout(30_000),
        ),
      );
      expect(request).toMatchObject({ kind: 'permission', toolName: 'bash', args: { command: `touch ${file}` } });
      await remote.respond(request!.requestId, answer);
      const toolEnd = (await events).find((event) => event.type === 'tool_end');
      expect(toolEnd).toMatchObject({ isError: !answer });
      expect(existsSync(file)).toBe(answer);
    }
    const idle = await firstValueFrom(
      remote.state$.pipe(
        filter((state) => state.status === 'idle'),
        timeout(30_000),
      ),
    );
    expect(idle).toMatchObject({ pendingRequests: 0, runs: 4 });
  });
});
