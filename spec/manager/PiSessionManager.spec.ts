import { EventEmitter } from 'node:events';
import { filter, VirtualTimeScheduler } from 'rxjs';
import type { Observable } from 'rxjs';
import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import { PiCapacityError, PiDriverError, PiTimeoutError, SessionNotFoundError } from '../../src/errors.js';
import { isManagerNotice } from '../../src/manager/notices.js';
import { PiSessionManager } from '../../src/manager/PiSessionManager.js';
import type { ManagerEvent, ManagerNotice, RemovalReason } from '../../src/manager/notices.js';
import type { ManagedSession, SessionEventOf, StopResult } from '../../src/manager/ManagedSession.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { UsageTotals } from '../../src/usage/UsageTotals.js';
import { closeResult, deferred, fakeSession, fakeState, LiveFakeSession, type Deferred, type FakeEvent, type FakeSession } from '../helpers/fakeSession.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

const MIN = 60_000;

const added = (sessionId: string): ManagerNotice => ({ type: 'session_added', sessionId });
const removed = (sessionId: string, reason: RemovalReason): ManagerNotice => ({ type: 'session_removed', sessionId, reason });
const reaped = (sessionId: string, idleMs: number): ManagerNotice => ({ type: 'reaped', sessionId, reason: 'idle', idleMs });
const died = (sessionId: string, error: unknown): ManagerNotice => ({ type: 'session_died', sessionId, error });
const ev = (sessionId: string, n: number): FakeEvent => ({ type: 'tick', sessionId, n });

const noticesOf = <E>(manager: { readonly events$: Observable<ManagerEvent<E>> }): Observable<ManagerNotice> => manager.events$.pipe(filter(isManagerNotice));
const reapsOf = <E>(manager: { readonly events$: Observable<ManagerEvent<E>> }): Observable<ManagerNotice> =>
  noticesOf(manager).pipe(filter((notice) => notice.type === 'reaped'));

/** Lets every pending promise callback run (a macrotask boundary, not a sleep). */
const drain = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('PiSessionManager', () => {
  describe('idle reaping (TestScheduler)', () => {
    it('reaps a session after exactly the idle window, closes it and removes it', () => {
      const scheduler = createTestScheduler();
      let session: FakeSession | undefined;
      let manager: PiSessionManager | undefined;
      scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        manager = new PiSessionManager({ idleTimeoutMs: 30 * MIN, reapIntervalMs: 0, scheduler });
        const activity = hot<number>('-');
        const events = hot<FakeEvent>('-');
        session = fakeSession('s1', { activity$: activity, events$: events });
        expectObservable(manager.events$).toBe('a 1799999ms (rd)', {
          a: added('s1'),
          r: reaped('s1', 30 * MIN),
          d: removed('s1', 'reaped'),
        });
        const s = session;
        const m = manager;
        scheduler.schedule(() => m.register(s), 0);
        // The reaper lets go of the session's activity at the reap.
        expectSubscriptions(activity.subscriptions).toBe('^ 1799999ms !');
      });
      expect(session?.closeCalls).toBe(1);
      expect(manager?.has('s1')).toBe(false);
      expect(manager?.size).toBe(0);
    });

    it('restarts the idle window on every activity', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        const manager = new PiSessionManager({ idleTimeoutMs: 30 * MIN, reapIntervalMs: 0, scheduler });
        const activity = hot('5m a 4m b', { a: 1, b: 2 });
        manager.register(fakeSession('s1', { activity$: activity }));
        // b at 9 min + 1 ms → reaped 30 min later
        expectObservable(reapsOf(manager)).toBe('39m 1ms r', { r: reaped('s1', 30 * MIN) });
        expectSubscriptions(activity.subscriptions).toBe('^ 2340000ms !');
      });
    });

    it('never reaps a session while a run is in progress; the window restarts when it ends', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        const manager = new PiSessionManager({ idleTimeoutMs: 30 * MIN, reapIntervalMs: 0, scheduler });
        // running from 5 min to 50 min
        const state = hot('i 299999ms r 2699999ms i', { i: fakeState(), r: fakeState({ status: 'running' }) });
        manager.register(fakeSession('s1', { activity$: hot('-'), state$: state }));
        expectObservable(reapsOf(manager)).toBe('80m r', { r: reaped('s1', 30 * MIN) });
      });
    });

    it('never reaps a session with an open interaction request; the window restarts when it is answered', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        const manager = new PiSessionManager({ idleTimeoutMs: 30 * MIN, reapIntervalMs: 0, scheduler });
        // a request open from 5 min to 60 min (longer than the idle window)
        const state = hot('i 299999ms p 3299999ms i', { i: fakeState(), p: fakeState({ pendingRequests: 1 }) });
        manager.register(fakeSession('s1', { activity$: hot('-'), state$: state }));
        expectObservable(reapsOf(manager)).toBe('90m r', { r: reaped('s1', 30 * MIN) });
      });
    });

    it('keeps watching a session whose run never ends, and never reaps it', () => {
      const scheduler = createTestScheduler();
      let session: FakeSession | undefined;
      scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        const manager = new PiSessionManager({ idleTimeoutMs: 30 * MIN, reapIntervalMs: MIN, scheduler });
        const activity = hot<number>('-');
        const state = hot('i 299999ms r', { i: fakeState(), r: fakeState({ status: 'running' }) });
        session = fakeSession('s1', { activity$: activity, state$: state });
        manager.register(session);
        expectObservable(reapsOf(manager)).toBe('-');
        expectSubscriptions(activity.subscriptions).toBe('^');
      });
      expect(session?.closeCalls).toBe(0);
    });

    describe('reapIntervalMs granularity: reaped at the first tick (every reapIntervalMs from construction) at or after the deadline', () => {
      it('a session registered 10 s after construction is reaped at the 31-minute tick', () => {
        const scheduler = createTestScheduler();
        scheduler.run(({ hot, expectObservable }) => {
          const manager = new PiSessionManager({ idleTimeoutMs: 30 * MIN, reapIntervalMs: MIN, scheduler });
          const session = fakeSession('s1', { activity$: hot('-') });
          expectObservable(reapsOf(manager)).toBe('31m r', { r: reaped('s1', 31 * MIN - 10_000) });
          scheduler.schedule(() => manager.register(session), 10_000);
        });
      });

      it('a deadline on a tick is reaped at that tick', () => {
        const scheduler = createTestScheduler();
        scheduler.run(({ hot, expectObservable }) => {
          const manager = new PiSessionManager({ idleTimeoutMs: 30 * MIN, reapIntervalMs: MIN, scheduler });
          manager.register(fakeSession('s1', { activity$: hot('5m a', { a: 1 }) }));
          // activity at 5 min → deadline 35 min, a tick
          expectObservable(reapsOf(manager)).toBe('35m r', { r: reaped('s1', 30 * MIN) });
        });
      });

      it('a deadline 1 ms past a tick waits for the next tick', () => {
        const scheduler = createTestScheduler();
        scheduler.run(({ hot, expectObservable }) => {
          const manager = new PiSessionManager({ idleTimeoutMs: 30 * MIN, reapIntervalMs: MIN, scheduler });
          manager.register(fakeSession('s1', { activity$: hot('5m 1ms a', { a: 1 }) }));
          // activity at 5 min + 1 ms → deadline 35 min + 1 ms → tick 36 min
          expectObservable(reapsOf(manager)).toBe('36m r', { r: reaped('s1', 31 * MIN - 1) });
        });
      });

      it('reaps several sessions idle since different times at the same tick', () => {
        const scheduler = createTestScheduler();
        scheduler.run(({ hot, expectObservable }) => {
          const manager = new PiSessionManager({ idleTimeoutMs: 10 * MIN, reapIntervalMs: 5 * MIN, scheduler });
          manager.register(fakeSession('a', { activity$: hot('1m x', { x: 1 }) }));
          manager.register(fakeSession('b', { activity$: hot('4m x', { x: 1 }) }));
          // deadlines 11 min and 14 min → both at the 15-minute tick
          expectObservable(reapsOf(manager)).toBe('15m (ab)', {
            a: reaped('a', 14 * MIN),
            b: reaped('b', 11 * MIN),
          });
        });
      });
    });

    it('falls back to events$ for activity when a session has no activity$', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        const manager = new PiSessionManager({ idleTimeoutMs: 5, reapIntervalMs: 0, scheduler });
        const events = hot<FakeEvent>('--a', { a: ev('s1', 1) });
        manager.register(fakeSession('s1', { events$: events }));
        expectObservable(manager.events$).toBe('--a----(rd)', {
          a: ev('s1', 1),
          r: reaped('s1', 5),
          d: removed('s1', 'reaped'),
        });
      });
    });

    it('polls lastActivity (once per reap interval) for a session with no stream at all', () => {
      // The run ends only because the reaper's poll interval is torn down at the reap.
      const scheduler = createTestScheduler();
      scheduler.run(({ expectObservable }) => {
        const manager = new PiSessionManager({ idleTimeoutMs: 10, reapIntervalMs: 4, scheduler });
        const quiet = fakeSession('quiet');
        const busy = fakeSession('busy');
        manager.register(quiet);
        manager.register(busy);
        scheduler.schedule(() => (busy.lastActivity = 5), 5);
        // quiet: deadline 10 → tick 12. busy: the poll at 8 sees the change → deadline 18 → tick 20.
        expectObservable(reapsOf(manager)).toBe('12ms q 7ms b', { q: reaped('quiet', 12), b: reaped('busy', 12) });
      });
    });

    it('does not reap with idleTimeoutMs: null', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        const manager = new PiSessionManager({ idleTimeoutMs: null, scheduler });
        const activity = hot<number>('-');
        manager.register(fakeSession('s1', { activity$: activity }));
        expectObservable(reapsOf(manager)).toBe('-');
        expectSubscriptions(activity.subscriptions).toBe([]);
      });
    });

    it('stops reaping a session that was stopped', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        const manager = new PiSessionManager({ idleTimeoutMs: 10, reapIntervalMs: 0, scheduler });
        const activity = hot<number>('-');
        manager.register(fakeSession('s1', { activity$: activity }));
        scheduler.schedule(() => void manager.stop('s1'), 4);
        expectObservable(noticesOf(manager)).toBe('----d', { d: removed('s1', 'stopped') });
        expectSubscriptions(activity.subscriptions).toBe('^---!');
      });
    });
  });

  describe('events$', () => {
    it('merges the sessions’ events; a session that dies is reported and removed, the others go on', () => {
      const scheduler = createTestScheduler();
      let s1: FakeSession | undefined;
      let manager: PiSessionManager | undefined;
      const boom = new Error('pi exited unexpectedly');
      scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        manager = new PiSessionManager({ idleTimeoutMs: 100, reapIntervalMs: 0, scheduler });
        const e1 = hot<FakeEvent>('-a--#', { a: ev('s1', 1) }, boom);
        const a1 = hot<number>('    -');
        const e2 = hot<FakeEvent>('--b------c', { b: ev('s2', 1), c: ev('s2', 2) });
        const a2 = hot<number>('    -');
        s1 = fakeSession('s1', { events$: e1, activity$: a1 });
        manager.register(s1);
        manager.register(fakeSession('s2', { events$: e2, activity$: a2 }));
        expectObservable(manager.events$).toBe('-ab-(xy)-c 90ms (rz)', {
          a: ev('s1', 1),
          b: ev('s2', 1),
          x: died('s1', boom),
          y: removed('s1', 'died'),
          c: ev('s2', 2),
          r: reaped('s2', 100),
          z: removed('s2', 'reaped'),
        });
        expectSubscriptions(e1.subscriptions).toBe('^---!');
        expectSubscriptions(a1.subscriptions).toBe('^---!');
        expectSubscriptions(a2.subscriptions).toBe('^ 99ms !');
      });
      // A died session is still closed, so whatever its process left behind is reaped.
      expect(s1?.closeCalls).toBe(1);
    });

    it('removes a session closed behind its back (events$ completes) without closing it again', async () => {
      const manager = new PiSessionManager({ idleTimeoutMs: null });
      const notices: ManagerNotice[] = [];
      manager.events$.pipe(filter(isManagerNotice)).subscribe((n) => notices.push(n));
      const session = new LiveFakeSession('s1');
      manager.register(session);
      session.end();
      expect(notices).toEqual([added('s1'), removed('s1', 'closed')]);
      expect(session.closeCalls).toBe(0);
      expect(session.eventsObserved).toBe(false);
      expect(session.activityObserved).toBe(false);
      expect(await manager.stopAll()).toEqual([]);
    });

    it('reports a LiveFakeSession that dies and closes it, while another keeps forwarding events', async () => {
      const manager = new PiSessionManager({ idleTimeoutMs: null });
      const seen: ManagerEvent[] = [];
      manager.events$.subscribe((e) => seen.push(e));
      const a = new LiveFakeSession('a');
      const b = new LiveFakeSession('b');
      manager.register(a);
      manager.register(b);
      const error = new Error('killed by SIGSEGV');
      a.die(error);
      b.emit('tick', 1);
      expect(seen).toEqual([added('a'), added('b'), died('a', error), removed('a', 'died'), { type: 'tick', sessionId: 'b', n: 1 }]);
      expect(manager.ids()).toEqual(['b']);
      const results = await manager.stopAll();
      expect(a.closeCalls).toBe(1);
      expect(results.map((r) => r.sessionId)).toEqual(['b', 'a']);
    });

    it('forwards a session’s events until its close settles', async () => {
      const manager = new PiSessionManager({ idleTimeoutMs: null });
      const closing = deferred<unknown>();
      const session = new LiveFakeSession('s1', { close: () => closing.promise });
      const seen: ManagerEvent[] = [];
      manager.events$.subscribe((e) => seen.push(e));
      manager.register(session);
      const stopped = manager.stop('s1');
      session.emit('last_words', 1);
      expect(session.eventsObserved).toBe(true);
      closing.resolve(closeResult('eof'));
      await stopped;
      expect(seen).toContainEqual({ type: 'last_words', sessionId: 's1', n: 1 });
      expect(session.eventsObserved).toBe(false);
    });
  });

  describe('registry', () => {
    it('get / has / ids / size', async () => {
      const manager = new PiSessionManager({ idleTimeoutMs: null });
      const a = fakeSession('a');
      const b = fakeSession('b');
      expect(manager.size).toBe(0);
      expect(manager.register(a)).toBe(a);
      manager.register(b);
      expect(manager.get('a')).toBe(a);
      expect(manager.has('b')).toBe(true);
      expect(manager.has('c')).toBe(false);
      expect(manager.ids()).toEqual(['a', 'b']);
      expect(manager.size).toBe(2);

      let thrown: unknown;
      try {
        manager.get('nope');
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(SessionNotFoundError);
      expect(thrown).toMatchObject({ sessionId: 'nope', code: 'PI_SESSION_NOT_FOUND' });

      await expect(manager.stop('nope')).rejects.toBeInstanceOf(SessionNotFoundError);
      expect(() => manager.register(fakeSession('a'))).toThrow(expect.objectContaining({ code: 'PI_DUPLICATE_SESSION' }));

      expect(await manager.stop('a')).toEqual({ sessionId: 'a', status: 'closed', closeResult: closeResult('eof') });
      expect(a.closeCalls).toBe(1);
      expect(manager.ids()).toEqual(['b']);
      expect(manager.size).toBe(1);
      expect(manager.has('a')).toBe(false);
    });

    it('sessions$ replays the current set to a late subscriber, then follows changes', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        const manager = new PiSessionManager({ idleTimeoutMs: null, scheduler });
        const s1 = fakeSession('s1', { events$: hot<FakeEvent>('--------|') });
        const s2 = fakeSession('s2');
        manager.register(s1);
        scheduler.schedule(() => manager.register(s2), 3);
        const one = new Map([['s1', s1]]);
        const both = new Map([
          ['s1', s1],
          ['s2', s2],
        ]);
        const two = new Map([['s2', s2]]);
        expectObservable(manager.sessions$).toBe('a--b----c', { a: one, b: both, c: two });
        expectObservable(manager.sessions$, '-----^').toBe('-----b--c', { b: both, c: two });
      });
    });
  });

  describe('create and capacity', () => {
    function startable() {
      const starts: Deferred<FakeSession>[] = [];
      const factory = vi.fn((_options: { readonly id: string }) => {
        const start = deferred<FakeSession>();
        starts.push(start);
        return start.promise;
      });
      return { starts, factory };
    }

    it('starts a session through the factory and registers it', async () => {
      const manager = new PiSessionManager({
        factory: (options: { readonly id: string }) => Promise.resolve(fakeSession(options.id)),
        idleTimeoutMs: null,
      });
      const notices: ManagerNotice[] = [];
      noticesOf(manager).subscribe((n) => notices.push(n));
      const session = await manager.create({ id: 'job-1' });
      expect(manager.get('job-1')).toBe(session);
      expect(notices).toEqual([added('job-1')]);
    });

    it('rejects at maxSessions with PiCapacityError and starts no process, counting creates in flight', async () => {
      const { starts, factory } = startable();
      const manager = new PiSessionManager({ factory, maxSessions: 1, idleTimeoutMs: null });
      const first = manager.create({ id: 'a' });
      const second = manager.create({ id: 'b' });
      await expect(second).rejects.toBeInstanceOf(PiCapacityError);
      await expect(second).rejects.toMatchObject({ maxSessions: 1, code: 'PI_CAPACITY' });
      expect(factory).toHaveBeenCalledTimes(1);

      starts[0]?.resolve(fakeSession('a'));
      await expect(first).resolves.toMatchObject({ sessionId: 'a' });
      await expect(manager.create({ id: 'c' })).rejects.toBeInstanceOf(PiCapacityError);
      expect(() => manager.register(fakeSession('x'))).toThrow(PiCapacityError);
      expect(factory).toHaveBeenCalledTimes(1);

      await manager.stop('a');
      const third = manager.create({ id: 'c' });
      starts[1]?.resolve(fakeSession('c'));
      await third;
      expect(manager.ids()).toEqual(['c']);
    });

    it('counts a session it is still closing against maxSessions', async () => {
      const closing = deferred<unknown>();
      const manager = new PiSessionManager({ maxSessions: 1, idleTimeoutMs: null });
      manager.register(fakeSession('a', { close: () => closing.promise }));
      const stopped = manager.stop('a');
      expect(manager.size).toBe(0);
      expect(() => manager.register(fakeSession('b'))).toThrow(PiCapacityError);
      closing.resolve(closeResult('sigterm'));
      await stopped;
      expect(manager.register(fakeSession('b')).sessionId).toBe('b');
    });

    it('releases the slot when the factory rejects', async () => {
      const { starts, factory } = startable();
      const manager = new PiSessionManager({ factory, maxSessions: 1, idleTimeoutMs: null });
      const failing = manager.create({ id: 'a' });
      const error = new Error('spawn failed');
      starts[0]?.reject(error);
      await expect(failing).rejects.toBe(error);
      const next = manager.create({ id: 'b' });
      starts[1]?.resolve(fakeSession('b'));
      await expect(next).resolves.toMatchObject({ sessionId: 'b' });
    });

    it('closes a created session whose id is taken, and rejects', async () => {
      const duplicate = fakeSession('a');
      const manager = new PiSessionManager({ factory: () => Promise.resolve(duplicate), idleTimeoutMs: null });
      manager.register(fakeSession('a'));
      await expect(manager.create({})).rejects.toMatchObject({ code: 'PI_DUPLICATE_SESSION' });
      expect(duplicate.closeCalls).toBe(1);
      expect(manager.size).toBe(1);
    });

    it('rejects create without a factory', async () => {
      const manager = new PiSessionManager({ idleTimeoutMs: null });
      await expect(manager.create({})).rejects.toMatchObject({ code: 'PI_NO_FACTORY' });
    });

    it('validates its options', () => {
      expect(() => new PiSessionManager({ idleTimeoutMs: -1 })).toThrow(PiDriverError);
      expect(() => new PiSessionManager({ reapIntervalMs: Number.NaN })).toThrow(PiDriverError);
      expect(() => new PiSessionManager({ maxSessions: 1.5 })).toThrow(PiDriverError);
    });
  });

  describe('stop and stopAll', () => {
    it('maps close results to statuses, in parallel, and never rejects', async () => {
      const manager = new PiSessionManager({ idleTimeoutMs: null });
      const notices: ManagerNotice[] = [];
      noticesOf(manager).subscribe((n) => notices.push(n));
      const failure = new Error('close failed');
      const gate = deferred<void>();
      const sessions = [
        fakeSession('eof', { close: async () => (await gate.promise, closeResult('eof')) }),
        fakeSession('sigterm', { close: () => Promise.resolve(closeResult('sigterm')) }),
        fakeSession('sigkill', { close: () => Promise.resolve(closeResult('sigkill')) }),
        fakeSession('exited', { close: () => Promise.resolve(closeResult('already-exited')) }),
        fakeSession('not-started', { close: () => Promise.resolve(closeResult('not-started')) }),
        fakeSession('plain', { close: () => Promise.resolve(undefined) }),
        fakeSession('rejects', { close: () => Promise.reject(failure) }),
        fakeSession('throws', {
          close: () => {
            throw failure;
          },
        }),
      ];
      for (const session of sessions) manager.register(session);
      const all = manager.stopAll();
      // Every close started at once: the first one hangs on the gate while the others were called.
      expect(sessions.map((s) => s.closeCalls)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
      expect(manager.size).toBe(0);
      gate.resolve();
      const results = await all;
      expect(results).toEqual<StopResult[]>([
        { sessionId: 'eof', status: 'closed', closeResult: closeResult('eof') },
        { sessionId: 'sigterm', status: 'closed', closeResult: closeResult('sigterm') },
        { sessionId: 'sigkill', status: 'killed', closeResult: closeResult('sigkill') },
        { sessionId: 'exited', status: 'already-dead', closeResult: closeResult('already-exited') },
        { sessionId: 'not-started', status: 'already-dead', closeResult: closeResult('not-started') },
        { sessionId: 'plain', status: 'closed', closeResult: undefined },
        { sessionId: 'rejects', status: 'error', error: failure },
        { sessionId: 'throws', status: 'error', error: failure },
      ]);
      expect(notices.filter((n) => n.type === 'session_removed')).toEqual(sessions.map((s) => removed(s.sessionId, 'stopped')));
    });

    it('waits for a reap in flight instead of closing twice', async () => {
      const scheduler = createTestScheduler();
      const closing = deferred<unknown>();
      const manager = new PiSessionManager({ idleTimeoutMs: 10, reapIntervalMs: 0, scheduler });
      let idle: FakeSession | undefined;
      let running: FakeSession | undefined;
      scheduler.run(({ hot, expectObservable }) => {
        idle = manager.register(fakeSession('idle', { activity$: hot('-'), close: () => closing.promise })) as FakeSession;
        running = fakeSession('running', {
          activity$: hot('-'),
          state$: hot('r', { r: fakeState({ status: 'running' }) }),
        });
        manager.register(running);
        expectObservable(noticesOf(manager)).toBe('10ms (rd)', { r: reaped('idle', 10), d: removed('idle', 'reaped') });
      });
      expect(idle?.closeCalls).toBe(1);
      expect(manager.ids()).toEqual(['running']);

      const all = manager.stopAll();
      expect(idle?.closeCalls).toBe(1);
      expect(running?.closeCalls).toBe(1);
      closing.resolve(closeResult('sigterm'));
      expect(await all).toEqual([
        { sessionId: 'running', status: 'closed', closeResult: closeResult('eof') },
        { sessionId: 'idle', status: 'closed', closeResult: closeResult('sigterm') },
      ]);
      expect(idle?.closeCalls).toBe(1);
    });

    it('stop(id) of a session being reaped waits for that close', async () => {
      const scheduler = createTestScheduler();
      const closing = deferred<unknown>();
      const manager = new PiSessionManager({ idleTimeoutMs: 10, reapIntervalMs: 0, scheduler });
      let session: FakeSession | undefined;
      scheduler.run(({ hot }) => {
        session = fakeSession('s1', { activity$: hot('-'), close: () => closing.promise });
        manager.register(session);
      });
      expect(manager.has('s1')).toBe(false);
      const stopped = manager.stop('s1');
      closing.resolve(closeResult('sigkill'));
      expect(await stopped).toEqual({ sessionId: 's1', status: 'killed', closeResult: closeResult('sigkill') });
      expect(session?.closeCalls).toBe(1);
    });

    it('reports a close that outlives timeoutMs as an error (virtual time)', async () => {
      const scheduler = new VirtualTimeScheduler();
      const manager = new PiSessionManager({ idleTimeoutMs: null, scheduler });
      manager.register(fakeSession('stuck', { close: () => new Promise<never>(() => undefined) }));
      const all = manager.stopAll({ timeoutMs: 5_000 });
      scheduler.flush();
      const [result] = await all;
      expect(result).toMatchObject({ sessionId: 'stuck', status: 'error' });
      expect(result?.status === 'error' && result.error).toBeInstanceOf(PiTimeoutError);
      expect(result?.status === 'error' && result.error).toMatchObject({ timeoutMs: 5_000 });
      expect(scheduler.now()).toBe(5_000);
    });

    it('stops a session whose create is in flight as soon as it starts', async () => {
      const start = deferred<FakeSession>();
      const manager = new PiSessionManager({ factory: () => start.promise, idleTimeoutMs: null });
      const created = manager.create({});
      const all = manager.stopAll();
      const session = fakeSession('late');
      start.resolve(session);
      await created;
      expect(await all).toEqual([{ sessionId: 'late', status: 'closed', closeResult: closeResult('eof') }]);
      expect(session.closeCalls).toBe(1);
      expect(manager.size).toBe(0);
    });
  });

  describe('usage$', () => {
    it('sums every session’s latest usage, keeping the totals of closed sessions', async () => {
      const manager = new PiSessionManager({ idleTimeoutMs: null });
      const totals: number[] = [];
      manager.usage$.subscribe((u) => totals.push(u.inputTokens));
      const a = new LiveFakeSession('a', { state: fakeState({ inputTokens: 10 }) });
      const b = new LiveFakeSession('b', { state: fakeState({ inputTokens: 5 }) });
      manager.register(a);
      manager.register(b);
      a.setState({ inputTokens: 12 });
      a.setState({ status: 'running' }); // usage unchanged: no emission
      await manager.stop('a');
      b.setState({ inputTokens: 7 });
      b.die(new Error('gone'));
      expect(totals).toEqual([0, 10, 15, 17, 19]);
      expect(manager.usage.inputTokens).toBe(19);
      const late: UsageTotals[] = [];
      manager.usage$.subscribe((u) => late.push(u));
      expect(late).toEqual([new UsageTotals({ inputTokens: 19 })]);
    });

    it('counts a session registered again under a reused id separately', async () => {
      const manager = new PiSessionManager({ idleTimeoutMs: null });
      manager.register(new LiveFakeSession('x', { state: fakeState({ inputTokens: 3 }) }));
      await manager.stop('x');
      manager.register(new LiveFakeSession('x', { state: fakeState({ inputTokens: 4 }) }));
      expect(manager.usage.inputTokens).toBe(7);
    });
  });

  describe('closeOnExit', () => {
    class FakeProcess extends EventEmitter {
      readonly pid = 4242;
      readonly kills: unknown[][] = [];
      readonly killed = deferred<unknown[]>();
      kill(...args: unknown[]): boolean {
        this.kills.push(args);
        this.killed.resolve(args);
        return true;
      }
    }
    const hooks = (proc: FakeProcess) => ['SIGINT', 'SIGTERM', 'beforeExit'].map((e) => proc.listenerCount(e));

    it('on SIGINT stops every session, unhooks, then re-raises the signal', async () => {
      const proc = new FakeProcess();
      const manager = new PiSessionManager({ idleTimeoutMs: null });
      const session = new LiveFakeSession('s1');
      manager.register(session);
      manager.closeOnExit({ process: proc });
      expect(hooks(proc)).toEqual([1, 1, 1]);

      proc.emit('SIGINT', 'SIGINT');
      expect(hooks(proc)).toEqual([0, 0, 0]);
      expect(await proc.killed.promise).toEqual([4242, 'SIGINT']);
      expect(session.closeCalls).toBe(1);
      expect(session.eventsObserved).toBe(false); // closed before the re-raise
      expect(manager.size).toBe(0);
    });

    it('passes timeoutMs to stopAll, and does not re-raise when the app has its own listener', async () => {
      const proc = new FakeProcess();
      const own = vi.fn();
      proc.on('SIGTERM', own);
      const manager = new PiSessionManager({ idleTimeoutMs: null });
      const stopAll = vi.spyOn(manager, 'stopAll');
      manager.closeOnExit({ process: proc, timeoutMs: 5_000 });
      proc.emit('SIGTERM', 'SIGTERM');
      expect(stopAll).toHaveBeenCalledWith({ timeoutMs: 5_000 });
      await stopAll.mock.results[0]?.value;
      await drain();
      expect(own).toHaveBeenCalledTimes(1);
      expect(proc.kills).toEqual([]);
      expect(proc.listenerCount('SIGTERM')).toBe(1); // only the app's
    });

    it('on beforeExit stops every session and re-raises nothing', async () => {
      const proc = new FakeProcess();
      const manager = new PiSessionManager({ idleTimeoutMs: null });
      const session = new LiveFakeSession('s1');
      manager.register(session);
      const stopAll = vi.spyOn(manager, 'stopAll');
      manager.closeOnExit({ process: proc });
      proc.emit('beforeExit', 0);
      expect(hooks(proc)).toEqual([0, 0, 0]);
      await stopAll.mock.results[0]?.value;
      await drain();
      expect(session.closeCalls).toBe(1);
      expect(proc.kills).toEqual([]);
    });

    it('returns an idempotent unhook; only the chosen signals are hooked', () => {
      const proc = new FakeProcess();
      const manager = new PiSessionManager({ idleTimeoutMs: null });
      const stopAll = vi.spyOn(manager, 'stopAll');
      const unhook = manager.closeOnExit({ process: proc, signals: ['SIGTERM'] });
      expect(hooks(proc)).toEqual([0, 1, 1]);
      unhook();
      unhook();
      expect(hooks(proc)).toEqual([0, 0, 0]);
      proc.emit('SIGTERM', 'SIGTERM');
      expect(stopAll).not.toHaveBeenCalled();
    });

    it('hooks the real process by default (and unhooks)', () => {
      const manager = new PiSessionManager({ idleTimeoutMs: null });
      const before = process.listenerCount('SIGINT');
      const unhook = manager.closeOnExit();
      expect(process.listenerCount('SIGINT')).toBe(before + 1);
      unhook();
      expect(process.listenerCount('SIGINT')).toBe(before);
    });
  });

  describe('disposal', () => {
    it('await using stops every session and completes the streams', async () => {
      const session = new LiveFakeSession('s1');
      const completed: string[] = [];
      {
        await using manager = new PiSessionManager({ idleTimeoutMs: null });
        manager.register(session);
        manager.sessions$.subscribe({ complete: () => completed.push('sessions$') });
        manager.events$.subscribe({ complete: () => completed.push('events$') });
        manager.usage$.subscribe({ complete: () => completed.push('usage$') });
        expect(session.closeCalls).toBe(0);
      }
      expect(session.closeCalls).toBe(1);
      expect(completed).toEqual(['sessions$', 'events$', 'usage$']);
    });

    it('dispose is idempotent and refuses new sessions afterwards', async () => {
      const manager = new PiSessionManager({ factory: () => Promise.resolve(fakeSession('n')), idleTimeoutMs: null });
      manager.register(fakeSession('s1'));
      const first = manager.dispose();
      expect(manager.dispose()).toBe(first);
      expect(await first).toEqual([{ sessionId: 's1', status: 'closed', closeResult: closeResult('eof') }]);
      expect(() => manager.register(fakeSession('s2'))).toThrow(expect.objectContaining({ code: 'PI_MANAGER_DISPOSED' }));
      await expect(manager.create({})).rejects.toMatchObject({ code: 'PI_MANAGER_DISPOSED' });
    });

    it('closes a session whose create was in flight at dispose, and rejects that create', async () => {
      const start = deferred<FakeSession>();
      const manager = new PiSessionManager({ factory: () => start.promise, idleTimeoutMs: null });
      const created = manager.create({});
      const disposed = manager.dispose();
      const session = fakeSession('late');
      start.resolve(session);
      await expect(created).rejects.toMatchObject({ code: 'PI_MANAGER_DISPOSED' });
      await disposed;
      expect(session.closeCalls).toBe(1);
    });

    it('tears down the reapers at dispose', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ hot, expectSubscriptions }) => {
        const manager = new PiSessionManager({ idleTimeoutMs: 30 * MIN, scheduler });
        const activity = hot<number>('-');
        manager.register(fakeSession('s1', { activity$: activity, close: () => new Promise<never>(() => undefined) }));
        scheduler.schedule(() => void manager.dispose(), 5);
        expectSubscriptions(activity.subscriptions).toBe('^----!');
      });
    });
  });

  describe('types', () => {
    it('a PiSession is a ManagedSession, and client.start is a factory', () => {
      expectTypeOf<PiSession>().toExtend<ManagedSession>();
      expectTypeOf<SessionEventOf<PiSession>>().toEqualTypeOf<PiEvent>();
      const client = new PiClient();
      const manager = new PiSessionManager({ factory: (o) => client.start(o), idleTimeoutMs: null });
      expectTypeOf(manager).toEqualTypeOf<PiSessionManager<PiSession>>();
      expectTypeOf(manager.get).returns.toEqualTypeOf<PiSession>();
      expectTypeOf(manager.events$).toEqualTypeOf<Observable<ManagerEvent<PiEvent>>>();
      expect(manager.size).toBe(0);
    });
  });
});
