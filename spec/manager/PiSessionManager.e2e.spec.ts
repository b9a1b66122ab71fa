/**
 * End-to-end: PiSessionManager over real pi 0.73.1 processes and the bundled fake LLM.
 */
import { filter, firstValueFrom, take, timeout, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isManagerNotice, type ManagerEvent } from '../../src/manager/notices.js';
import { PiSessionManager } from '../../src/manager/PiSessionManager.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import { isProcessAlive, waitFor } from '../helpers/realPi.js';

let env: FakePiEnv;
let client: PiClient;

beforeAll(async () => {
  env = await startFakePiEnv();
  client = new PiClient({ config: env.config, approve: 'none' });
});

afterAll(async () => {
  await env.close();
});

describe('PiSessionManager through the real pi CLI', () => {
  it('runs 8 sessions at once, merges their events, survives one being killed, and stopAll leaves no pi', async () => {
    await using manager = new PiSessionManager({ factory: (o) => client.start(o), maxSessions: 8 });
    const events: ManagerEvent<PiEvent>[] = [];
    const subscription = manager.events$.subscribe((event) => events.push(event));

    const sessions = await Promise.all(Array.from({ length: 8 }, (_, index) => manager.create({ cwd: env.cwd, sessionId: `s${index}` })));
    expect(manager.size).toBe(8);
    await expect(manager.create({ cwd: env.cwd })).rejects.toMatchObject({ name: 'PiCapacityError' });
    const pids = sessions.map((session) => session.pid!);
    expect(pids.every(isProcessAlive)).toBe(true);

    const results = await Promise.all(sessions.map((session, index) => session.prompt(`scenario:text [[text:answer ${index}]]`)));
    expect(results.map((result) => result.finalText)).toEqual(sessions.map((_, index) => `answer ${index}`));
    // Every session's run shows up in the merged stream, tagged with its id.
    for (let index = 0; index < 8; index++) {
      const own = events.filter((event) => !isManagerNotice(event) && event.sessionId === `s${index}`);
      expect(own.some((event) => event.type === 'agent_end')).toBe(true);
    }
    expect(manager.usage.inputTokens).toBe(8 * 60);

    // Kill one from outside: it is reported and removed; the others go on.
    const died = firstValueFrom(
      manager.events$.pipe(
        filter((event) => event.type === 'session_died'),
        timeout(10_000),
      ),
    );
    process.kill(pids[3]!, 'SIGKILL');
    expect(await died).toMatchObject({ sessionId: 's3' });
    await waitFor(() => !manager.has('s3'));
    expect(manager.has('s3')).toBe(false);
    expect(await manager.get('s4').prompt('scenario:text [[text:still here]]')).toMatchObject({ finalText: 'still here' });

    const stopped = await manager.stopAll({ timeoutMs: 10_000 });
    expect(stopped.map((result) => result.status).every((status) => status === 'closed')).toBe(true);
    expect(manager.size).toBe(0);
    expect(await waitFor(() => pids.every((pid) => !isProcessAlive(pid)))).toBe(true);
    subscription.unsubscribe();
  });

  it('reaps a real session after a 2-second idle timeout', async () => {
    await using manager = new PiSessionManager({ factory: (o) => client.start(o), idleTimeoutMs: 2_000, reapIntervalMs: 100 });
    const session: PiSession = await manager.create({ cwd: env.cwd });
    const pid = session.pid!;
    const startedAt = Date.now();
    const notices = firstValueFrom(
      manager.events$.pipe(
        filter((event) => isManagerNotice(event) && event.sessionId === session.sessionId),
        filter((event) => event.type === 'reaped' || event.type === 'session_removed'),
        take(2),
        toArray(),
        timeout(20_000),
      ),
    );
    const [reaped, removed] = await notices;
    expect(reaped).toMatchObject({ type: 'reaped', reason: 'idle' });
    expect((reaped as { idleMs: number }).idleMs).toBeGreaterThanOrEqual(2_000);
    expect(removed).toMatchObject({ type: 'session_removed', reason: 'reaped' });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1_900);
    // Removal comes first (the registry frees the slot at once); the close finishes after it.
    expect(await waitFor(() => !isProcessAlive(pid))).toBe(true);
    expect(await waitFor(() => session.state.status === 'closed')).toBe(true);
  });

  it('does not reap a session while its run is going', async () => {
    await using manager = new PiSessionManager({ factory: (o) => client.start(o), idleTimeoutMs: 300, reapIntervalMs: 50 });
    const session = await manager.create({ cwd: env.cwd });
    // A 1.5 s run: 30 deltas 50 ms apart. Deltas are activity too, but the run alone must prevent reaping.
    const result = await session.prompt('scenario:slow:30:50');
    expect(result.reason).toBe('completed');
    expect(manager.has(session.sessionId)).toBe(true);
  });
});
