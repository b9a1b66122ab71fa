/**
 * Issue 11 #6: an idle timeout of 2^31 ms or more must not become 1 ms (Node's timers keep 32
 * bits). Real (faked) timers here, not TestScheduler: virtual time has no such limit.
 */
import { NEVER } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PiSessionManager } from '../../src/manager/PiSessionManager.js';
import { fakeSession } from '../helpers/fakeSession.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('PiSessionManager durations', () => {
  it.each([2 ** 31, Number.MAX_SAFE_INTEGER, Infinity])('idleTimeoutMs %d does not reap at once', async (idleTimeoutMs) => {
    vi.useFakeTimers();
    const manager = new PiSessionManager({ idleTimeoutMs, reapIntervalMs: 0 });
    const reaped: unknown[] = [];
    manager.events$.subscribe((event) => {
      if (event.type === 'reaped') reaped.push(event);
    });
    manager.register(fakeSession('s1', { activity$: NEVER }));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(reaped).toEqual([]);
    expect(manager.get('s1')).toBeDefined();
    manager.dispose();
  });

  it('refuses a negative or NaN idleTimeoutMs, and an infinite reapIntervalMs, naming the field', () => {
    expect(() => new PiSessionManager({ idleTimeoutMs: -1 })).toThrow(/idleTimeoutMs must be/);
    expect(() => new PiSessionManager({ idleTimeoutMs: Number.NaN })).toThrow(/idleTimeoutMs must be/);
    expect(() => new PiSessionManager({ reapIntervalMs: Infinity })).toThrow(/reapIntervalMs must be/);
  });
});
