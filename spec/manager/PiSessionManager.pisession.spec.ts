/**
 * The manager over real `PiSession`s (started by a real `PiClient`) on fake transports: the
 * structural contract as the session implements it, without a process.
 */
import { filter, firstValueFrom, map, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { TransportClosedError } from '../../src/errors.js';
import { isManagerNotice } from '../../src/manager/notices.js';
import { PiSessionManager } from '../../src/manager/PiSessionManager.js';
import type { ManagerEvent } from '../../src/manager/notices.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiClient } from '../../src/session/PiClient.js';
import { FakeTransport, type SentCommand } from '../../src/testing/FakeTransport.js';

const MIN = 60_000;

/** A pi that answers every prompt with one assistant message (10 input tokens). */
function runningPi(command: SentCommand, transport: FakeTransport): void {
  if (command.type === 'prompt') {
    transport.reply(command);
    transport.emitFrame({ type: 'agent_start' });
    transport.emitFrame({
      type: 'message_end',
      message: {
        role: 'assistant',
        content: [{ type: 'text', text: 'ok' }],
        stopReason: 'stop',
        usage: { input: 10, output: 2, cacheRead: 0, cacheWrite: 0, totalTokens: 12, cost: { total: 0.001 } },
      },
    });
    transport.emitFrame({ type: 'agent_end', messages: [] });
    return;
  }
  FakeTransport.defaultResponder(command, transport);
}

function setup() {
  const scheduler = new VirtualTimeScheduler();
  const transports: FakeTransport[] = [];
  const client = new PiClient({
    transportFactory: () => {
      const transport = new FakeTransport({ respond: runningPi });
      transports.push(transport);
      return transport;
    },
    scheduler,
  });
  // The wiring the issue promises: client.start is the factory.
  const manager = new PiSessionManager({
    factory: (o) => client.start(o),
    idleTimeoutMs: 10 * MIN,
    reapIntervalMs: MIN,
    scheduler,
  });
  const seen: ManagerEvent<PiEvent>[] = [];
  manager.events$.subscribe((event) => seen.push(event));
  return { scheduler, manager, transports, seen };
}

describe('PiSessionManager with PiSession', () => {
  it('forwards typed events, sums usage, reports a death and reaps an idle session', async () => {
    const { scheduler, manager, transports, seen } = setup();

    const a = await manager.create({ sessionId: 'a', cwd: process.cwd() });
    const b = await manager.create({ sessionId: 'b', cwd: process.cwd() });
    expect(manager.ids()).toEqual(['a', 'b']);

    await a.prompt('hello');
    expect(seen).toContainEqual(expect.objectContaining({ type: 'agent_end', sessionId: 'a' }));
    expect(manager.usage.inputTokens).toBe(10);
    expect(manager.usage.equals(a.usage)).toBe(true);

    // b's process dies on its own.
    const death = firstValueFrom(manager.events$.pipe(filter((e) => e.type === 'session_died')));
    transports[1]?.exit(1);
    const notice = await death;
    expect(notice).toMatchObject({ type: 'session_died', sessionId: 'b' });
    expect(notice.type === 'session_died' && notice.error).toBeInstanceOf(TransportClosedError);
    expect(manager.ids()).toEqual(['a']);
    expect(b.status).toBe('closed');
    // The manager still closes a died session (to reap leftovers); stop() waits for that close.
    expect(await manager.stop('b')).toMatchObject({ sessionId: 'b', status: 'already-dead' });

    // a goes idle: virtual time runs to the first minute tick at or after its deadline.
    const reap = firstValueFrom(
      manager.events$.pipe(
        filter((e) => e.type === 'reaped'),
        map((event) => ({ event, at: scheduler.now() })),
      ),
    );
    scheduler.flush();
    const reaped = await reap;
    expect(reaped.event).toMatchObject({ type: 'reaped', sessionId: 'a', reason: 'idle', idleMs: 10 * MIN });
    expect(reaped.at).toBe(10 * MIN); // last activity at 0 → deadline 10 min, a tick
    expect(manager.size).toBe(0);

    const results = await manager.stopAll();
    expect(results).toEqual([expect.objectContaining({ sessionId: 'a', status: 'closed' })]);
    expect(a.status).toBe('closed');
    expect(manager.usage.inputTokens).toBe(10); // kept after close
    expect(seen.filter(isManagerNotice).map((n) => `${n.type}:${n.sessionId}`)).toEqual([
      'session_added:a',
      'session_added:b',
      'session_died:b',
      'session_removed:b',
      'reaped:a',
      'session_removed:a',
    ]);
  });

  it('stopAll maps a PiSession CloseResult, and a session that already exited', async () => {
    const { manager } = setup();
    const a = await manager.create({ sessionId: 'a', cwd: process.cwd() });
    await manager.create({ sessionId: 'b', cwd: process.cwd() });
    await a.close(); // closed behind the manager's back
    expect(manager.ids()).toEqual(['b']);
    const results = await manager.stopAll();
    expect(results).toEqual([{ sessionId: 'b', status: 'closed', closeResult: expect.objectContaining({ escalation: 'eof' }) }]);
  });
});
