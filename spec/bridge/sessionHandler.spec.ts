/**
 * The bridge over a real `node:http` server on 127.0.0.1:0, serving PiSessions over a scripted
 * FakeTransport: SSE framing, resume, gaps, slow clients, bodies, access control, routes.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { throwError } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PiSessionManager } from '../../src/manager/PiSessionManager.js';
import type { PiSession } from '../../src/session/PiSession.js';
import type { BridgeSession, DroppedClient } from '../../src/bridge/index.js';
import { countingSession, deferred, frames, openSse, postJson, rawRequest, scriptedSession, settle, startBridge, type Bridge } from './helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(options: Parameters<typeof startBridge>[1] = {}, replay?: { maxEvents?: number }) {
  const { session, pi } = await scriptedSession('s1', replay);
  const bridge = await startBridge(session, { heartbeatMs: null, ...options });
  cleanups.push(
    () => session.close(),
    () => bridge.close(),
  );
  return { session, pi, bridge };
}

const eventFrames = (text: string) => frames(text).filter((frame) => frame.event === 'message');

describe('GET /events', () => {
  it('frames state, pending, then each event with id: seq, and JSON usage', async () => {
    const { session, bridge } = await serve();
    await session.prompt('hello');
    const sse = await openSse(bridge.port, '/events');
    cleanups.push(() => sse.close());
    expect(sse.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(sse.res.headers['cache-control']).toContain('no-cache');
    const text = await sse.waitFor((t) => t.includes('"agent_end"'));
    expect(text.startsWith(': connected\n\n')).toBe(true);
    const all = frames(text);
    expect(all[0]).toMatchObject({ event: 'state', id: undefined, data: { status: 'idle', sessionId: 's1', runs: 1 } });
    expect(all[1]).toEqual({ event: 'pending', id: undefined, data: [] });
    const events = eventFrames(text);
    expect(events.map((frame) => frame.data.type)).toEqual([
      'agent_start',
      'user_message',
      'message_delta',
      'message_delta',
      'message_complete',
      'usage',
      'agent_end',
    ]);
    expect(events.map((frame) => frame.id)).toEqual(events.map((frame) => String(frame.data.seq)));
    // One data line per frame: every frame is `[event:] [id:] data:` and a blank line.
    for (const block of text.split('\n\n').filter((b) => b && !b.startsWith(':'))) expect(block).toMatch(/^(event: \w+\n)?(id: \d+\n)?data: [^\n]*$/);
    const end = events.at(-1)!.data;
    expect(end.usage).toEqual({ inputTokens: 10, outputTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 0, totalTokens: 12, costUsd: 0.001 });
    expect(events.find((frame) => frame.data.type === 'message_delta')!.data.raw).toMatchObject({ type: 'message_update' });
  });

  it('streams live events, then a session_closed close frame when the session closes', async () => {
    const { session, bridge } = await serve();
    const sse = await openSse(bridge.port, '/events');
    await sse.waitFor((t) => t.includes('event: pending'));
    await session.prompt('live one');
    await sse.waitFor((t) => t.includes('"agent_end"'));
    await session.close();
    const text = await sse.waitFor(() => sse.res.complete);
    expect(frames(text).at(-1)).toEqual({ event: 'close', id: undefined, data: { reason: 'session_closed', message: 'the session was closed' } });
    expect(bridge.handler.openStreams).toBe(0);
  });

  it('omits raw with includeRaw: false', async () => {
    const { session, bridge } = await serve({ includeRaw: false });
    await session.prompt('x');
    const sse = await openSse(bridge.port, '/events');
    cleanups.push(() => sse.close());
    const events = eventFrames(await sse.waitFor((t) => t.includes('"agent_end"')));
    expect(events.every((frame) => !('raw' in frame.data))).toBe(true);
  });

  it('resumes after Last-Event-ID (header or ?lastEventId=) without repeating anything', async () => {
    const { session, bridge } = await serve();
    await session.prompt('resume me');
    const byHeader = await openSse(bridge.port, '/events', { 'Last-Event-ID': '3' });
    const byQuery = await openSse(bridge.port, '/events?lastEventId=3');
    cleanups.push(
      () => byHeader.close(),
      () => byQuery.close(),
    );
    for (const sse of [byHeader, byQuery]) {
      const text = await sse.waitFor((t) => t.includes('"agent_end"'));
      expect(eventFrames(text).map((frame) => frame.data.seq)).toEqual([4, 5, 6, 7]);
      expect(frames(text).some((frame) => frame.event === 'gap' || frame.event === 'reset')).toBe(false);
    }
  });

  it('sends a gap frame when the events after Last-Event-ID left the replay window', async () => {
    const { session, bridge } = await serve({}, { maxEvents: 3 });
    await session.prompt('a long run'); // 7 events; the window keeps the last 3: 5, 6, 7
    const sse = await openSse(bridge.port, '/events', { 'Last-Event-ID': '2' });
    cleanups.push(() => sse.close());
    const text = await sse.waitFor((t) => t.includes('"agent_end"'));
    const all = frames(text).filter((frame) => frame.event !== 'state' && frame.event !== 'pending');
    expect(all[0]).toEqual({ event: 'gap', id: undefined, data: { missedFrom: 3, missedTo: 4 } });
    expect(all.slice(1).map((frame) => frame.data.seq)).toEqual([5, 6, 7]);
  });

  it('sends reset when Last-Event-ID is ahead of the session (another session, a restarted server)', async () => {
    const { session, bridge } = await serve();
    await session.prompt('x');
    const sse = await openSse(bridge.port, '/events', { 'Last-Event-ID': '500' });
    cleanups.push(() => sse.close());
    const text = await sse.waitFor((t) => t.includes('"agent_end"'));
    const all = frames(text).filter((frame) => frame.event !== 'state' && frame.event !== 'pending');
    expect(all[0]).toEqual({ event: 'reset', id: undefined, data: { lastEventId: 500, currentSeq: 7 } });
    expect(all.slice(1).map((frame) => frame.data.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('answers 400 for a Last-Event-ID that is not a seq', async () => {
    const { bridge } = await serve();
    const response = await rawRequest(bridge.port, '/events', { headers: { 'Last-Event-ID': 'abc' } });
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: expect.stringContaining('Last-Event-ID') });
  });

  it('drops a client that stops reading, with a slow_client close frame and the hook; the session and other clients go on', async () => {
    const dropped: DroppedClient[] = [];
    const limit = 1024 * 1024;
    const { session, pi, bridge } = await serve({
      maxBufferedBytes: limit,
      maxBufferedEvents: 1_000_000,
      dropGraceMs: 30_000,
      onClientDropped: (client) => dropped.push(client),
    });
    const run = session.prompt('hold the line');
    run.catch(() => undefined);
    const slow = await openSse(bridge.port, '/events?who=slow');
    slow.res.pause(); // reads nothing more: the kernel buffers fill, then Node's
    const healthy = await openSse(bridge.port, '/events?who=healthy');
    cleanups.push(
      () => healthy.close(),
      () => slow.close(),
    );
    const chunk = 'x'.repeat(16 * 1024);
    // Bounded: far more than loopback socket buffers plus the limit. Small bursts, so a client
    // that reads keeps well within the limit.
    for (let index = 0; index < 8_000 && dropped.length === 0; index++) {
      pi.emitDelta(chunk);
      if (index % 4 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatchObject({ reason: 'slow_client', sessionId: 's1', path: '/events?who=slow' });
    expect(dropped[0]!.bufferedBytes).toBeGreaterThan(limit);
    expect(session.status).toBe('running');
    // The healthy client still gets new events; the session finishes its run.
    pi.emitDelta('still here');
    await healthy.waitFor((t) => t.includes('still here'), 30_000);
    await session.abort();
    await run;
    // The dropped client, reading again, finds the close frame at the end of its backlog.
    slow.res.resume();
    const text = await slow.waitFor(() => slow.res.complete, 30_000);
    expect(frames(text).at(-1)).toMatchObject({ event: 'close', data: { reason: 'slow_client', message: expect.stringContaining('reconnect') } });
    expect(frames(text).some((frame) => frame.data?.text === 'still here')).toBe(false);
  });

  it('close() ends every stream with server_closing, and refuses new ones', async () => {
    const { bridge } = await serve();
    const sse = await openSse(bridge.port, '/events');
    await sse.waitFor((t) => t.includes('event: pending'));
    expect(bridge.handler.openStreams).toBe(1);
    bridge.handler.close();
    const text = await sse.waitFor(() => sse.res.complete);
    expect(frames(text).at(-1)).toMatchObject({ event: 'close', data: { reason: 'server_closing' } });
    expect((await rawRequest(bridge.port, '/events')).status).toBe(503);
  });
});

describe('GET /state and /pending', () => {
  it('answers JSON snapshots, or SSE with Accept: text/event-stream', async () => {
    const { session, bridge } = await serve();
    const state = await rawRequest(bridge.port, '/state');
    expect(state.status).toBe(200);
    expect(state.json).toMatchObject({ status: 'idle', sessionId: 's1', usage: { totalTokens: 0 } });
    expect((await rawRequest(bridge.port, '/pending')).json).toEqual([]);
    const states = await openSse(bridge.port, '/state');
    cleanups.push(() => states.close());
    await session.prompt('x');
    const text = await states.waitFor((t) => t.includes('"runs":1'));
    expect(frames(text).every((frame) => frame.event === 'state')).toBe(true);
  });
});

describe('POST routes', () => {
  it('prompt answers the RunResult as JSON when the run ends', async () => {
    const { bridge } = await serve();
    const response = await postJson(bridge.port, '/prompt', { text: 'json please' });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({
      finalText: 'echo: json please',
      reason: 'completed',
      usage: { inputTokens: 10, outputTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 0, totalTokens: 12, costUsd: 0.001 },
    });
  });

  it('prompt with Accept: text/event-stream streams that run, then end', async () => {
    const { bridge } = await serve();
    const response = await rawRequest(bridge.port, '/prompt', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify({ text: 'stream it' }),
    });
    const all = frames(response.text);
    expect(all.filter((frame) => frame.event === 'message').map((frame) => frame.data.type)).toEqual([
      'agent_start',
      'user_message',
      'message_delta',
      'message_delta',
      'message_complete',
      'usage',
      'agent_end',
    ]);
    expect(all.at(-1)).toEqual({ event: 'end', id: undefined, data: {} });
  });

  it('a prompt stream whose client leaves aborts its run', async () => {
    const { session, bridge } = await serve();
    const aborted = new Promise<void>((resolve) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: bridge.port, path: '/prompt', method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' } },
        (res) => {
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (chunk.includes('message_delta')) {
              req.destroy();
              resolve();
            }
          });
        },
      );
      req.end(JSON.stringify({ text: 'hold on' }));
    });
    const ended = new Promise<unknown>((resolve) => session.events$.subscribe((event) => event.type === 'agent_end' && resolve(event)));
    await aborted;
    expect(await ended).toMatchObject({ reason: 'cancelled' });
  });

  it('respond answers an open interaction request; abort aborts the run', async () => {
    const { session, bridge } = await serve();
    const pendingNow = () => rawRequest(bridge.port, '/pending').then((response) => response.json as { requestId: string; kind: string }[]);
    // A browser is watching before the prompt: a request nobody could answer would be denied at once.
    const sse = await openSse(bridge.port, '/events');
    cleanups.push(() => sse.close());
    await sse.waitFor((t) => t.includes('event: pending'));
    const run = session.prompt('ask first');
    await sse.waitFor((t) => t.includes('"interaction_request"'));
    const [request] = await pendingNow();
    expect(request).toMatchObject({ kind: 'permission', requestId: 'req-1' });
    expect((await postJson(bridge.port, '/respond', { requestId: 'req-1', value: true })).json).toEqual({ ok: true });
    expect(await run).toMatchObject({ finalText: 'echo: ask first (allowed)' });
    expect(await pendingNow()).toEqual([]);
    // A request that was never open: 409 with the session's reason.
    const unknown = await postJson(bridge.port, '/respond', { requestId: 'req-99', value: { kind: 'deny', message: 'no' } });
    expect(unknown.status).toBe(409);
    expect(unknown.json).toMatchObject({ code: 'PI_POLICY', error: expect.stringContaining('req-99') });

    const held = session.prompt('hold it');
    await sse.waitFor((t) => t.includes('"delta":"hold it"'));
    expect((await postJson(bridge.port, '/abort', {})).json).toEqual({ ok: true });
    expect(await held).toMatchObject({ reason: 'cancelled' });
    expect((await rawRequest(bridge.port, '/abort', { method: 'POST' })).status).toBe(200); // an empty body is {}
  });

  it('a prompt refused by a spent budget is 429 with code PI_LIMIT', async () => {
    const { session, bridge } = await serve();
    session.exceedBudget({ limit: 'maxCostUsd', max: 1, actual: 1.5, message: 'the sessions cost $1.50 (maxCostUsd: $1.00)' });
    const refused = await postJson(bridge.port, '/prompt', { text: 'hi' });
    expect(refused.status).toBe(429);
    expect(refused.json).toMatchObject({ code: 'PI_LIMIT', error: expect.stringContaining('maxCostUsd') });
  });

  it.each([
    ['prompt', {}, 'text'],
    ['prompt', { text: 42 }, 'text'],
    ['prompt', { text: '' }, 'text'],
    ['prompt', { text: 'x', extra: true }, ''],
    ['prompt', { text: 'x', images: [{ type: 'image', data: 1 }] }, 'images.0.data'],
    ['respond', { requestId: '' }, 'requestId'],
    ['respond', { requestId: 'r', value: [1] }, 'value'],
    ['respond', { requestId: 'r', value: { kind: 'maybe' } }, 'value'],
    ['abort', { now: true }, ''],
  ])('400 on a bad %s body %j', async (route, body, path) => {
    const { bridge } = await serve();
    const response = await postJson(bridge.port, `/${route}`, body);
    expect(response.status).toBe(400);
    const json = response.json as { error: string; issues: { path: string; message: string }[] };
    expect(json.error).toMatch(/^invalid body/);
    expect(json.issues.length).toBeGreaterThan(0);
    expect(json.issues.map((issue) => issue.path)).toContain(path);
  });

  it('400 on invalid JSON, 415 on a non-JSON body, 413 on a body over maxBodyBytes', async () => {
    const { bridge } = await serve({ maxBodyBytes: 1_000 });
    const broken = await rawRequest(bridge.port, '/prompt', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"text":' });
    expect(broken.status).toBe(400);
    expect(broken.json).toMatchObject({ error: expect.stringContaining('invalid JSON'), issues: [] });
    const form = await rawRequest(bridge.port, '/prompt', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '{"text":"x"}' });
    expect(form.status).toBe(415);
    const large = await postJson(bridge.port, '/prompt', { text: 'x'.repeat(5_000) });
    expect(large.status).toBe(413);
  });

  it('404 for unknown routes, 405 for a wrong method', async () => {
    const { bridge } = await serve();
    expect((await rawRequest(bridge.port, '/nope')).status).toBe(404);
    expect((await rawRequest(bridge.port, '/events/extra')).status).toBe(404);
    const wrong = await rawRequest(bridge.port, '/prompt');
    expect(wrong.status).toBe(405);
    expect(wrong.headers['allow']).toBe('POST');
  });
});

describe('access control', () => {
  it('rejects cross-origin requests whose Origin is not allowed, and allows listed ones with CORS headers', async () => {
    const { bridge } = await serve({ allowedOrigins: ['http://app.example'] });
    const evil = await postJson(bridge.port, '/abort', {}, { Origin: 'http://evil.example' });
    expect(evil.status).toBe(403);
    expect(evil.json).toMatchObject({ error: expect.stringContaining('http://evil.example') });
    expect((await postJson(bridge.port, '/abort', {}, { Origin: 'null' })).status).toBe(403);
    const same = await postJson(bridge.port, '/abort', {}, { Origin: `http://127.0.0.1:${bridge.port}` });
    expect(same.status).toBe(200);
    const listed = await postJson(bridge.port, '/abort', {}, { Origin: 'http://app.example' });
    expect(listed.status).toBe(200);
    expect(listed.headers['access-control-allow-origin']).toBe('http://app.example');
    const preflight = await rawRequest(bridge.port, '/prompt', {
      method: 'OPTIONS',
      headers: { Origin: 'http://app.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-headers']).toContain('Authorization');
    expect((await rawRequest(bridge.port, '/prompt', { method: 'OPTIONS', headers: { Origin: 'http://evil.example' } })).status).toBe(403);
  });

  it('without a token, rejects requests for a non-loopback Host (DNS rebinding) unless allowedHosts lists it', async () => {
    const { bridge } = await serve();
    const rebound = await rawRequest(bridge.port, '/state', { headers: { Host: `evil.example:${bridge.port}` } });
    expect(rebound.status).toBe(403);
    expect(rebound.json).toMatchObject({ error: expect.stringContaining('evil.example') });
    expect((await rawRequest(bridge.port, '/state', { headers: { Host: `localhost:${bridge.port}` } })).status).toBe(200);
    const { bridge: listing } = await serve({ allowedHosts: ['box.lan'] });
    expect((await rawRequest(listing.port, '/state', { headers: { Host: 'box.lan:80' } })).status).toBe(200);
  });

  it('requires the token when one is set: Authorization: Bearer, or ?token= for EventSource', async () => {
    const token = 's3cret-0123456789';
    const { bridge } = await serve({ token });
    const none = await rawRequest(bridge.port, '/state');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect((await rawRequest(bridge.port, '/state', { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await rawRequest(bridge.port, '/state', { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await rawRequest(bridge.port, `/state?token=${token}`)).status).toBe(200);
    expect((await rawRequest(bridge.port, '/state?token=')).status).toBe(401);
    // With a token, the Host check is the token's job.
    expect((await rawRequest(bridge.port, `/state?token=${token}`, { headers: { Host: 'box.lan' } })).status).toBe(200);
  });

  it('a custom authorize hook replaces the default; false is a 403, an object picks status and message', async () => {
    const seen: string[] = [];
    const { bridge } = await serve({
      authorize: (req) => {
        seen.push(req.url ?? '');
        if (req.headers['x-user'] === 'ada') return true;
        return req.headers['x-user'] ? false : { status: 401, error: 'who are you?' };
      },
    });
    expect((await rawRequest(bridge.port, '/state', { headers: { 'X-User': 'ada' } })).status).toBe(200);
    expect((await rawRequest(bridge.port, '/state', { headers: { 'X-User': 'eve' } })).json).toEqual({ error: 'forbidden' });
    const anonymous = await rawRequest(bridge.port, '/events');
    expect(anonymous.status).toBe(401);
    expect(anonymous.json).toEqual({ error: 'who are you?' });
    expect(seen).toEqual(['/state', '/state', '/events']);
  });
});

describe('secrets', () => {
  const token = 'bridge-token-0123456789abcdef';

  it('the slow-client warning and onClientDropped never show a ?token= value', async () => {
    const warnings: string[] = [];
    vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void warnings.push(args.map(String).join(' ')));
    const { session, pi, bridge } = await serve({ token, maxBufferedBytes: 64 * 1024 });
    const run = session.prompt('hold');
    run.catch(() => undefined);
    const slow = await openSse(bridge.port, `/events?token=${token}&who=slow`);
    cleanups.push(() => slow.close());
    await slow.waitFor((t) => t.includes('"delta":"hold"'));
    slow.res.pause();
    for (let index = 0; index < 4; index++) pi.emitDelta('y'.repeat(64 * 1024)); // one burst: over the bound
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('(/events?token=[redacted]&who=slow)');
    expect(warnings[0]).not.toContain(token);
    await session.abort();
    await run;
  });

  it('error bodies, failure and close frames never carry the token', async () => {
    const { session } = await scriptedSession();
    cleanups.push(() => session.close());
    const leaky = (what: string) => new Error(`${what} failed: GET /x?token=${token} (Authorization: Bearer ${token})`);
    const fake: BridgeSession = {
      ...countingSession(session).session,
      recentEvents$: throwError(() => leaky('events')),
      prompt$: () => throwError(() => leaky('prompt')),
      abort: () => Promise.reject(leaky('abort')),
    };
    const bridge = await startBridge(fake, { token, heartbeatMs: null });
    cleanups.push(() => bridge.close());
    const auth = { Authorization: `Bearer ${token}` };
    const abort = await postJson(bridge.port, '/abort', {}, auth);
    expect(abort.status).toBe(500);
    const prompt = await rawRequest(bridge.port, '/prompt', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: '{"text":"x"}',
    });
    const events = await rawRequest(bridge.port, '/events', { headers: { ...auth, Accept: 'text/event-stream' } });
    expect(frames(prompt.text).at(-1)).toMatchObject({ event: 'failure', data: { error: expect.stringContaining('prompt failed') } });
    expect(frames(events.text).at(-1)).toMatchObject({ event: 'close', data: { reason: 'session_died' } });
    for (const text of [abort.text, prompt.text, events.text]) {
      expect(text).toContain('[redacted]');
      expect(text).not.toContain(token);
    }
  });
});

describe('a client that leaves before its stream starts', () => {
  /** Sends a request and resolves once the server saw it arrive (`arrived`); `leave()` drops the connection. */
  function requestThatLeaves(port: number, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
    const req: ClientRequest = httpRequest({
      host: '127.0.0.1',
      port,
      path,
      method: options.method ?? 'GET',
      headers: { Accept: 'text/event-stream', ...options.headers },
    });
    req.on('error', () => undefined);
    req.end(options.body);
    return { leave: () => req.destroy() };
  }

  /** An authorize hook that waits until the test lets it through. */
  function gatedAuthorize() {
    const arrived = deferred<IncomingMessage>();
    const gate = deferred<boolean>();
    return {
      authorize: (req: IncomingMessage) => {
        arrived.resolve(req);
        return gate.promise;
      },
      arrived: arrived.promise,
      open: () => gate.resolve(true),
    };
  }

  const gone = (req: IncomingMessage) => new Promise<void>((resolve) => (req.destroyed ? resolve() : req.once('close', () => resolve())));

  it('GET events: leaving during an async authorize leaves nothing subscribed and no stream open', async () => {
    const { session } = await scriptedSession();
    cleanups.push(() => session.close());
    const counting = countingSession(session);
    const gated = gatedAuthorize();
    const bridge = await startBridge(counting.session, { heartbeatMs: null, authorize: gated.authorize });
    cleanups.push(() => bridge.close());
    const client = requestThatLeaves(bridge.port, '/events');
    const req = await gated.arrived;
    client.leave();
    await gone(req);
    gated.open();
    await settle();
    expect(bridge.handler.openStreams).toBe(0);
    expect(counting.open()).toBe(0);
  });

  it('GET events: a client gone before the handler runs (slow middleware) is never streamed to', async () => {
    const { session } = await scriptedSession();
    cleanups.push(() => session.close());
    const counting = countingSession(session);
    const arrived = deferred<IncomingMessage>();
    const gate = deferred();
    const bridge = await startBridge(counting.session, { heartbeatMs: null }, async (req) => {
      arrived.resolve(req);
      await gate.promise;
    });
    cleanups.push(() => bridge.close());
    const client = requestThatLeaves(bridge.port, '/events');
    const req = await arrived.promise;
    client.leave();
    await gone(req);
    gate.resolve();
    await settle();
    expect(bridge.handler.openStreams).toBe(0);
    expect(counting.open()).toBe(0);
  });

  it('POST prompt, streamed (body parsed by middleware): leaving during authorize never sends the prompt', async () => {
    const { session, pi } = await scriptedSession();
    cleanups.push(() => session.close());
    const gated = gatedAuthorize();
    const bridge = await startBridge(session, { heartbeatMs: null, authorize: gated.authorize }, (req) => {
      (req as { body?: unknown }).body = { text: 'hold on' }; // as express.json() would
      return Promise.resolve();
    });
    cleanups.push(() => bridge.close());
    const client = requestThatLeaves(bridge.port, '/prompt', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"text":"hold on"}' });
    const req = await gated.arrived;
    client.leave();
    await gone(req);
    gated.open();
    await settle();
    expect(bridge.handler.openStreams).toBe(0);
    expect(pi.transport.sent.filter((command) => command.type === 'prompt')).toEqual([]);
    expect(session.status).toBe('idle');
  });

  it('POST prompt, JSON with cancelOnDisconnect: leaving during authorize never sends the prompt', async () => {
    const { session, pi } = await scriptedSession();
    cleanups.push(() => session.close());
    const gated = gatedAuthorize();
    const bridge = await startBridge(session, { heartbeatMs: null, authorize: gated.authorize }, (req) => {
      (req as { body?: unknown }).body = { text: 'hold on', cancelOnDisconnect: true };
      return Promise.resolve();
    });
    cleanups.push(() => bridge.close());
    const client = requestThatLeaves(bridge.port, '/prompt', { method: 'POST', headers: { Accept: 'application/json' } });
    const req = await gated.arrived;
    client.leave();
    await gone(req);
    gated.open();
    await settle();
    expect(pi.transport.sent.filter((command) => command.type === 'prompt')).toEqual([]);
    expect(session.status).toBe('idle');
  });

  it('a request body cut off by the client is dropped quietly: no prompt, no stream, no unhandled error', async () => {
    const { session } = await scriptedSession();
    cleanups.push(() => session.close());
    const prompts = vi.spyOn(session, 'prompt$');
    const arrived = deferred<IncomingMessage>();
    const bridge = await startBridge(session, { heartbeatMs: null }, (req) => Promise.resolve(arrived.resolve(req)));
    cleanups.push(() => bridge.close());
    const req = httpRequest({
      host: '127.0.0.1',
      port: bridge.port,
      path: '/prompt',
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': '1000', Accept: 'text/event-stream' },
    });
    req.on('error', () => undefined);
    req.write('{"text":'); // and never the rest
    const serverReq = await arrived.promise;
    req.destroy();
    await gone(serverReq);
    await settle();
    expect(prompts).not.toHaveBeenCalled();
    expect(bridge.handler.openStreams).toBe(0);
  });
});

describe('an event the bridge cannot serialise', () => {
  it('goes as a stub frame (same seq and type); the stream, later events and reconnects go on', async () => {
    const { session, pi, bridge } = await serve();
    const run = session.prompt('hold');
    run.catch(() => undefined);
    const sse = await openSse(bridge.port, '/events');
    cleanups.push(() => sse.close());
    await sse.waitFor((t) => t.includes('"delta":"hold"'));
    // Tool arguments nested 20,000 deep: JSON.parse takes them, JSON.stringify overflows the stack.
    const depth = 20_000;
    pi.transport.emitLine(`{"type":"tool_execution_start","toolCallId":"t1","toolName":"deep","args":{"x":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}}`);
    pi.emitDelta('after the deep one');
    const text = await sse.waitFor((t) => t.includes('after the deep one'));
    const stub = eventFrames(text).find((frame) => frame.data.type === 'tool_start')!;
    expect(stub).toMatchObject({ id: String(stub.data.seq), data: { toolCallId: 't1', name: 'deep' } });
    expect(JSON.stringify(stub.data['arguments'])).toContain('[not serializable: RangeError');
    expect(frames(text).some((frame) => frame.event === 'close')).toBe(false);
    // A reconnecting client gets the stub again, and what follows.
    const again = await openSse(bridge.port, '/events', { 'Last-Event-ID': String(stub.data.seq! - 1) });
    cleanups.push(() => again.close());
    const resumed = eventFrames(await again.waitFor((t) => t.includes('after the deep one')));
    expect(resumed[0]).toMatchObject({ data: { type: 'tool_start', seq: stub.data.seq } });
    expect(session.status).toBe('running');
    await session.abort();
    await run;
  });
});

describe('with a manager', () => {
  let bridge: Bridge;

  it('lists sessions and routes /sessions/:id/… to each; 404 for an unknown id; basePath is stripped', async () => {
    const manager = new PiSessionManager<PiSession>({ idleTimeoutMs: null });
    cleanups.push(() => manager.dispose());
    const left = (await scriptedSession('left')).session;
    const right = (await scriptedSession('right')).session;
    manager.register(left);
    manager.register(right);
    bridge = await startBridge(manager, { basePath: '/api/', heartbeatMs: null });
    cleanups.push(() => bridge.close());
    const list = await rawRequest(bridge.port, '/api/sessions');
    expect(list.json).toMatchObject({
      sessions: [
        { sessionId: 'left', state: { status: 'idle' } },
        { sessionId: 'right', state: { status: 'idle' } },
      ],
    });
    expect((await postJson(bridge.port, '/api/sessions/right/prompt', { text: 'to the right' })).json).toMatchObject({ finalText: 'echo: to the right' });
    expect(left.state.runs).toBe(0);
    expect(right.state.runs).toBe(1);
    const sse = await openSse(bridge.port, '/api/sessions/right/events');
    cleanups.push(() => sse.close());
    const text = await sse.waitFor((t) => t.includes('"agent_end"'));
    expect(eventFrames(text).every((frame) => frame.data.sessionId === 'right')).toBe(true);
    const unknown = await rawRequest(bridge.port, '/api/sessions/nobody/state');
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ code: 'PI_SESSION_NOT_FOUND' });
    expect((await rawRequest(bridge.port, '/events')).status).toBe(404); // outside basePath
    expect((await rawRequest(bridge.port, '/api/events')).status).toBe(404); // manager routes only
  });

  it('calls next() for routes it does not serve (Express-style mounting)', async () => {
    const { session } = await scriptedSession();
    cleanups.push(() => session.close());
    const { sessionHandler } = await import('../../src/bridge/index.js');
    const handler = sessionHandler(session);
    let nexted = 0;
    const fakeRes = { headersSent: false } as never;
    handler({ url: '/not-mine', method: 'GET', headers: {} } as never, fakeRes, () => nexted++);
    await new Promise((resolve) => setImmediate(resolve));
    expect(nexted).toBe(1);
  });
});
