import type { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { askHost } from '../../src/policies/askHost.js';
import { auditLog } from '../../src/policies/auditLog.js';
import type { AuditEntry } from '../../src/policies/auditLog.js';
import { autoApprove } from '../../src/policies/autoApprove.js';
import { allow, cancel, defer, deny } from '../../src/policies/decisions.js';
import type { DecisionInput, PolicyRequest } from '../../src/policies/types.js';
import { answerFor as to, inputOf, makeRequest, permission } from '../helpers/requests.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

describe('auditLog', () => {
  let scheduler: TestScheduler;
  let entries: AuditEntry[];
  const sink = (entry: AuditEntry): void => {
    entries.push(entry);
  };
  beforeEach(() => {
    scheduler = createTestScheduler();
    entries = [];
  });

  it('mirrors an empty, a never-ending and an erroring source, logging nothing', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const empty$ = cold<PolicyRequest>('|');
      const never$ = cold<PolicyRequest>('-');
      const error$ = cold<PolicyRequest>('--#');
      expectObservable(empty$.pipe(auditLog(sink))).toBe('|');
      expectObservable(never$.pipe(auditLog(sink))).toBe('-');
      expectObservable(error$.pipe(auditLog(sink))).toBe('--#');
      expectSubscriptions(empty$.subscriptions).toBe('(^!)');
      expectSubscriptions(never$.subscriptions).toBe('^');
      expectSubscriptions(error$.subscriptions).toBe('^-!');
    });
    expect(entries).toEqual([]);
  });

  it('logs one request and its answer, with virtual timestamps, and passes the answer on', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = inputOf(permission());
      const host = cold<DecisionInput>('---y|', { y: true });
      const request$ = cold('          -a|', { a });
      expectObservable(
        request$.pipe(
          auditLog(
            sink,
            askHost(() => host),
          ),
        ),
      ).toBe('----(A|)', { A: to(a, allow()) });
      expectSubscriptions(request$.subscriptions).toBe('^-!');
      expectSubscriptions(host.subscriptions).toBe('-^--!');
      scheduler.flush();
      expect(entries).toEqual([
        { request: a.request, at: 1 },
        { request: a.request, answer: to(a, allow()), at: 4 },
      ]);
    });
  });

  it('logs many and concurrent requests in the order things happen (default inner: defer)', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const [a, b] = [inputOf(permission()), inputOf(makeRequest('choice'))] as const;
      expectObservable(cold('a(b|)', { a, b }).pipe(auditLog(sink))).toBe('A(B|)', { A: to(a, defer()), B: to(b, defer()) });
      scheduler.flush();
      expect(entries).toEqual([
        { request: a.request, at: 0 },
        { request: a.request, answer: to(a, defer()), at: 0 },
        { request: b.request, at: 1 },
        { request: b.request, answer: to(b, defer()), at: 1 },
      ]);
    });
  });

  it('logs answers that come out of order', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const [a, b] = [inputOf(permission('bash')), inputOf(permission('edit'))] as const;
      const hosts: Record<string, ReturnType<typeof cold<DecisionInput>>> = {
        [a.request.requestId]: cold('---y|', { y: true }),
        [b.request.requestId]: cold('-n|', { n: false }),
      };
      const inner = askHost((request) => hosts[request.requestId] ?? [], { concurrency: 2 });
      expectObservable(cold('ab|', { a, b }).pipe(auditLog(sink, inner))).toBe('--B(A|)', { A: to(a, allow()), B: to(b, deny()) });
      scheduler.flush();
      expect(entries.map((entry) => [entry.request.requestId, entry.answer?.decision.kind ?? 'asked', entry.at])).toEqual([
        [a.request.requestId, 'asked', 0],
        [b.request.requestId, 'asked', 1],
        [b.request.requestId, 'deny', 2],
        [a.request.requestId, 'allow', 3],
      ]);
    });
  });

  it('logs the fail-closed answer of a host error', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const q = inputOf(makeRequest('question'));
      const host = cold<DecisionInput>('-#');
      expectObservable(
        cold('q|', { q }).pipe(
          auditLog(
            sink,
            askHost(() => host),
          ),
        ),
      ).toBe('-(Q|)', { Q: to(q, cancel()) });
      scheduler.flush();
      expect(entries[1]).toEqual({ request: q.request, answer: to(q, cancel()), at: 1 });
    });
  });

  it('logs no answer for a withdrawn request, and tears the inner policy down on unsubscribe', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const withdraw = new AbortController();
      const a = inputOf(permission(), { signal: withdraw.signal });
      const b = inputOf(permission());
      const host = cold<DecisionInput>('---y|', { y: true });
      const request$ = hot('           -a-b----', { a, b });
      const unsub = '                   ^----!';
      scheduler.schedule(() => withdraw.abort(), 2);
      expectObservable(
        request$.pipe(
          auditLog(
            sink,
            askHost(() => host),
          ),
        ),
        unsub,
      ).toBe('------');
      expectSubscriptions(request$.subscriptions).toBe(unsub);
      expectSubscriptions(host.subscriptions).toBe(['-^!', '---^-!']);
      scheduler.flush();
      expect(entries).toEqual([
        { request: a.request, at: 1 },
        { request: b.request, at: 3 },
      ]);
    });
  });

  it('ignores a sink that throws', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const a = inputOf(permission());
      const policy = auditLog(() => {
        throw new Error('disk full');
      }, autoApprove());
      expectObservable(cold('a|', { a }).pipe(policy)).toBe('A|', { A: to(a, allow()) });
    });
  });

  it('reads the clock of the scheduler it is given, and is named for debugging', () => {
    const clock = { now: () => 42, schedule: scheduler.schedule.bind(scheduler) };
    scheduler.run(({ cold, expectObservable }) => {
      const a = inputOf(permission());
      expectObservable(cold('a|', { a }).pipe(auditLog(sink, autoApprove(), { scheduler: clock }))).toBe('A|', { A: to(a, allow()) });
    });
    expect(entries.map((entry) => entry.at)).toEqual([42, 42]);
    expect(auditLog(sink).name).toBe('auditLog(askHost)');
  });
});
