import { firstValueFrom, of, toArray } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { askHost } from '../../src/policies/askHost.js';
import type { HostCallback } from '../../src/policies/askHost.js';
import { allow, answer, cancel, defer, deny } from '../../src/policies/decisions.js';
import type { DecisionInput, PolicyContext, PolicyRequest } from '../../src/policies/types.js';
import type { InteractionRequest } from '../../src/protocol/events.js';
import { answerFor as to, fakeSession, inputOf, makeRequest, permission } from '../helpers/requests.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

describe('askHost', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  describe('without a callback', () => {
    it('defers every request to the host', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const a = inputOf(permission());
        const b = inputOf(makeRequest('choice'));
        const request$ = cold(' -a-b-|', { a, b });
        const expected = '       -A-B-|';
        expectObservable(request$.pipe(askHost())).toBe(expected, { A: to(a, defer()), B: to(b, defer()) });
        expectSubscriptions(request$.subscriptions).toBe('^----!');
      });
    });

    it('mirrors an empty, a never-ending and an erroring source', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const empty$ = cold<PolicyRequest>('|');
        const never$ = cold<PolicyRequest>('-');
        const error$ = cold<PolicyRequest>('--#');
        expectObservable(empty$.pipe(askHost())).toBe('|');
        expectObservable(never$.pipe(askHost())).toBe('-');
        expectObservable(error$.pipe(askHost())).toBe('--#');
        expectSubscriptions(empty$.subscriptions).toBe('(^!)');
        expectSubscriptions(never$.subscriptions).toBe('^');
        expectSubscriptions(error$.subscriptions).toBe('^-!');
      });
    });

    it('is named for debugging', () => {
      expect(askHost().name).toBe('askHost');
      expect(askHost(() => of(true)).name).toBe('askHost');
    });
  });

  describe('with a callback', () => {
    it('does nothing for an empty source', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        let calls = 0;
        const request$ = cold<PolicyRequest>('|');
        expectObservable(request$.pipe(askHost(() => (calls++, of(true))))).toBe('|');
        expectSubscriptions(request$.subscriptions).toBe('(^!)');
        scheduler.flush();
        expect(calls).toBe(0);
      });
    });

    it('answers one request with the coerced first value of the callback', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const a = inputOf(permission());
        const host = cold<DecisionInput>('   --tf|', { t: true, f: false });
        const request$ = cold('             -a|', { a });
        const expected = '                  ---(A|)';
        const hostSubs = '                  -^-!';
        expectObservable(request$.pipe(askHost(() => host))).toBe(expected, { A: to(a, allow()) });
        expectSubscriptions(request$.subscriptions).toBe('^-!');
        expectSubscriptions(host.subscriptions).toBe(hostSubs);
      });
    });

    it('takes plain answers returned directly (a string is the answer, not its characters)', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const [q, p, c, d, u] = [
          inputOf(makeRequest('question')),
          inputOf(permission('bash')),
          inputOf(makeRequest('choice')),
          inputOf(permission('rm')),
          inputOf(makeRequest('editor')),
        ] as const;
        const replies = new Map<InteractionRequest, DecisionInput>([
          [q.request, 'blue'],
          [p.request, true],
          [c.request, 1],
          [d.request, deny('no rm')],
          [u.request, undefined],
        ]);
        const request$ = cold('-qpcdu|', { q, p, c, d, u });
        const expected = '     -QPCDU|';
        expectObservable(request$.pipe(askHost((request) => replies.get(request)))).toBe(expected, {
          Q: to(q, answer('blue')),
          P: to(p, allow()),
          C: to(c, answer('green')),
          D: to(d, deny('no rm')),
          U: to(u, cancel()),
        });
        expectSubscriptions(request$.subscriptions).toBe('^-----!');
      });
    });

    it('asks one request at a time by default (concatMap)', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const a = inputOf(permission('bash'));
        const b = inputOf(makeRequest('choice'));
        const c = inputOf(makeRequest('question'));
        const hosts: Record<string, ReturnType<typeof cold<DecisionInput>>> = {
          [a.request.requestId]: cold('---y|', { y: 'Approve' }),
          [b.request.requestId]: cold('--n', { n: 1 }),
          [c.request.requestId]: cold('-s|', { s: 'blue' }),
        };
        const request$ = cold('         -abc|', { a, b, c });
        const expected = '              ----A-B(C|)';
        const callback: HostCallback = (request) => hosts[request.requestId] as ReturnType<typeof cold<DecisionInput>>;
        expectObservable(request$.pipe(askHost(callback))).toBe(expected, {
          A: to(a, allow()),
          B: to(b, answer('green')),
          C: to(c, answer('blue')),
        });
        expectSubscriptions(request$.subscriptions).toBe('^---!');
        expectSubscriptions(hosts[a.request.requestId]?.subscriptions ?? []).toBe('-^--!');
        expectSubscriptions(hosts[b.request.requestId]?.subscriptions ?? []).toBe('----^-!');
        expectSubscriptions(hosts[c.request.requestId]?.subscriptions ?? []).toBe('------^!');
      });
    });

    it('asks concurrent requests at once with concurrency > 1 (mergeMap), up to the limit', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const [a, b, c] = [inputOf(permission('bash')), inputOf(permission('edit')), inputOf(permission('write'))] as const;
        const slow = cold<DecisionInput>('----y|', { y: true });
        const request$ = cold('          -abc|', { a, b, c });
        const expected = '               -----AB--(C|)';
        expectObservable(request$.pipe(askHost(() => slow, { concurrency: 2 }))).toBe(expected, {
          A: to(a, allow()),
          B: to(b, allow()),
          C: to(c, allow()),
        });
        expectSubscriptions(request$.subscriptions).toBe('^---!');
        expectSubscriptions(slow.subscriptions).toBe(['-^---!', '--^---!', '-----^---!']);
      });
    });

    it('rejects an invalid concurrency', () => {
      for (const concurrency of [0, -1, 1.5, Number.NaN]) {
        expect(() => askHost(() => of(true), { concurrency })).toThrow(/concurrency must be a positive integer/);
      }
      expect(() => askHost(() => of(true), { concurrency: Infinity })).not.toThrow();
    });

    it('fails closed when the host errors: deny for a permission, cancel for the rest, and goes on', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const a = inputOf(permission());
        const b = inputOf(makeRequest('question'));
        const c = inputOf(makeRequest('question'));
        const failing = cold<DecisionInput>('--#', undefined, new Error('host is down'));
        const fine = cold<DecisionInput>('  -s|', { s: 'ok' });
        const request$ = cold('             -ab-c|', { a, b, c });
        const expected = '                  ---A-B(C|)';
        const callback: HostCallback = (request) => (request === c.request ? fine : failing);
        expectObservable(request$.pipe(askHost(callback))).toBe(expected, {
          A: to(a, deny('policy error: host is down')),
          B: to(b, cancel()),
          C: to(c, answer('ok')),
        });
        expectSubscriptions(request$.subscriptions).toBe('^----!');
        expectSubscriptions(failing.subscriptions).toBe(['-^-!', '---^-!']);
        expectSubscriptions(fine.subscriptions).toBe('-----^!');
      });
    });

    it('fails closed when the callback throws, completes empty, or answers something that does not fit', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const thrower = inputOf(permission('bash', { requestId: 'throws' }));
        const empty = inputOf(permission('bash', { requestId: 'empty' }));
        const invalid = inputOf(permission('bash', { requestId: 'invalid' }));
        const badQuestion = inputOf(makeRequest('question', { requestId: 'bad-question' }));
        const callback: HostCallback = (request) => {
          switch (request.requestId) {
            case 'throws':
              throw new Error('boom');
            case 'empty':
              return cold('--|');
            case 'invalid':
              return cold('-x|', { x: 'yes please' });
            default:
              return of(true);
          }
        };
        const request$ = cold('-abcd|', { a: thrower, b: empty, c: invalid, d: badQuestion });
        const expected = '     -A--B(CD|)';
        expectObservable(request$.pipe(askHost(callback))).toBe(expected, {
          A: to(thrower, deny('policy error: boom')),
          B: to(empty, deny('policy error: the host callback completed without an answer')),
          C: to(
            invalid,
            deny(
              'policy error: Invalid answer for permission request invalid: the string "yes please" is not one of its options (options are "Approve", "Approve always", "Deny"); use true/false, allow() or deny()',
            ),
          ),
          D: to(badQuestion, cancel()),
        });
      });
    });

    it('passes the session and an abort signal; the signal aborts once the answer is taken', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const withdraw = new AbortController();
        const a = inputOf(permission(), { signal: withdraw.signal, session: fakeSession });
        const seen: PolicyContext[] = [];
        const request$ = cold('-a|', { a });
        expectObservable(request$.pipe(askHost((_request, context) => (seen.push(context), cold('--y', { y: true }))))).toBe('---(A|)', { A: to(a, allow()) });
        scheduler.flush();
        expect(seen).toHaveLength(1);
        expect(seen[0]?.session).toBe(fakeSession);
        expect(seen[0]?.signal).not.toBe(withdraw.signal);
        expect(seen[0]?.signal.aborted).toBe(true);
        expect(withdraw.signal.aborted).toBe(false);
      });
    });

    it('cancels the host and emits nothing when the request is withdrawn while the host is slow', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const withdraw = new AbortController();
        const a = inputOf(permission('bash'), { signal: withdraw.signal });
        const b = inputOf(permission('edit'));
        const signals: AbortSignal[] = [];
        const slow = cold<DecisionInput>('  ------y|', { y: true });
        const quick = cold<DecisionInput>(' -y|', { y: true });
        const request$ = cold('             -ab|', { a, b });
        const expected = '                  -----(B|)';
        const callback: HostCallback = (request, { signal }) => (signals.push(signal), request === a.request ? slow : quick);
        scheduler.schedule(() => withdraw.abort(new Error('withdrawn')), 4);
        expectObservable(request$.pipe(askHost(callback))).toBe(expected, { B: to(b, allow()) });
        expectSubscriptions(request$.subscriptions).toBe('^--!');
        expectSubscriptions(slow.subscriptions).toBe('-^--!');
        expectSubscriptions(quick.subscriptions).toBe('----^!');
        scheduler.flush();
        expect(signals[0]?.aborted).toBe(true);
        expect(signals[0]?.reason).toEqual(new Error('withdrawn'));
      });
    });

    it('never asks about a request withdrawn while it waited its turn', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const withdraw = new AbortController();
        const a = inputOf(permission('bash'));
        const b = inputOf(permission('edit'), { signal: withdraw.signal });
        const asked: string[] = [];
        const host = cold<DecisionInput>('----y|', { y: true });
        const request$ = cold('          -ab|', { a, b });
        const expected = '               -----(A|)';
        scheduler.schedule(() => withdraw.abort(), 3);
        expectObservable(request$.pipe(askHost((request) => (asked.push(request.requestId), host)))).toBe(expected, {
          A: to(a, allow()),
        });
        expectSubscriptions(host.subscriptions).toBe('-^---!');
        scheduler.flush();
        expect(asked).toEqual([a.request.requestId]);
      });
    });

    it('does not ask about a request that arrives withdrawn', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const withdraw = new AbortController();
        withdraw.abort();
        const a = inputOf(permission(), { signal: withdraw.signal });
        let calls = 0;
        expectObservable(cold('-a|', { a }).pipe(askHost(() => (calls++, of(true))))).toBe('--|');
        scheduler.flush();
        expect(calls).toBe(0);
      });
    });

    it('tears the host down on early unsubscribe', () => {
      scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const a = inputOf(permission());
        const signals: AbortSignal[] = [];
        const host = cold<DecisionInput>('    -----y|', { y: true });
        const request$ = hot('                -a----', { a });
        const unsub = '                      ---!';
        expectObservable(request$.pipe(askHost((_r, { signal }) => (signals.push(signal), host))), unsub).toBe('---');
        expectSubscriptions(request$.subscriptions).toBe('^--!');
        expectSubscriptions(host.subscriptions).toBe('-^-!');
        scheduler.flush();
        expect(signals[0]?.aborted).toBe(true);
      });
    });

    it('errors with the source, tearing the host down', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const a = inputOf(permission());
        const host = cold<DecisionInput>('----y|', { y: true });
        const request$ = cold('          -a-#', { a });
        expectObservable(request$.pipe(askHost(() => host))).toBe('---#');
        expectSubscriptions(request$.subscriptions).toBe('^--!');
        expectSubscriptions(host.subscriptions).toBe('-^-!');
      });
    });

    it('stays open with a never-ending source', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const a = inputOf(permission());
        const request$ = cold('-a-', { a });
        expectObservable(request$.pipe(askHost(() => cold('-y', { y: true })))).toBe('--A', { A: to(a, allow()) });
        expectSubscriptions(request$.subscriptions).toBe('^');
      });
    });
  });

  it('accepts Promises from the callback (outside virtual time)', async () => {
    const a = inputOf(permission());
    const b = inputOf(makeRequest('choice'));
    const answers = await firstValueFrom(
      of(a, b).pipe(
        askHost((request) => Promise.resolve(request.kind === 'choice' ? 2 : 'Deny')),
        toArray(),
      ),
    );
    expect(answers).toEqual([to(a, deny()), to(b, answer('blue'))]);
  });

  it('fails closed on a rejected Promise', async () => {
    const a = inputOf(permission());
    const answers = await firstValueFrom(
      of(a).pipe(
        askHost(() => Promise.reject(new Error('nope'))),
        toArray(),
      ),
    );
    expect(answers).toEqual([to(a, deny('policy error: nope'))]);
  });
});
