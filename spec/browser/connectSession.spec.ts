/**
 * `pidriver/browser`'s RemoteSession against a real bridge (node:http on 127.0.0.1:0) serving a
 * PiSession over a scripted FakeTransport, with Node's own fetch.
 */
import { filter, firstValueFrom, Subject, take, takeWhile, timeout, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { connectSession, type RemoteSession } from '../../src/browser/connectSession.js';
import { BridgeHttpError, ConnectionLostError } from '../../src/browser/errors.js';
import type { EventSourceCtor, EventSourceLike } from '../../src/browser/sseSources.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { UsageTotals } from '../../src/usage/UsageTotals.js';
import { scriptedSession, startBridge } from '../bridge/helpers.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: Parameters<typeof startBridge>[1] = {}, connect: Parameters<typeof connectSession>[1] = {}) {
  const { session, pi } = await scriptedSession();
  const bridge = await startBridge(session, { heartbeatMs: null, ...options });
  cleanups.push(
    () => session.close(),
    () => bridge.close(),
  );
  const remote = connectSession(`${bridge.url}/`, { reconnect: { initialDelayMs: 10, maxDelayMs: 50 }, ...connect });
  cleanups.push(() => remote.close());
  return { session, pi, bridge, remote };
}

const untilAgentEnd = (remote: RemoteSession) =>
  firstValueFrom(
    remote.events$.pipe(
      takeWhile((event) => event.type !== 'agent_end', true),
      toArray(),
      timeout(10_000),
    ),
  );

describe('connectSession', () => {
  it('streams typed, validated events with usage revived into UsageTotals; state$ and pending$ too', async () => {
    const { remote, session } = await setup();
    await firstValueFrom(
      remote.connection$.pipe(
        filter((status) => status.status === 'open'),
        timeout(5_000),
      ),
    );
    const collected = untilAgentEnd(remote);
    const result = await remote.prompt('over the wire');
    const events = await collected;
    expect(events.map((event) => event.type)).toEqual([
      'agent_start',
      'user_message',
      'message_delta',
      'message_delta',
      'message_complete',
      'usage',
      'agent_end',
    ]);
    const end = events.at(-1) as Extract<PiEvent, { type: 'agent_end' }>;
    expect(end.usage).toBeInstanceOf(UsageTotals);
    expect(end.usage.totalTokens).toBe(12);
    expect((events[5] as Extract<PiEvent, { type: 'usage' }>).totals).toBeInstanceOf(UsageTotals);
    expect(result).toEqual({ finalText: 'echo: over the wire', reason: 'completed', usage: expect.any(UsageTotals) });
    expect(result.usage.equals(session.usage)).toBe(true);
    const state = await firstValueFrom(
      remote.state$.pipe(
        filter((s) => s.runs === 1),
        timeout(5_000),
      ),
    );
    expect(state).toMatchObject({ sessionId: 's1', status: 'idle', eventCount: 7, piSessionId: 'fake-pi-session' });
    expect(state.usage).toBeInstanceOf(UsageTotals);
    expect(remote.sessionId).toBe('s1');
    expect(await firstValueFrom(remote.pending$)).toEqual([]);
  });

  it('replays the current run to a late subscriber, like a local session', async () => {
    const { remote } = await setup();
    const done = untilAgentEnd(remote);
    await remote.prompt('first');
    await done;
    const late = await firstValueFrom(remote.events$.pipe(take(7), toArray(), timeout(5_000)));
    expect(late.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('answers interaction requests from pending$ with respond()', async () => {
    const { remote } = await setup();
    const run = remote.prompt('ask me');
    const [request] = await firstValueFrom(
      remote.pending$.pipe(
        filter((pending) => pending.length > 0),
        timeout(5_000),
      ),
    );
    expect(request).toMatchObject({ kind: 'permission', requestId: 'req-1', options: ['Approve', 'Approve always', 'Deny'] });
    await remote.respond(request!.requestId, false);
    expect(await run).toMatchObject({ finalText: 'echo: ask me (denied)' });
    await expect(remote.respond('req-404', true)).rejects.toMatchObject({ name: 'BridgeHttpError', status: 409, body: { code: 'PI_POLICY' } });
  });

  it('prompt$ streams its run and completes; unsubscribing aborts the run; abort() aborts too', async () => {
    const { remote, session } = await setup();
    const own = await firstValueFrom(remote.prompt$('mine').pipe(toArray(), timeout(5_000)));
    expect(own.map((event) => event.type)).toEqual(['agent_start', 'user_message', 'message_delta', 'message_delta', 'message_complete', 'usage', 'agent_end']);

    const ended = firstValueFrom(
      session.events$.pipe(
        filter((event) => event.type === 'agent_end' && event.seq > 7),
        timeout(5_000),
      ),
    );
    const subscription = remote.prompt$('hold me').subscribe({
      next: (event) => event.type === 'message_delta' && subscription.unsubscribe(),
      error: () => undefined,
    });
    expect(await ended).toMatchObject({ reason: 'cancelled' });

    const held = remote.prompt('hold again');
    await firstValueFrom(
      session.state$.pipe(
        filter((state) => state.status === 'running'),
        timeout(5_000),
      ),
    );
    await remote.abort();
    expect(await held).toMatchObject({ reason: 'cancelled' });
  });

  it('prompt() with a signal cancels the prompt on the server', async () => {
    const { remote, session } = await setup();
    const controller = new AbortController();
    const held = remote.prompt('hold it', { signal: controller.signal });
    await firstValueFrom(
      session.state$.pipe(
        filter((state) => state.status === 'running'),
        timeout(5_000),
      ),
    );
    controller.abort(new Error('user gave up'));
    await expect(held).rejects.toThrow('user gave up');
    await firstValueFrom(
      session.state$.pipe(
        filter((state) => state.status === 'idle'),
        timeout(5_000),
      ),
    );
  });

  it('reconnects after the connection drops and resumes: no event lost or repeated', async () => {
    const { remote, bridge, pi, session } = await setup();
    const seqs: number[] = [];
    remote.events$.subscribe({ next: (event) => seqs.push(event.seq), error: () => undefined });
    const statuses: string[] = [];
    remote.connection$.subscribe((status) => statuses.push(status.status));
    const run = session.prompt('hold across the drop');
    await firstValueFrom(
      remote.events$.pipe(
        filter((event) => event.type === 'message_delta'),
        take(2),
        toArray(),
        timeout(5_000),
      ),
    );
    bridge.server.closeAllConnections(); // the network drops
    pi.emitDelta(' while away'); // emitted while nobody is connected: replayed on resume
    await firstValueFrom(
      remote.connection$.pipe(
        filter((status) => status.status === 'reconnecting'),
        timeout(5_000),
      ),
    );
    await firstValueFrom(
      remote.connection$.pipe(
        filter((status) => status.status === 'open'),
        timeout(5_000),
      ),
    );
    pi.emitDelta(' and after');
    const after = await firstValueFrom(
      remote.events$.pipe(
        filter((event) => event.type === 'message_delta' && event.text === ' and after'),
        timeout(5_000),
      ),
    );
    expect(after.seq).toBe(6);
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6]);
    expect(statuses).toEqual(['connecting', 'open', 'reconnecting', 'open']);
    await session.abort();
    await run;
  });

  it('completes when the session closes; errors with BridgeHttpError on a 401 (not retried)', async () => {
    const { remote, session } = await setup();
    const completed = firstValueFrom(remote.events$.pipe(toArray(), timeout(5_000)));
    await firstValueFrom(
      remote.connection$.pipe(
        filter((status) => status.status === 'open'),
        timeout(5_000),
      ),
    );
    await session.close();
    expect(await completed).toEqual([]);
    expect(await firstValueFrom(remote.connection$.pipe(toArray()))).toEqual([{ status: 'closed' }]);

    const { remote: denied } = await setup({ token: 'right-token-0123456789' }, { token: 'wrong-token-0123456789' });
    const failure = await firstValueFrom(denied.events$.pipe(toArray(), timeout(5_000))).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BridgeHttpError);
    expect(failure).toMatchObject({ status: 401 });
  });

  it('sends the token as a bearer header', async () => {
    const { remote } = await setup({ token: 't0k-0123456789abcdef' }, { token: 't0k-0123456789abcdef' });
    expect(await remote.prompt('with a token')).toMatchObject({ reason: 'completed' });
  });

  it('reads the stream with an injected EventSource: token in the query, first error closes it', async () => {
    const sources: FakeEventSource[] = [];
    class FakeEventSource implements EventSourceLike {
      readonly listeners = new Map<string, ((event: { data?: unknown; lastEventId?: string }) => void)[]>();
      closed = false;
      constructor(readonly url: string) {
        sources.push(this);
      }
      addEventListener(type: string, listener: (event: { data?: unknown; lastEventId?: string }) => void): void {
        this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
      }
      close(): void {
        this.closed = true;
      }
      fire(type: string, event: { data?: unknown; lastEventId?: string } = {}): void {
        for (const listener of this.listeners.get(type) ?? []) listener(event);
      }
    }
    const fetch = () => Promise.reject(new Error('no fetch in this test'));
    const remote = connectSession('http://bridge.test/api/sessions/a', {
      EventSource: FakeEventSource as unknown as EventSourceCtor,
      token: 'abc',
      fetch,
      reconnect: { initialDelayMs: 1 },
    });
    cleanups.push(() => remote.close());
    const seen = new Subject<PiEvent>();
    remote.events$.subscribe(seen);
    expect(sources[0]!.url).toBe('http://bridge.test/api/sessions/a/events?token=abc');
    sources[0]!.fire('open');
    sources[0]!.fire('state', {
      data: JSON.stringify({ status: 'idle', sessionId: 'a', cwd: '/', runs: 0, eventCount: 0, pendingRequests: 0, queuedPrompts: 0, usage: UsageTotals.ZERO }),
    });
    sources[0]!.fire('message', { data: JSON.stringify({ type: 'turn_start', sessionId: 'a', seq: 1 }), lastEventId: '1' });
    expect(remote.state).toMatchObject({ sessionId: 'a', eventCount: 1 });
    sources[0]!.fire('error');
    expect(sources[0]!.closed).toBe(true);
    const reconnected = await firstValueFrom(
      remote.connection$.pipe(
        filter((status) => status.status === 'reconnecting'),
        timeout(5_000),
      ),
    );
    expect(reconnected).toMatchObject({ attempt: 1, error: expect.any(ConnectionLostError) });
    await new Promise<void>((resolve) => {
      const check = () => (sources.length > 1 ? resolve() : setTimeout(check, 5));
      check();
    });
    expect(sources[1]!.url).toBe('http://bridge.test/api/sessions/a/events?lastEventId=1&token=abc');
    remote.close();
    expect(sources[1]!.closed).toBe(true);
  });
});
