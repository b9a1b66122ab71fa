import type { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { autoApprove } from '../../src/policies/autoApprove.js';
import { allow, allowAlways, defer, deny } from '../../src/policies/decisions.js';
import type { PolicyRequest } from '../../src/policies/types.js';
import { answerFor as to, inputOf, makeRequest, permission } from '../helpers/requests.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

describe('autoApprove', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  it('mirrors an empty, a never-ending and an erroring source', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const empty$ = cold<PolicyRequest>('|');
      const never$ = cold<PolicyRequest>('-');
      const error$ = cold<PolicyRequest>('-#');
      expectObservable(empty$.pipe(autoApprove())).toBe('|');
      expectObservable(never$.pipe(autoApprove())).toBe('-');
      expectObservable(error$.pipe(autoApprove())).toBe('-#');
      expectSubscriptions(empty$.subscriptions).toBe('(^!)');
      expectSubscriptions(never$.subscriptions).toBe('^');
      expectSubscriptions(error$.subscriptions).toBe('^!');
    });
  });

  it('approves one permission', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = inputOf(permission());
      const request$ = cold('-a|', { a });
      expectObservable(request$.pipe(autoApprove())).toBe('-A|', { A: to(a, allow()) });
      expectSubscriptions(request$.subscriptions).toBe('^-!');
    });
  });

  it('approves many permissions, and defers every other kind', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const [a, b, c, d, e, f] = [
        inputOf(permission('bash')),
        inputOf(permission('edit')),
        inputOf(makeRequest('question')),
        inputOf(makeRequest('choice')),
        inputOf(makeRequest('input')),
        inputOf(makeRequest('editor')),
      ] as const;
      const request$ = cold('-a(bc)d-ef|', { a, b, c, d, e, f });
      const expected = '     -A(BC)D-EF|';
      expectObservable(request$.pipe(autoApprove())).toBe(expected, {
        A: to(a, allow()),
        B: to(b, allow()),
        C: to(c, defer()),
        D: to(d, defer()),
        E: to(e, defer()),
        F: to(f, defer()),
      });
      expectSubscriptions(request$.subscriptions).toBe('^---------!');
    });
  });

  it('approves only what `allow` accepts, with allowAlways when `always` is set', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = inputOf(permission('read'));
      const b = inputOf(permission('bash'));
      const request$ = cold('-ab|', { a, b });
      const policy = autoApprove({ allow: (request) => request.toolName === 'read', always: true });
      expectObservable(request$.pipe(policy)).toBe('-AB|', { A: to(a, allowAlways()), B: to(b, defer()) });
      expectSubscriptions(request$.subscriptions).toBe('^--!');
    });
  });

  it('denies a permission whose `allow` predicate throws, and goes on', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = inputOf(permission('bash'));
      const b = inputOf(permission('read'));
      const request$ = cold('-ab|', { a, b });
      const policy = autoApprove({
        allow: (request) => {
          if (request.toolName === 'bash') throw new Error('cannot tell');
          return true;
        },
      });
      expectObservable(request$.pipe(policy)).toBe('-AB|', { A: to(a, deny('policy error: cannot tell')), B: to(b, allow()) });
      expectSubscriptions(request$.subscriptions).toBe('^--!');
    });
  });

  it('unsubscribes from the source on early unsubscribe', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const a = inputOf(permission());
      const b = inputOf(permission());
      const request$ = hot('-a--b-', { a, b });
      expectObservable(request$.pipe(autoApprove()), '^--!').toBe('-A-', { A: to(a, allow()) });
      expectSubscriptions(request$.subscriptions).toBe('^--!');
    });
  });

  it('is named for debugging', () => {
    expect(autoApprove().name).toBe('autoApprove');
  });
});
