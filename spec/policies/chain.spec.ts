import { delay, ignoreElements, map, mergeMap, of, takeWhile, throwError } from 'rxjs';
import type { Observable } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { askHost } from '../../src/policies/askHost.js';
import { autoApprove } from '../../src/policies/autoApprove.js';
import { chain } from '../../src/policies/chain.js';
import { allow, allowAlways, cancel, defer, deny } from '../../src/policies/decisions.js';
import { denyAll } from '../../src/policies/denyAll.js';
import { denyTools } from '../../src/policies/denyTools.js';
import { rememberAlways } from '../../src/policies/rememberAlways.js';
import type { DecisionInput, Policy, PolicyRequest } from '../../src/policies/types.js';
import { answerFor as to, inputOf, makeRequest, permission } from '../helpers/requests.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

describe('chain', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  it('mirrors an empty, a never-ending and an erroring source', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const empty$ = cold<PolicyRequest>('|');
      const never$ = cold<PolicyRequest>('-');
      const error$ = cold<PolicyRequest>('--#');
      const policy = chain(denyAll(), autoApprove());
      expectObservable(empty$.pipe(policy)).toBe('|');
      expectObservable(never$.pipe(policy)).toBe('-');
      expectObservable(error$.pipe(policy)).toBe('--#');
      expectSubscriptions(empty$.subscriptions).toBe('(^!)');
      expectSubscriptions(never$.subscriptions).toBe('^');
      expectSubscriptions(error$.subscriptions).toBe('^-!');
    });
  });

  it('defers everything when it has no policies', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = inputOf(permission());
      const request$ = cold('-a|', { a });
      expectObservable(request$.pipe(chain())).toBe('-A|', { A: to(a, defer()) });
      expectSubscriptions(request$.subscriptions).toBe('^-!');
    });
  });

  it('answers with the first answer that is not defer, and defers what every policy deferred', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const [a, b, c] = [inputOf(permission('rm')), inputOf(permission('bash')), inputOf(makeRequest('question'))] as const;
      const request$ = cold('-a-(bc)|', { a, b, c });
      const expected = '     -A-(BC)|';
      const policy = chain(denyTools(['rm']), autoApprove());
      expectObservable(request$.pipe(policy)).toBe(expected, {
        A: to(a, deny('tool rm is not allowed')),
        B: to(b, allow()),
        C: to(c, defer()),
      });
      expectSubscriptions(request$.subscriptions).toBe('^------!');
    });
  });

  it('offers a request to the next policy only after the previous one deferred it', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = inputOf(permission());
      const first = cold<DecisionInput>('  --d|', { d: defer() });
      const second = cold<DecisionInput>(' -y|', { y: true });
      const request$ = cold('              -a|', { a });
      const expected = '                   ----(A|)';
      expectObservable(
        request$.pipe(
          chain(
            askHost(() => first),
            askHost(() => second),
          ),
        ),
      ).toBe(expected, { A: to(a, allow()) });
      expectSubscriptions(request$.subscriptions).toBe('^-!');
      expectSubscriptions(first.subscriptions).toBe(' -^-!');
      expectSubscriptions(second.subscriptions).toBe('---^!');
    });
  });

  it('keeps each policy subscribed across requests: askHost still asks one at a time, others answer meanwhile', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const [a, b, r] = [inputOf(permission('bash')), inputOf(permission('edit')), inputOf(permission('read'))] as const;
      const host = cold<DecisionInput>('---y|', { y: true });
      const request$ = cold('          -abr|', { a, b, r });
      const expected = '               ---RA--(B|)';
      const policy = chain(
        autoApprove({ allow: (request) => request.toolName === 'read' }),
        askHost(() => host),
      );
      expectObservable(request$.pipe(policy)).toBe(expected, { A: to(a, allow()), B: to(b, allow()), R: to(r, allow()) });
      expectSubscriptions(request$.subscriptions).toBe('^---!');
      expectSubscriptions(host.subscriptions).toBe(['-^--!', '----^--!']);
    });
  });

  it('keeps the state of stateful policies across requests (rememberAlways)', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const [a, b, c] = [inputOf(permission('bash')), inputOf(permission('bash')), inputOf(permission('rm'))] as const;
      const host = cold<DecisionInput>('-y|', { y: allowAlways() });
      const request$ = cold('          -a--bc|', { a, b, c });
      const expected = '               --A-BC|';
      const policy = chain(denyTools(['rm']), rememberAlways(askHost(() => host)));
      expectObservable(request$.pipe(policy)).toBe(expected, {
        A: to(a, allowAlways()),
        B: to(b, allow()),
        C: to(c, deny('tool rm is not allowed')),
      });
      expectSubscriptions(request$.subscriptions).toBe('^-----!');
      expectSubscriptions(host.subscriptions).toBe('-^!');
    });
  });

  it('fails closed for what an erroring policy held, and subscribes a fresh copy for the next request', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const [a, b, c] = [inputOf(permission('bash')), inputOf(permission('boom')), inputOf(makeRequest('question'))] as const;
      let subscriptions = 0;
      const flaky: Policy = (request$) => {
        subscriptions += 1;
        return request$.pipe(
          mergeMap(({ request }) => (request.toolName === 'boom' ? throwError(() => new Error('kaput')) : of(to(request, defer())).pipe(delay(3)))),
        );
      };
      const request$ = cold('-ab--c|', { a, b, c });
      const expected = '     --(AB)--(C|)';
      expectObservable(request$.pipe(chain(flaky, autoApprove()))).toBe(expected, {
        A: to(a, deny('policy error: kaput')),
        B: to(b, deny('policy error: kaput')),
        C: to(c, defer()),
      });
      expectSubscriptions(request$.subscriptions).toBe('^-----!');
      scheduler.flush();
      expect(subscriptions).toBe(2);
    });
  });

  it('does not spin on a policy that errors as soon as it is subscribed: each request fails closed', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const [a, b] = [inputOf(permission('bash')), inputOf(makeRequest('editor'))] as const;
      const broken: Policy = () => throwError(() => new Error('broken'));
      const request$ = cold('-a-b|', { a, b });
      expectObservable(request$.pipe(chain(broken, autoApprove()))).toBe('-A-B|', {
        A: to(a, deny('policy error: broken')),
        B: to(b, cancel()),
      });
      expectSubscriptions(request$.subscriptions).toBe('^---!');
    });
  });

  it('fails closed for what a policy held when it completes early', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const [a, s, c] = [inputOf(permission('bash')), inputOf(permission('stop')), inputOf(makeRequest('choice'))] as const;
      const quitter: Policy = (request$) =>
        request$.pipe(
          takeWhile(({ request }) => request.toolName !== 'stop'),
          ignoreElements(),
        );
      const request$ = cold('-a-s--c|', { a, s, c });
      const expected = '     ---(AS)|';
      expectObservable(request$.pipe(chain(quitter, autoApprove()))).toBe(expected, {
        A: to(a, deny('policy error: policy quitter completed')),
        S: to(s, deny('policy error: policy quitter completed')),
      });
      expectSubscriptions(request$.subscriptions).toBe('^------!');
    });
  });

  it('ignores answers for unknown or already answered requests', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = inputOf(permission());
      const chatty: Policy = (request$) =>
        request$.pipe(mergeMap((request) => of(to(request, deny()), to(request, allow()), { requestId: 'ghost', decision: allow() })));
      const request$ = cold('-a|', { a });
      expectObservable(request$.pipe(chain(chatty))).toBe('-A|', { A: to(a, deny()) });
      expectSubscriptions(request$.subscriptions).toBe('^-!');
    });
  });

  it('emits nothing for a request withdrawn while a later policy asks the host, and tears the host down', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const withdraw = new AbortController();
      const a = inputOf(permission('bash'), { signal: withdraw.signal });
      const b = inputOf(permission('read'));
      const host = cold<DecisionInput>('-----y|', { y: true });
      const request$ = cold('          -a--b|', { a, b });
      const expected = '               ----B|';
      scheduler.schedule(() => withdraw.abort(), 3);
      const policy = chain(
        autoApprove({ allow: (request) => request.toolName === 'read' }),
        askHost(() => host),
      );
      expectObservable(request$.pipe(policy)).toBe(expected, { B: to(b, allow()) });
      expectSubscriptions(request$.subscriptions).toBe('^----!');
      expectSubscriptions(host.subscriptions).toBe('-^-!');
    });
  });

  it('tears every policy down on early unsubscribe', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const a = inputOf(permission());
      const host = cold<DecisionInput>('-----y|', { y: true });
      const request$ = hot('           -a-----', { a });
      expectObservable(
        request$.pipe(
          chain(
            denyTools(['rm']),
            askHost(() => host),
          ),
        ),
        '^--!',
      ).toBe('---');
      expectSubscriptions(request$.subscriptions).toBe('^--!');
      expectSubscriptions(host.subscriptions).toBe('-^-!');
    });
  });

  it('errors with the source, tearing the host down', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = inputOf(permission());
      const host = cold<DecisionInput>('-----y|', { y: true });
      const request$ = cold('          -a-#', { a });
      expectObservable(
        request$.pipe(
          chain(
            autoApprove({ allow: () => false }),
            askHost(() => host),
          ),
        ),
      ).toBe('---#');
      expectSubscriptions(request$.subscriptions).toBe('^--!');
      expectSubscriptions(host.subscriptions).toBe('-^-!');
    });
  });

  it('has a debuggable name', () => {
    const mine: Policy = (request$: Observable<PolicyRequest>) => request$.pipe(map((input) => to(input, defer())));
    expect(chain(askHost(), denyAll(), mine).name).toBe('chain(askHost, denyAll, mine)');
    expect(chain((request$) => request$.pipe(map((input) => to(input, defer())))).name).toBe('chain(<anonymous>)');
  });
});
