/**
 * The total bound across a handler's streams (`maxTotalBufferedBytes`, `maxStreams`): unit
 * tests over fake streams, then non-reading clients against a real `node:http` server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DroppedClient } from '../../src/bridge/index.js';
import { SseBudget, type BudgetedStream } from '../../src/bridge/SseBudget.js';
import { openSse, rawRequest, scriptedSession, startBridge } from './helpers.js';

class FakeStream implements BudgetedStream {
  ending = false;
  destroyed = false;
  readonly drops: string[] = [];
  constructor(
    readonly budget: SseBudget,
    public backlog: number,
  ) {}
  drop(bound: 'total'): void {
    this.ending = true;
    this.drops.push(bound);
  }
  destroy(): void {
    this.destroyed = true;
    this.budget.remove(this);
  }
  /** Buffers `bytes` more and reports it, as a write does. */
  grow(bytes: number): void {
    this.backlog += bytes;
    this.budget.note(this);
  }
}

describe('SseBudget', () => {
  const streams = (budget: SseBudget, ...backlogs: number[]) =>
    backlogs.map((backlog) => {
      const stream = new FakeStream(budget, 0);
      budget.add(stream);
      stream.grow(backlog);
      return stream;
    });

  it('drops nothing while the total fits', () => {
    const budget = new SseBudget({ maxTotalBufferedBytes: 100, maxStreams: 10 });
    const all = streams(budget, 30, 30, 40);
    expect(all.map((stream) => stream.drops)).toEqual([[], [], []]);
    expect(budget.bufferedBytes).toBe(100);
  });

  it('past the total, drops the streams furthest behind first, only as many as needed', () => {
    const budget = new SseBudget({ maxTotalBufferedBytes: 100, maxStreams: 10 });
    const [small, large, middle] = streams(budget, 10, 60, 30);
    middle!.grow(15); // 10 + 60 + 45 = 115
    expect(large!.drops).toEqual(['total']);
    expect([small!.drops, middle!.drops]).toEqual([[], []]);
  });

  it('destroys dropped streams still flushing before dropping another live one', () => {
    const budget = new SseBudget({ maxTotalBufferedBytes: 100, maxStreams: 10 });
    const [reader, slow, dropped] = streams(budget, 5, 40, 50);
    dropped!.ending = true; // dropped for its own bound, its close frame still flushing
    slow!.grow(10); // 5 + 50 + 50 = 105
    expect(dropped!.destroyed).toBe(true);
    expect([reader!.drops, slow!.drops]).toEqual([[], []]);
    expect(budget.size).toBe(2);
  });

  it('never drops a stream with nothing waiting', () => {
    const budget = new SseBudget({ maxTotalBufferedBytes: 10, maxStreams: 10 });
    const [idle, slow] = streams(budget, 0, 20);
    expect(slow!.drops).toEqual(['total']);
    expect(idle!.drops).toEqual([]);
  });

  it('counts what the streams hold now, not what they held (the estimate is recounted before dropping)', () => {
    const budget = new SseBudget({ maxTotalBufferedBytes: 100, maxStreams: 10 });
    const [flushed, growing] = streams(budget, 90, 0);
    flushed!.backlog = 0; // the socket flushed without a drain being reported
    growing!.grow(50);
    expect([flushed!.drops, growing!.drops]).toEqual([[], []]);
  });

  it('admits up to maxStreams, evicting dropped streams to make room', () => {
    const budget = new SseBudget({ maxTotalBufferedBytes: 1_000, maxStreams: 2 });
    const [first, second] = streams(budget, 1, 1);
    expect(budget.admit()).toBe(false);
    second!.ending = true;
    expect(budget.admit()).toBe(true);
    expect(second!.destroyed).toBe(true);
    expect(first!.destroyed).toBe(false);
  });
});

describe('maxTotalBufferedBytes and maxStreams over HTTP', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('non-reading clients are dropped (slow_client, furthest behind first) once all streams hold more than the total; the session and a reader go on', async () => {
    const dropped: DroppedClient[] = [];
    const total = 2 * 1024 * 1024;
    const { session, pi } = await scriptedSession();
    const bridge = await startBridge(session, {
      heartbeatMs: null,
      // Each stream alone may hold far more: only the total can drop anyone here.
      maxBufferedBytes: 512 * 1024 * 1024,
      maxBufferedEvents: 10_000_000,
      maxTotalBufferedBytes: total,
      dropGraceMs: 60_000,
      onClientDropped: (client) => dropped.push(client),
    });
    cleanups.push(
      () => session.close(),
      () => bridge.close(),
    );
    const run = session.prompt('hold the line');
    run.catch(() => undefined);
    const slow = await Promise.all([1, 2, 3].map((n) => openSse(bridge.port, `/events?who=slow-${n}`)));
    for (const client of slow) client.res.pause(); // they read nothing more
    const reader = await openSse(bridge.port, '/events?who=reader');
    cleanups.push(() => reader.close(), ...slow.map((client) => () => client.close()));
    const chunk = 'x'.repeat(16 * 1024);
    let peak = 0;
    // Bounded: far more than a loopback socket's kernel buffers plus the total, per client.
    let index = 0;
    for (; index < 4_000 && dropped.length < 3; index++) {
      pi.emitDelta(chunk);
      if (index % 4 === 0) {
        await new Promise((resolve) => setImmediate(resolve));
        peak = Math.max(peak, bridge.handler.bufferedBytes);
      }
    }
    expect(dropped.map((client) => client.path).sort()).toEqual(['/events?who=slow-1', '/events?who=slow-2', '/events?who=slow-3']);
    expect(dropped.every((client) => client.reason === 'slow_client' && client.bound === 'total')).toBe(true);
    expect(dropped[0]!.limits.maxTotalBufferedBytes).toBe(total);
    // Streams dropped for the total are destroyed at the next overflow: never more than twice the bound (plus one burst) is held.
    expect(peak).toBeLessThan(2 * total + 256 * 1024);
    expect(session.status).toBe('running');
    pi.emitDelta('still here');
    await reader.waitFor((t) => t.includes('still here'), 30_000);
    await session.abort();
    expect(await run).toMatchObject({ reason: 'cancelled' });
    expect(index).toBeGreaterThan(0);
  });

  it('a stream beyond maxStreams is answered 503 with Retry-After, unless a dropped stream can be evicted', async () => {
    const dropped: DroppedClient[] = [];
    // A small replay window: a new client's replay stays within its stream's bound.
    const { session, pi } = await scriptedSession('s1', { maxEvents: 3 });
    const bridge = await startBridge(session, {
      heartbeatMs: null,
      includeRaw: false,
      maxStreams: 2,
      maxBufferedBytes: 64 * 1024,
      dropGraceMs: 60_000,
      onClientDropped: (client) => dropped.push(client),
    });
    cleanups.push(
      () => session.close(),
      () => bridge.close(),
    );
    session.prompt('hold').catch(() => undefined);
    const slow = await openSse(bridge.port, '/events?who=slow');
    cleanups.push(() => slow.close());
    await slow.waitFor((t) => t.includes('"text":"hold"'));
    slow.res.pause();
    // One synchronous burst, buffered whole (Node corks the socket until the next tick): over the stream's bound.
    for (let index = 0; index < 8; index++) pi.emitDelta('x'.repeat(20 * 1024));
    expect(dropped).toHaveLength(1);
    const second = await openSse(bridge.port, '/events?who=second');
    cleanups.push(() => second.close());
    // The dropped stream still counts (its close frame may flush for 60 s) until a new stream needs its place.
    const third = await openSse(bridge.port, '/events?who=third');
    cleanups.push(() => third.close());
    expect(third.res.statusCode).toBe(200);
    const refused = await rawRequest(bridge.port, '/events', { headers: { Accept: 'text/event-stream' } });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.json).toMatchObject({ error: expect.stringContaining('maxStreams 2') });
    expect(bridge.handler.openStreams).toBe(2);
  });
});
