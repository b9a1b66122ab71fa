/**
 * A policy's input carries its context (`{ request, signal, session }`): a policy that copies its
 * input, or the request in it, still sees the request withdrawn. In marbles, and through a real
 * session over a FakeTransport (withdrawn by `abort()`, `close()` and pi's own dialog timeout).
 */
import { NEVER, VirtualTimeScheduler, map, mergeMap, tap, type SchedulerLike } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { PiConfig } from '../../src/config/PiConfig.js';
import { askHost } from '../../src/policies/askHost.js';
import { chain } from '../../src/policies/chain.js';
import { decisionTimeout$ } from '../../src/policies/decisionTimeout.js';
import { allow } from '../../src/policies/decisions.js';
import { denyTools } from '../../src/policies/denyTools.js';
import { timeoutDecision } from '../../src/policies/timeoutDecision.js';
import type { DecisionInput, Policy, PolicyContext, PolicyRequest } from '../../src/policies/types.js';
import { PiSession } from '../../src/session/PiSession.js';
import { FakeTransport } from '../../src/testing/FakeTransport.js';
import { answerFor as to, fakeSession, inputOf, permission } from '../helpers/requests.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

/** A policy step that copies its input: the envelope, and the request inside it. */
const copyInput = map((input: PolicyRequest): PolicyRequest => ({ ...input, request: { ...input.request } }));

describe('PolicyRequest: a copy keeps its signal (marbles)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  it('askHost after a copying step still drops a withdrawn request and aborts the host', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const withdraw = new AbortController();
      const a = inputOf(permission('bash'), { signal: withdraw.signal, session: fakeSession });
      const b = inputOf(permission('edit'));
      const contexts: PolicyContext[] = [];
      const slow = cold<DecisionInput>(' -----y|', { y: true });
      const quick = cold<DecisionInput>('-y|', { y: true });
      const request$ = cold('            -ab|', { a, b });
      scheduler.schedule(() => withdraw.abort(new Error('withdrawn')), 3);
      const policy: Policy = (input$) =>
        input$.pipe(
          copyInput,
          askHost((request, context) => (contexts.push(context), request.requestId === a.request.requestId ? slow : quick)),
        );
      expectObservable(request$.pipe(policy)).toBe('----(B|)', { B: to(b, allow()) });
      expectSubscriptions(slow.subscriptions).toBe('-^-!');
      scheduler.flush();
      expect(contexts[0]?.session).toBe(fakeSession);
      expect(contexts[0]?.signal.aborted).toBe(true);
      expect(contexts[0]?.signal.reason).toEqual(new Error('withdrawn'));
    });
  });

  it('decisionTimeout$ on a copy emits nothing for a withdrawn request', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const withdraw = new AbortController();
      const a = inputOf(permission(), { signal: withdraw.signal });
      scheduler.schedule(() => withdraw.abort(), 2);
      const policy: Policy = (input$) =>
        input$.pipe(
          copyInput,
          mergeMap((input) => decisionTimeout$(input, 5, true)),
        );
      expectObservable(cold('a|', { a }).pipe(policy)).toBe('--|');
    });
  });
});

const config = PiConfig.parse({ requestTimeoutMs: 1_000, startTimeoutMs: 1_000 });
const confirm = (id: string) => ({ type: 'extension_ui_request', id, method: 'confirm', title: 'Allow tool: bash', message: 'Command: touch x' });
/** Lets queued microtasks (fake writes and their replies) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

async function started(policy: Policy, scheduler?: SchedulerLike) {
  const transport = new FakeTransport();
  const session = new PiSession({ sessionId: 's1', transport, config, cwd: '/work', policy, ...(scheduler ? { scheduler } : {}) });
  session.events$.subscribe({ error: () => undefined });
  await session.start();
  return { session, transport, answers: () => transport.sent.filter((command) => command.type === 'extension_ui_response') };
}

describe('PolicyRequest: a copying policy in a session (FakeTransport)', () => {
  it('`map((input) => ({ ...input }))`: abort() withdraws the request, the copy’s signal and the host’s abort', async () => {
    const seen: PolicyRequest[] = [];
    const contexts: PolicyContext[] = [];
    let late!: (value: boolean) => void;
    const policy: Policy = (request$) =>
      request$.pipe(
        map((input) => ({ ...input })),
        tap((copy) => seen.push(copy)),
        askHost((_request, context) => (contexts.push(context), new Promise<boolean>((resolve) => (late = resolve)))),
      );
    const { session, transport, answers } = await started(policy);
    transport.emitFrame(confirm('r1'));
    await settle();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.session).toBe(session);
    expect(seen[0]?.signal.aborted).toBe(false);
    expect(contexts[0]?.signal.aborted).toBe(false);

    await session.abort(); // withdraws: cancelled on the wire first
    expect(seen[0]?.signal.aborted).toBe(true);
    expect(seen[0]?.signal.reason).toMatchObject({ code: 'PI_REQUEST_WITHDRAWN' });
    expect(contexts[0]?.signal.aborted).toBe(true);
    late(true); // the host answers anyway: ignored
    await settle();
    expect(answers()).toEqual([{ type: 'extension_ui_response', id: 'r1', cancelled: true }]);
    await session.close();
  });

  it('a copy of the request inside a chain: close() aborts the host’s signal, one cancel is written', async () => {
    const contexts: PolicyContext[] = [];
    const policy = chain(denyTools(['rm']), (request$) =>
      request$.pipe(
        copyInput,
        askHost((_request, context) => (contexts.push(context), NEVER)),
      ),
    );
    const { session, transport, answers } = await started(policy);
    transport.emitFrame(confirm('r1'));
    await settle();
    expect(contexts).toHaveLength(1);
    expect(contexts[0]?.session).toBe(session);
    expect(contexts[0]?.signal.aborted).toBe(false);

    await session.close();
    expect(contexts[0]?.signal.aborted).toBe(true);
    expect(answers()).toEqual([{ type: 'extension_ui_response', id: 'r1', cancelled: true }]);
  });

  it('pi’s own dialog timeout withdraws a copied request: no timeoutDecision answer (virtual time)', async () => {
    const scheduler = new VirtualTimeScheduler();
    const signals: AbortSignal[] = [];
    const policy: Policy = (request$) =>
      request$.pipe(
        map((input) => ({ ...input })),
        timeoutDecision(
          30_000,
          false,
          askHost((_request, { signal }) => (signals.push(signal), NEVER)),
          { scheduler },
        ),
      );
    const { session, transport, answers } = await started(policy, scheduler);
    transport.emitFrame({ ...confirm('r1'), timeout: 400 });
    await settle();
    expect(signals[0]?.aborted).toBe(false);
    scheduler.flush(); // pi's 400 ms pass first; the 30 s deadline never answers
    await settle();
    expect(signals[0]?.aborted).toBe(true);
    expect(answers()).toEqual([]); // pi resolved the dialog itself: nothing to write
    await session.close();
  });
});
