import { delay, filter, map, mergeMap, tap, type OperatorFunction } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { askHost } from '../../src/policies/askHost.js';
import { autoApprove } from '../../src/policies/autoApprove.js';
import { decisionTimeout$ } from '../../src/policies/decisionTimeout.js';
import { allow, answer, cancel, deny } from '../../src/policies/decisions.js';
import { timeoutDecision } from '../../src/policies/timeoutDecision.js';
import type { DecisionInput, Policy, PolicyAnswer, PolicyRequest } from '../../src/policies/types.js';
import { defer } from '../../src/policies/decisions.js';
import { answerFor as to, fakeSession, inputOf, makeRequest, permission } from '../helpers/requests.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

/** An asymmetric matcher where a string is expected (marble values are compared with toEqual). */
function stringMatching(pattern: RegExp): string {
  const matcher: unknown = expect.stringMatching(pattern);
  return matcher as string;
}

/** The answers that settle a request (a `defer` passed on from `inner` leaves it to the host). */
const settling: OperatorFunction<PolicyAnswer, PolicyAnswer> = filter((answer) => answer.decision.kind !== 'defer');

describe('timeoutDecision', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  it('mirrors an empty, a never-ending and an erroring source', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const empty$ = cold<PolicyRequest>('|');
      const never$ = cold<PolicyRequest>('-');
      const error$ = cold<PolicyRequest>('--#');
      expectObservable(empty$.pipe(timeoutDecision(5, false))).toBe('|');
      expectObservable(never$.pipe(timeoutDecision(5, false))).toBe('-');
      expectObservable(error$.pipe(timeoutDecision(5, false))).toBe('--#');
      expectSubscriptions(empty$.subscriptions).toBe('(^!)');
      expectSubscriptions(never$.subscriptions).toBe('^');
      expectSubscriptions(error$.subscriptions).toBe('^-!');
    });
  });

  it('answers a request the inner policy deferred with the decision, ms after it arrived', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = inputOf(permission());
      const request$ = cold('-a|', { a });
      expectObservable(request$.pipe(timeoutDecision(5, false))).toBe('-D----(A|)', { D: to(a, defer()), A: to(a, deny()) });
      expectSubscriptions(request$.subscriptions).toBe('^-!');
    });
  });

  it('passes an inner defer on once (the session shows the request to the host), then answers at the timeout', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const a = inputOf(permission());
      const twice: Policy = (requests$) => requests$.pipe(mergeMap((request) => [to(request, defer()), to(request, defer())]));
      expectObservable(cold('a|', { a }).pipe(timeoutDecision(3, false, twice))).toBe('D--(A|)', { D: to(a, defer()), A: to(a, deny()) });
    });
  });

  it('lets an inner answer that comes in time win, and cancels its timer', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const [a, b] = [inputOf(permission('bash')), inputOf(permission('edit'))] as const;
      const hosts: Record<string, ReturnType<typeof cold<DecisionInput>>> = {
        [a.request.requestId]: cold('--y|', { y: true }),
        [b.request.requestId]: cold('-------y|', { y: true }),
      };
      const request$ = cold('-ab|', { a, b });
      const expected = '     ---A---(B|)';
      const inner = askHost((request) => hosts[request.requestId] ?? [], { concurrency: 2 });
      expectObservable(request$.pipe(timeoutDecision(5, deny('too slow'), inner))).toBe(expected, {
        A: to(a, allow()),
        B: to(b, deny('too slow')),
      });
      expectSubscriptions(request$.subscriptions).toBe('^--!');
      expectSubscriptions(hosts[a.request.requestId]?.subscriptions ?? []).toBe('-^-!');
      // The slow host is dismissed when the timeout answers its request.
      expectSubscriptions(hosts[b.request.requestId]?.subscriptions ?? []).toBe('--^----!');
    });
  });

  it('answers many concurrent requests, each on its own clock, coercing the decision per kind', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const [p, q, c] = [inputOf(permission()), inputOf(makeRequest('question')), inputOf(makeRequest('choice'))] as const;
      const request$ = cold('-pq-c|', { p, q, c });
      const expected = '     ----PQ-(C|)';
      expectObservable(request$.pipe(timeoutDecision(3, 'blue'), settling)).toBe(expected, {
        P: to(p, deny(stringMatching(/^policy error: Invalid answer/))),
        Q: to(q, answer('blue')),
        C: to(c, answer('blue')),
      });
      expectSubscriptions(request$.subscriptions).toBe('^----!');
    });
  });

  it('fails closed when the decision does not fit the request (cancel for a question)', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const q = inputOf(makeRequest('question'));
      expectObservable(cold('q|', { q }).pipe(timeoutDecision(2, false), settling)).toBe('--(Q|)', { Q: to(q, cancel()) });
    });
  });

  it('answers only once when the inner policy answers synchronously', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const [a, q] = [inputOf(permission()), inputOf(makeRequest('question'))] as const;
      const request$ = cold('-aq|', { a, q });
      expectObservable(request$.pipe(timeoutDecision(3, undefined, autoApprove()), settling)).toBe('-A---(Q|)', {
        A: to(a, allow()),
        Q: to(q, cancel()),
      });
      expectSubscriptions(request$.subscriptions).toBe('^--!');
    });
  });

  it('dismisses the host when the timeout answers, and askHost moves on to its next request', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const [a, b] = [inputOf(permission('bash')), inputOf(permission('edit'))] as const;
      const signals: AbortSignal[] = [];
      const host = cold<DecisionInput>('----y|', { y: true });
      const request$ = cold('          ab-----|', { a, b });
      const expected = '               --AB---|';
      const inner = askHost((_request, { signal }) => (signals.push(signal), host));
      expectObservable(request$.pipe(timeoutDecision(2, false, inner))).toBe(expected, {
        A: to(a, deny()),
        B: to(b, deny()),
      });
      // b's clock started when it arrived (frame 1), not when the host was asked about it (frame 2).
      expectSubscriptions(host.subscriptions).toBe(['^-!', '--^!']);
      scheduler.flush();
      expect(signals.map((signal) => signal.aborted)).toEqual([true, true]);
      expect(signals[0]?.reason).toMatchObject({ code: 'PI_REQUEST_SETTLED' });
    });
  });

  it('ignores a late answer from an inner policy that does not watch the signal', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = inputOf(permission());
      const request$ = cold('a-----|', { a });
      const stubborn: Policy = (requests$) =>
        requests$.pipe(
          delay(4),
          map((request) => to(request, allow())),
        );
      expectObservable(request$.pipe(timeoutDecision(2, false, stubborn))).toBe('--A---|', { A: to(a, deny()) });
      expectSubscriptions(request$.subscriptions).toBe('^-----!');
    });
  });

  it('passes the inner policy the same request and session, with a signal of its own', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const a = inputOf(permission(), { signal: new AbortController().signal, session: fakeSession });
      const seen: PolicyRequest[] = [];
      const inner: Policy = (request$) =>
        request$.pipe(
          tap((input) => seen.push(input)),
          askHost(() => [true]),
        );
      expectObservable(cold('a|', { a }).pipe(timeoutDecision(2, false, inner))).toBe('A|', { A: to(a, allow()) });
      scheduler.flush();
      expect(seen[0]?.request).toBe(a.request);
      expect(seen[0]?.session).toBe(fakeSession);
      expect(seen[0]?.signal).not.toBe(a.signal);
      expect(seen[0]?.signal.aborted).toBe(true); // settled here
      expect(a.signal.aborted).toBe(false);
    });
  });

  it('keeps inner host errors inside (fail closed before the timeout)', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = inputOf(permission());
      const host = cold<DecisionInput>('-#', undefined, new Error('gone'));
      const request$ = cold('          a|', { a });
      expectObservable(
        request$.pipe(
          timeoutDecision(
            5,
            true,
            askHost(() => host),
          ),
        ),
      ).toBe('-(A|)', {
        A: to(a, deny('policy error: gone')),
      });
      expectSubscriptions(host.subscriptions).toBe('^!');
    });
  });

  it('emits nothing for a withdrawn request, neither from the inner policy nor from the timer', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const withdraw = new AbortController();
      const a = inputOf(permission(), { signal: withdraw.signal });
      const host = cold<DecisionInput>('------y|', { y: true });
      const request$ = cold('          -a|', { a });
      scheduler.schedule(() => withdraw.abort(), 3);
      expectObservable(
        request$.pipe(
          timeoutDecision(
            5,
            false,
            askHost(() => host),
          ),
        ),
      ).toBe('---|');
      expectSubscriptions(host.subscriptions).toBe('-^-!');
    });
  });

  it('tears the timers and the inner policy down on early unsubscribe', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const a = inputOf(permission());
      const host = cold<DecisionInput>('------y|', { y: true });
      const request$ = hot('           -a------', { a });
      const unsub = '                   ^---!';
      expectObservable(
        request$.pipe(
          timeoutDecision(
            5,
            false,
            askHost(() => host),
          ),
        ),
        unsub,
      ).toBe('-----');
      expectSubscriptions(request$.subscriptions).toBe(unsub);
      expectSubscriptions(host.subscriptions).toBe('-^--!');
    });
  });

  it('uses the scheduler it is given', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const a = inputOf(permission());
      expectObservable(cold('a|', { a }).pipe(timeoutDecision(4, true, undefined, { scheduler }), settling)).toBe('----(A|)', {
        A: to(a, allow()),
      });
    });
  });

  it('waits out a duration over 2^31 ms in full, and never times out with Infinity', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const a = inputOf(permission());
      const long = 2 ** 31 + 5;
      expectObservable(cold('a|', { a }).pipe(timeoutDecision(long, false), settling)).toBe(`${long}ms (A|)`, { A: to(a, deny()) });
      expectObservable(cold('a|', { a }).pipe(timeoutDecision(Infinity, false), settling)).toBe('-');
    });
  });

  it('refuses a negative or NaN duration', () => {
    expect(() => timeoutDecision(-1, false)).toThrow(/timeoutDecision: ms must be/);
    expect(() => timeoutDecision(Number.NaN, false)).toThrow(/timeoutDecision: ms must be/);
  });

  it('is named for debugging', () => {
    expect(timeoutDecision(1000, false).name).toBe('timeoutDecision(1000, askHost)');
  });
});

describe('decisionTimeout$', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  it('answers with the coerced decision after ms', () => {
    scheduler.run(({ expectObservable }) => {
      const c = inputOf(makeRequest('choice'));
      expectObservable(decisionTimeout$(c, 3, 2, scheduler)).toBe('---(C|)', { C: to(c, answer('blue')) });
    });
  });

  it('emits nothing when the request is withdrawn first (or already was)', () => {
    scheduler.run(({ expectObservable }) => {
      const withdraw = new AbortController();
      const a = inputOf(permission(), { signal: withdraw.signal });
      scheduler.schedule(() => withdraw.abort(), 2);
      expectObservable(decisionTimeout$(a, 3, true)).toBe('--|');
      const gone = new AbortController();
      gone.abort();
      expectObservable(decisionTimeout$(inputOf(permission(), { signal: gone.signal }), 3, true)).toBe('|');
    });
  });

  it('fails closed for a decision that does not fit', () => {
    scheduler.run(({ expectObservable }) => {
      const a = inputOf(permission());
      expectObservable(decisionTimeout$(a, 1, 'maybe')).toBe('-(A|)', {
        A: to(a, deny(stringMatching(/^policy error: .*"maybe" is not one of its options/))),
      });
    });
  });
});
