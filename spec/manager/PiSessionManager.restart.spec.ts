/**
 * The manager and crash recovery: a session's `session_restarted` event becomes the manager's
 * notice (in its place), restarts are counted, a restarting session is busy for the reaper, and the
 * manager's `restart` reaches the factory.
 */
import { filter, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { PiConfigError } from '../../src/errors.js';
import { isManagerNotice, type ManagerEvent, type ManagerNotice } from '../../src/manager/notices.js';
import { PiSessionManager } from '../../src/manager/PiSessionManager.js';
import type { StartOptions } from '../../src/session/PiClient.js';
import { fakeSession, fakeState, type FakeEvent, type FakeSession } from '../helpers/fakeSession.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

const MIN = 60_000;
const restartedEvent = (sessionId: string, attempt: number): FakeEvent & Record<string, unknown> => ({
  type: 'session_restarted',
  sessionId,
  attempt,
  exitCode: null,
  signal: 'SIGKILL',
});

const noticesOf = <E>(manager: { readonly events$: Observable<ManagerEvent<E>> }): Observable<ManagerNotice> => manager.events$.pipe(filter(isManagerNotice));

describe('PiSessionManager and restarts', () => {
  it("reports a session's session_restarted event as its notice, in the event's place, and counts it", () => {
    const scheduler = createTestScheduler();
    let manager!: PiSessionManager<FakeSession>;
    scheduler.run(({ hot, expectObservable }) => {
      manager = new PiSessionManager({ idleTimeoutMs: null, scheduler });
      const events = hot<FakeEvent>('-- a -- r -- b', {
        a: { type: 'tick', sessionId: 's1', n: 1 },
        r: restartedEvent('s1', 1),
        b: { type: 'tick', sessionId: 's1', n: 2 },
      });
      manager.register(fakeSession('s1', { events$: events }));
      expectObservable(manager.events$).toBe('-- a -- r -- b', {
        a: { type: 'tick', sessionId: 's1', n: 1 },
        r: { type: 'session_restarted', sessionId: 's1', attempt: 1, exitCode: null, signal: 'SIGKILL' },
        b: { type: 'tick', sessionId: 's1', n: 2 },
      });
      expectObservable(noticesOf(manager).pipe(filter((notice) => notice.type === 'session_restarted'))).toBe('-----r', {
        r: { type: 'session_restarted', sessionId: 's1', attempt: 1, exitCode: null, signal: 'SIGKILL' },
      });
    });
    expect(manager.restarts).toBe(1);
    expect(manager.has('s1')).toBe(true);
  });

  it('a restarting session is busy: the reaper waits until it is idle again', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const manager = new PiSessionManager({ idleTimeoutMs: 10 * MIN, reapIntervalMs: 0, scheduler });
      // Idle at 0, restarting from 5 min to 20 min, idle again after.
      const state$ = hot('i 5m R 15m i', { i: fakeState({ status: 'idle' }), R: fakeState({ status: 'restarting' }) });
      manager.register(fakeSession('s1', { state$, activity$: hot<number>('-') }));
      // Reaped 10 minutes after the restart ended (at 20 min + 2 frames of marble time).
      expectObservable(noticesOf(manager).pipe(filter((notice) => notice.type === 'reaped'))).toBe(`${30 * MIN + 2}ms r`, {
        r: { type: 'reaped', sessionId: 's1', reason: 'idle', idleMs: 10 * MIN },
      });
    });
  });

  it('gives the factory its restart unless the options have their own; a bad one is a PiConfigError at construction', async () => {
    const seen: StartOptions[] = [];
    const manager = new PiSessionManager<FakeSession, StartOptions>({
      idleTimeoutMs: null,
      restart: { maxRestarts: 5 },
      factory: (options) => {
        seen.push(options);
        return Promise.resolve(fakeSession(`s${seen.length}`));
      },
    });
    await manager.create({ task: 'a' });
    await manager.create({ task: 'b', restart: false });
    expect(seen).toEqual([
      { task: 'a', restart: { maxRestarts: 5 } },
      { task: 'b', restart: false },
    ]);
    await manager.dispose();
    expect(() => new PiSessionManager({ restart: { backoffMs: -1 } })).toThrow(PiConfigError);
  });
});
