/**
 * Issue 11's session items over a FakeTransport (no process): the policy decides before the host
 * sees a request (1), prompt signals behave like fetch (7), a dialog too long to read is answered
 * (8), a request nobody could answer does not hang (9), a run does not end while pi 0.73 retries
 * after its agent_end (23). The same behaviours through the real pi are in
 * spec/security/policyFirst.e2e.spec.ts and spec/session/hardening.e2e.spec.ts.
 */
import { VirtualTimeScheduler, type SchedulerLike } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PiConfig } from '../../src/config/PiConfig.js';
import { auditLog, type AuditEntry } from '../../src/policies/auditLog.js';
import { askHost } from '../../src/policies/askHost.js';
import { autoApprove } from '../../src/policies/autoApprove.js';
import { denyAll } from '../../src/policies/denyAll.js';
import { timeoutDecision } from '../../src/policies/timeoutDecision.js';
import type { Policy } from '../../src/policies/types.js';
import type { InteractionRequest, PiEvent } from '../../src/protocol/events.js';
import { PiSession } from '../../src/session/PiSession.js';
import { FakeTransport, type SentCommand } from '../../src/testing/FakeTransport.js';
import { OversizeLine } from '../../src/transport/LineSplitter.js';

const config = PiConfig.parse({ requestTimeoutMs: 1_000, startTimeoutMs: 1_000 });
const confirm = (id: string) => ({ type: 'extension_ui_request', id, method: 'confirm', title: 'Allow tool: bash', message: 'Command: touch x' });
/** Lets queued microtasks (fake writes and their replies) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Setup {
  readonly policy?: Policy;
  readonly scheduler?: SchedulerLike;
  readonly respond?: (command: SentCommand, transport: FakeTransport) => void;
  /** Subscribe to events$ (and record them); default true. */
  readonly listen?: boolean;
}

async function started(options: Setup = {}) {
  const transport = new FakeTransport(options.respond ? { respond: options.respond } : {});
  const session = new PiSession({
    sessionId: 's1',
    transport,
    config,
    cwd: '/work',
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
  });
  const events: PiEvent[] = [];
  if (options.listen !== false) session.events$.subscribe({ next: (event) => events.push(event), error: () => undefined });
  await session.start();
  const answers = () => transport.sent.filter((command) => command.type === 'extension_ui_response');
  return { session, transport, events, answers };
}

/** A pi whose prompts start a run that waits (for an abort, or for the test to end it). */
function waitingPi(command: SentCommand, transport: FakeTransport): void {
  if (command.type === 'prompt') {
    transport.reply(command);
    transport.emitFrame({ type: 'agent_start' });
    return;
  }
  if (command.type === 'abort') {
    transport.reply(command);
    transport.emitFrame({ type: 'message_end', message: { role: 'assistant', content: [], stopReason: 'aborted' } });
    transport.emitFrame({ type: 'agent_end', messages: [] });
    return;
  }
  FakeTransport.defaultResponder(command, transport);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the policy decides before the host sees a request (issue 11 #1)', () => {
  it('a pending$ subscriber answering at once cannot overrule denyAll', async () => {
    const audit: AuditEntry[] = [];
    const { session, transport, events, answers } = await started({ policy: auditLog((entry) => audit.push(entry), denyAll('no')) });
    const seen: (readonly InteractionRequest[])[] = [];
    session.pending$.subscribe((pending) => {
      seen.push(pending);
      for (const request of pending) void session.respond(request.requestId, true).catch(() => undefined);
    });
    session.events$.subscribe((event) => {
      if (event.type === 'interaction_request') void session.respond(event.requestId, true).catch(() => undefined);
    });
    transport.emitFrame(confirm('r1'));
    await settle();
    expect(answers()).toEqual([{ type: 'extension_ui_response', id: 'r1', confirmed: false }]);
    expect(seen.every((pending) => pending.length === 0)).toBe(true);
    // A record on events$, after the answer: who handled it.
    expect(events.find((event) => event.type === 'interaction_request')).toMatchObject({ requestId: 'r1', handledBy: 'policy' });
    expect(audit.map((entry) => entry.answer?.decision.kind ?? 'arrived')).toEqual(['arrived', 'deny']);
    await session.close();
  });

  it('an auto-approved request never shows in pending$ (no flashing buttons)', async () => {
    const { session, transport, answers } = await started({ policy: autoApprove() });
    const counts: number[] = [];
    session.pending$.subscribe((pending) => counts.push(pending.length));
    transport.emitFrame(confirm('r1'));
    await settle();
    expect(answers()).toEqual([{ type: 'extension_ui_response', id: 'r1', confirmed: true }]);
    expect(counts).toEqual([0]);
    await session.close();
  });

  it('a request still with an async policy is neither pending nor answerable by the host', async () => {
    let decide!: (value: boolean) => void;
    const { session, transport, answers } = await started({ policy: askHost(() => new Promise<boolean>((resolve) => (decide = resolve))) });
    transport.emitFrame(confirm('r1'));
    await settle();
    expect(session.pending).toEqual([]);
    await expect(session.respond('r1', true)).rejects.toThrow(/No open interaction request/);
    decide(false);
    await settle();
    expect(answers()).toEqual([{ type: 'extension_ui_response', id: 'r1', confirmed: false }]);
    await session.close();
  });

  it('a deferred request is published with a seq in order, and the host answers it from events$', async () => {
    const { session, transport, events, answers } = await started();
    session.events$.subscribe((event) => {
      if (event.type === 'interaction_request') void session.respond(event.requestId, true);
    });
    transport.emitFrame({ type: 'agent_start' });
    transport.emitFrame(confirm('r1'));
    await settle();
    expect(answers()).toEqual([{ type: 'extension_ui_response', id: 'r1', confirmed: true }]);
    const request = events.find((event) => event.type === 'interaction_request');
    expect(request).toMatchObject({ handledBy: 'host' });
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    await session.close();
  });

  it('timeoutDecision: the host may answer the deferred request before the deadline', async () => {
    const scheduler = new VirtualTimeScheduler();
    const { session, transport, answers } = await started({ policy: timeoutDecision(30_000, false, askHost(), { scheduler }), scheduler });
    transport.emitFrame(confirm('r1'));
    await settle();
    expect(session.pending.map((request) => request.requestId)).toEqual(['r1']);
    await session.respond('r1', true);
    scheduler.flush();
    await settle();
    expect(answers()).toEqual([{ type: 'extension_ui_response', id: 'r1', confirmed: true }]);
    await session.close();
  });
});

describe('a request nobody can answer (issue 11 #9)', () => {
  it('with the default policy and no subscriber, it is denied at once with a message that says how to answer', async () => {
    const { session, transport, answers } = await started({ listen: false });
    const recent: PiEvent[] = [];
    transport.emitFrame(confirm('r1'));
    await settle();
    expect(answers()).toEqual([{ type: 'extension_ui_response', id: 'r1', confirmed: false }]);
    session.recentEvents$.subscribe({ next: (event) => recent.push(event), error: () => undefined });
    const error = recent.find((event) => event.type === 'error');
    expect(error).toMatchObject({ code: 'policy_error' });
    expect((error as { message: string }).message).toMatch(/Pass a policy to client\.start\(\).*session\.respond\(\)/s);
    expect(recent.find((event) => event.type === 'interaction_request')).toMatchObject({ handledBy: 'policy' });
    await session.close();
  });

  it('a subscriber of pending$ alone is enough to keep the request for the host', async () => {
    const { session, transport, answers } = await started({ listen: false });
    session.pending$.subscribe(() => undefined);
    transport.emitFrame(confirm('r1'));
    await settle();
    expect(answers()).toEqual([]);
    expect(session.pending).toHaveLength(1);
    // Stamped before it is listed: the same seq as its event (the bridge's wire needs seq > 0).
    expect(session.pending[0]?.seq).toBe(session.state.eventCount);
    await session.close();
  });

  it('an explicit policy that defers is left alone (its author chose it)', async () => {
    const { session, transport, answers } = await started({ listen: false, policy: askHost() });
    transport.emitFrame(confirm('r1'));
    await settle();
    expect(answers()).toEqual([]);
    expect(session.pending).toHaveLength(1);
    await session.close();
  });

  it('warns once, with a code and the tool, when a deferred request waits a minute (virtual time)', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const scheduler = new VirtualTimeScheduler();
    const { session, transport } = await started({ scheduler });
    transport.emitFrame({ ...confirm('r1'), title: 'Allow tool: bash' });
    await settle();
    expect(warn).not.toHaveBeenCalled();
    scheduler.flush();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toMatch(/interaction request r1 .* has waited 60 s/);
    expect(warn.mock.calls[0]?.[1]).toMatchObject({ code: 'PIDRIVER_UNANSWERED_REQUEST' });
    await session.close();
  });
});

describe('prompt(text, { signal }) behaves like fetch (issue 11 #7)', () => {
  it('an already-aborted signal rejects with its reason and sends nothing', async () => {
    const { session, transport } = await started({ respond: waitingPi });
    const reason = new Error('not wanted');
    await expect(session.prompt('hi', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await settle();
    expect(transport.sent.filter((command) => command.type === 'prompt')).toEqual([]);
    expect(session.state).toMatchObject({ status: 'idle', runs: 0 });
    await session.close();
  });

  it('aborting mid-run rejects with the reason and aborts the run', async () => {
    const { session, transport, events } = await started({ respond: waitingPi });
    const controller = new AbortController();
    const run = session.prompt('hi', { signal: controller.signal });
    await settle();
    expect(events.map((event) => event.type)).toEqual(['agent_start']);
    controller.abort(new Error('user left'));
    await expect(run).rejects.toThrow('user left');
    await settle();
    expect(transport.sent.map((command) => command.type)).toContain('abort');
    expect(events.at(-1)).toMatchObject({ type: 'agent_end', reason: 'cancelled' });
    await session.close();
  });

  it('aborting a queued prompt rejects with the reason and drops it', async () => {
    const { session, transport } = await started({ respond: waitingPi });
    const first = session.prompt('first');
    const controller = new AbortController();
    const second = session.prompt('second', { signal: controller.signal });
    await settle();
    controller.abort('changed my mind');
    await expect(second).rejects.toBe('changed my mind');
    expect(session.state.queuedPrompts).toBe(0);
    await session.abort();
    await first;
    await settle();
    expect(transport.sent.filter((command) => command.type === 'prompt').map((command) => command['message'])).toEqual(['first']);
    await session.close();
  });
});

describe('a dialog too long to read (issue 11 #8)', () => {
  it('is cancelled on the wire by its id, so the run is not left waiting', async () => {
    const { session, transport, answers } = await started();
    const head = '{"type":"extension_ui_request","id":"big-1","method":"confirm","title":"Allow tool: bash","message":"Command: echo xxxxxxxx';
    transport.emitLine(new OversizeLine(5_000_000, head));
    await settle();
    expect(answers()).toEqual([{ type: 'extension_ui_response', id: 'big-1', cancelled: true }]);
    await session.close();
  });

  it('a fire-and-forget notice too long to read needs no answer', async () => {
    const { session, transport, answers } = await started();
    transport.emitLine(new OversizeLine(5_000_000, '{"type":"extension_ui_request","id":"n-1","method":"notify","message":"xxxx'));
    await settle();
    expect(answers()).toEqual([]);
    await session.close();
  });
});

describe('pi 0.73 retries after its agent_end (issue 11 #23)', () => {
  it('the run stays open while pi waits to retry, though get_state says it is not streaming', async () => {
    const { session, transport, events } = await started({
      respond: (command, fake) => {
        if (command.type === 'prompt') {
          fake.reply(command);
          fake.emitFrame({ type: 'agent_start' });
          fake.emitFrame({ type: 'message_end', message: { role: 'assistant', content: [], stopReason: 'error', errorMessage: '500 boom' } });
          fake.emitFrame({ type: 'agent_end', messages: [] });
          // pi writes auto_retry_start in the same tick as agent_end, then sleeps before retrying.
          fake.emitFrame({ type: 'auto_retry_start', attempt: 1, maxAttempts: 3, delayMs: 2000, errorMessage: '500 boom' });
          return;
        }
        FakeTransport.defaultResponder(command, fake); // get_state: idle (pi is between attempts)
      },
    });
    let result: unknown;
    void session.prompt('flaky').then((value) => (result = value));
    // Several settle checks come and go during the retry's delay: the run must stay open.
    for (let index = 0; index < 5; index++) await settle();
    expect(transport.sent.filter((command) => command.type === 'get_state').length).toBeGreaterThan(1);
    expect(result).toBeUndefined();
    expect(session.state.status).toBe('running');
    expect(events.filter((event) => event.type === 'agent_end')).toEqual([]);

    // The retry.
    transport.emitFrame({ type: 'agent_start' });
    transport.emitFrame({ type: 'message_end', message: { role: 'assistant', content: [{ type: 'text', text: 'second time lucky' }], stopReason: 'stop' } });
    transport.emitFrame({ type: 'auto_retry_end', success: true, attempt: 1 });
    transport.emitFrame({ type: 'agent_end', messages: [] });
    for (let index = 0; index < 5 && result === undefined; index++) await settle();
    expect(result).toMatchObject({ reason: 'completed', finalText: 'second time lucky' });
    expect(events.filter((event) => event.type === 'agent_end')).toHaveLength(1);
    await session.close();
  });
});

describe('long timeouts (issue 11 #6)', () => {
  it('requestTimeoutMs of 2^31 ms does not time a command out after 1 ms', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    try {
      const transport = new FakeTransport({
        respond: (command, fake) => {
          if (command.type === 'get_commands') return; // never answered
          FakeTransport.defaultResponder(command, fake);
        },
      });
      const session = new PiSession({ sessionId: 's1', transport, config: PiConfig.parse({ requestTimeoutMs: 2 ** 31 }), cwd: '/work' });
      session.events$.subscribe({ error: () => undefined });
      await session.start();
      let outcome = 'waiting';
      session.command('get_commands').then(
        () => (outcome = 'answered'),
        (error: unknown) => (outcome = `rejected: ${String(error)}`),
      );
      await vi.advanceTimersByTimeAsync(60_000);
      expect(outcome).toBe('waiting');
      await session.close();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('secrets in text pidriver builds from stdout (issue 11 #4)', () => {
  it('masks the API key in invalid, unknown and oversize lines', async () => {
    const key = 'sk-test-0123456789abcdef';
    const transport = new FakeTransport();
    const session = new PiSession({ sessionId: 's1', transport, config: PiConfig.parse({ apiKey: key }), cwd: '/work' });
    const events: PiEvent[] = [];
    session.events$.subscribe({ next: (event) => events.push(event), error: () => undefined });
    await session.start();
    transport.emitLine(`not json ${key}`);
    transport.emitLine(JSON.stringify({ type: 'brand_new_frame', env: { FAKE_API_KEY: key } }));
    transport.emitLine(new OversizeLine(9_000_000, `{"type":"message_update","key":"${key}`));
    await settle();
    expect(events).toHaveLength(3);
    expect(JSON.stringify(events)).not.toContain(key);
    expect(JSON.stringify(events)).toContain('***');
    await session.close();
  });
});
