/**
 * One client's stream over a real `node:http` server: a frame bigger than the stream's bound,
 * and timers of any length (heartbeat, drop grace).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DroppedClient } from '../../src/bridge/index.js';
import { MAX_TIMER_MS } from '../../src/rx/longTimer.js';
import { frames, openSse, recordingScheduler, scriptedSession, startBridge } from './helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(options: Parameters<typeof startBridge>[1] = {}) {
  const { session, pi } = await scriptedSession();
  const bridge = await startBridge(session, { heartbeatMs: null, ...options });
  cleanups.push(
    () => session.close(),
    () => bridge.close(),
  );
  return { session, pi, bridge };
}

describe('a frame bigger than maxBufferedBytes', () => {
  it('reaches a client that keeps up: one big frame never drops it', async () => {
    const dropped: DroppedClient[] = [];
    const { session, pi, bridge } = await serve({ maxBufferedBytes: 64 * 1024, onClientDropped: (client) => dropped.push(client) });
    const run = session.prompt('hold');
    run.catch(() => undefined);
    const reader = await openSse(bridge.port, '/events');
    cleanups.push(() => reader.close());
    await reader.waitFor((t) => t.includes('"delta":"hold"'));
    const big = 'y'.repeat(1024 * 1024); // 16 times the bound (twice over, with raw)
    pi.emitDelta(big);
    pi.emitDelta('after the big one');
    const text = await reader.waitFor((t) => t.includes('after the big one'), 30_000);
    expect(dropped).toEqual([]);
    expect(frames(text).some((frame) => frame.data.text === big)).toBe(true);
    await session.abort();
    await run;
  });

  it('does not lift the bound for a client that stops reading: two big frames drop it', async () => {
    const dropped: DroppedClient[] = [];
    const { session, pi, bridge } = await serve({ maxBufferedBytes: 64 * 1024, onClientDropped: (client) => dropped.push(client) });
    const run = session.prompt('hold');
    run.catch(() => undefined);
    const slow = await openSse(bridge.port, '/events');
    cleanups.push(() => slow.close());
    await slow.waitFor((t) => t.includes('"delta":"hold"'));
    slow.res.pause();
    // One synchronous burst (Node corks the socket until the next tick): the second frame is over the bound.
    pi.emitDelta('y'.repeat(256 * 1024));
    expect(dropped).toEqual([]);
    pi.emitDelta('z'.repeat(256 * 1024));
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatchObject({ reason: 'slow_client', bound: 'stream' });
    await session.abort();
    await run;
  });
});

describe('timers', () => {
  it('a heartbeat or drop grace of 2^31 ms or more (or Infinity) waits that long: no timer is ever set beyond what a JS timer keeps', async () => {
    const dropped: DroppedClient[] = [];
    const rounds: [heartbeatMs: number, dropGraceMs: number][] = [
      [2 ** 31, 2 ** 40],
      [Infinity, Infinity],
      [Number.MAX_SAFE_INTEGER, 2 ** 31],
    ];
    for (const [heartbeatMs, dropGraceMs] of rounds) {
      const { scheduler, delays } = recordingScheduler();
      const { session, pi, bridge } = await serve({
        heartbeatMs,
        dropGraceMs,
        scheduler,
        maxBufferedBytes: 64 * 1024,
        onClientDropped: (client) => dropped.push(client),
      });
      const run = session.prompt('hold');
      run.catch(() => undefined);
      const slow = await openSse(bridge.port, '/events');
      cleanups.push(() => slow.close());
      await slow.waitFor((t) => t.includes('"delta":"hold"'));
      slow.res.pause();
      for (let index = 0; index < 4; index++) pi.emitDelta('y'.repeat(64 * 1024));
      expect(dropped.length).toBeGreaterThan(0);
      // A timer of 2^31 ms or more (or Infinity) fires after 1 ms in Node: the bridge must never set one.
      if (heartbeatMs !== Infinity) expect(delays.length).toBeGreaterThan(0); // Infinity: no timer at all
      expect(delays.every((delay) => delay <= MAX_TIMER_MS)).toBe(true);
      await session.abort();
      await run;
      dropped.length = 0;
    }
  });
});
