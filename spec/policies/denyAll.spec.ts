import type { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { defer, deny } from '../../src/policies/decisions.js';
import { denyAll } from '../../src/policies/denyAll.js';
import type { PolicyRequest } from '../../src/policies/types.js';
import { answerFor as to, inputOf, makeRequest, permission } from '../helpers/requests.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

describe('denyAll', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  it('mirrors an empty, a never-ending and an erroring source', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const empty$ = cold<PolicyRequest>('|');
      const never$ = cold<PolicyRequest>('-');
      const error$ = cold<PolicyRequest>('--#');
      expectObservable(empty$.pipe(denyAll())).toBe('|');
      expectObservable(never$.pipe(denyAll())).toBe('-');
      expectObservable(error$.pipe(denyAll())).toBe('--#');
      expectSubscriptions(empty$.subscriptions).toBe('(^!)');
      expectSubscriptions(never$.subscriptions).toBe('^');
      expectSubscriptions(error$.subscriptions).toBe('^-!');
    });
  });

  it('denies one permission, with the message', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = inputOf(permission());
      const request$ = cold('-a|', { a });
      expectObservable(request$.pipe(denyAll('read-only session'))).toBe('-A|', { A: to(a, deny('read-only session')) });
      expectSubscriptions(request$.subscriptions).toBe('^-!');
    });
  });

  it('denies many permissions (no message by default), and defers every other kind', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const [a, b, c, d] = [
        inputOf(permission('bash')),
        inputOf(makeRequest('choice')),
        inputOf(permission('edit')),
        inputOf(makeRequest('question')),
      ] as const;
      const request$ = cold('-a(bc)-d|', { a, b, c, d });
      const expected = '     -A(BC)-D|';
      expectObservable(request$.pipe(denyAll())).toBe(expected, {
        A: to(a, deny()),
        B: to(b, defer()),
        C: to(c, deny()),
        D: to(d, defer()),
      });
      expectSubscriptions(request$.subscriptions).toBe('^-------!');
    });
  });

  it('unsubscribes from the source on early unsubscribe', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const a = inputOf(permission());
      const request$ = hot('---a-', { a });
      expectObservable(request$.pipe(denyAll()), '^-!').toBe('---');
      expectSubscriptions(request$.subscriptions).toBe('^-!');
    });
  });

  it('is named for debugging', () => {
    expect(denyAll().name).toBe('denyAll');
  });
});
