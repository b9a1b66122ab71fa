/**
 * Interaction requests inside a session (fake transport): what reaches the wire, exactly once,
 * when hosts are slow, answers come late, or requests are withdrawn.
 */
import { NEVER, Observable, VirtualTimeScheduler, map, mergeMap, of, type SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { PiConfig } from '../../src/config/PiConfig.js';
import { askHost } from '../../src/policies/askHost.js';
import { allow } from '../../src/policies/decisions.js';
import { timeoutDecision } from '../../src/policies/timeoutDecision.js';
import type { Policy, PolicyContext } from '../../src/policies/types.js';
import { PiSession } from '../../src/session/PiSession.js';
import { FakeTransport } from '../../src/testing/FakeTransport.js';

const config = PiConfig.parse({ requestTimeoutMs: 1_000, startTimeoutMs: 1_000 });
const confirm = (id: string) => ({ type: 'extension_ui_request', id, method: 'confirm', title: 'Allow tool: bash', message: 'Command: touch x' });

async function started(policy: Policy, scheduler?: SchedulerLike) {
  const transport = new FakeTransport();
  const session = new PiSession({ sessionId: 's1', transport, config, cwd: '/work', policy, ...(scheduler ? { scheduler } : {}) });
  session.events$.subscribe({ error: () => undefined });
  await session.start();
  return { session, transport, answers: () => transport.sent.filter((command) => command.type === 'extension_ui_response') };
}

/** Lets queued microtasks (fake writes and their replies) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('PiSession interaction requests', () => {
  it('a slow host while the session closes: its signal fires and one cancel is written', async () => {
    const contexts: PolicyContext[] = [];
    const { session, transport, answers } = await started(
      askHost((_request, context) => {
        contexts.push(context);
        return NEVER; // the host never answers
      }),
    );
    transport.emitFrame(confirm('r1'));
    await settle();
    expect(contexts).toHaveLength(1);
    expect(contexts[0]?.session).toBe(session);
    expect(contexts[0]?.signal.aborted).toBe(false);

    await session.close();
    expect(contexts[0]?.signal.aborted).toBe(true);
    expect(answers()).toEqual([{ type: 'extension_ui_response', id: 'r1', cancelled: true }]);
  });

  it('a host that answers after the request was withdrawn writes nothing more', async () => {
    let late!: (value: boolean) => void;
    const { session, transport, answers } = await started(askHost(() => new Promise<boolean>((resolve) => (late = resolve))));
    transport.emitFrame(confirm('r1'));
    await settle();
    await session.abort(); // withdraws: cancelled on the wire first
    late(true);
    await settle();
    expect(answers()).toEqual([{ type: 'extension_ui_response', id: 'r1', cancelled: true }]);
    await session.close();
  });

  it('a policy that answers one request twice: only the first answer reaches pi', async () => {
    const twice: Policy = (request$) =>
      request$.pipe(
        mergeMap(({ request }) =>
          of({ requestId: request.requestId, decision: allow() }, { requestId: request.requestId, decision: { kind: 'deny' as const } }),
        ),
      );
    const { session, transport, answers } = await started(twice);
    transport.emitFrame(confirm('r1'));
    await settle();
    expect(answers()).toEqual([{ type: 'extension_ui_response', id: 'r1', confirmed: true }]);
    await session.close();
  });

  it('an answer for a request that does not exist is ignored', async () => {
    const stray: Policy = (request$) => request$.pipe(map(() => ({ requestId: 'nobody', decision: allow() })));
    const { session, transport, answers } = await started(stray);
    transport.emitFrame(confirm('r1'));
    await settle();
    expect(answers()).toEqual([]);
    // Still with the policy (it never deferred it): not the host's to see or answer.
    expect(session.pending).toEqual([]);
    await expect(session.respond('r1', true)).rejects.toThrow(/No open interaction request/);
    await session.close();
  });

  it('timeoutDecision bounds a deferred request in pending$ (virtual time)', async () => {
    const scheduler = new VirtualTimeScheduler();
    const { session, transport, answers } = await started(timeoutDecision(30_000, false, askHost(), { scheduler }), scheduler);
    const pendingCounts: number[] = [];
    session.pending$.subscribe((pending) => pendingCounts.push(pending.length));
    transport.emitFrame(confirm('r1'));
    await settle();
    expect(session.pending).toHaveLength(1);
    scheduler.flush(); // 30 virtual seconds pass
    await settle();
    expect(answers()).toEqual([{ type: 'extension_ui_response', id: 'r1', confirmed: false }]);
    expect(session.pending).toHaveLength(0);
    expect(pendingCounts).toEqual([0, 1, 0]);
    await session.close();
  });

  it('pi’s own dialog timeout aborts the host callback’s signal (virtual time)', async () => {
    const scheduler = new VirtualTimeScheduler();
    const signals: AbortSignal[] = [];
    const { session, transport, answers } = await started(
      askHost((_request, { signal }) => {
        signals.push(signal);
        return new Observable<boolean>(() => undefined);
      }),
      scheduler,
    );
    transport.emitFrame({ type: 'extension_ui_request', id: 's1', method: 'select', title: 'Pick', options: ['a', 'b'], timeout: 400 });
    await settle();
    expect(signals[0]?.aborted).toBe(false);
    scheduler.flush();
    expect(signals[0]?.aborted).toBe(true);
    expect(session.pending).toHaveLength(0);
    expect(answers()).toEqual([]); // pi resolved the dialog itself: nothing to write
    await session.close();
  });
});

describe('PiSession prompt$ cancelled before pi started the run', () => {
  it('repeats the abort when the run starts (pi ignores an abort before agent_start)', async () => {
    // pi accepted the prompt and is about to stream: get_state says so.
    const transport = new FakeTransport({
      respond: (command, fake) => {
        if (command.type === 'prompt') fake.reply(command);
        else if (command.type === 'get_state') fake.reply(command, { isStreaming: true, isCompacting: false, sessionId: 'p' });
        else FakeTransport.defaultResponder(command, fake);
      },
    });
    const session = new PiSession({ sessionId: 's1', transport, config, cwd: '/work' });
    session.events$.subscribe({ error: () => undefined });
    await session.start();
    const subscription = session.prompt$('scenario:slow').subscribe({ error: () => undefined });
    await settle(); // sent and accepted; pi hasn't started the run yet
    subscription.unsubscribe();
    await settle();
    const aborts = () => transport.sent.filter((command) => command.type === 'abort').length;
    expect(aborts()).toBe(1);
    transport.emitFrame({ type: 'agent_start' });
    await settle();
    expect(aborts()).toBe(2);
    await session.close();
  });
});
