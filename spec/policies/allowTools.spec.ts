import type { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { allowTools } from '../../src/policies/allowTools.js';
import { askHost } from '../../src/policies/askHost.js';
import { allow, answer, cancel, defer, deny } from '../../src/policies/decisions.js';
import { denyAll } from '../../src/policies/denyAll.js';
import type { DecisionInput, PolicyRequest } from '../../src/policies/types.js';
import type { InteractionRequest } from '../../src/protocol/events.js';
import { answerFor as to, inputOf, makeRequest, permission } from '../helpers/requests.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

describe('allowTools', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  it('mirrors an empty, a never-ending and an erroring source', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const empty$ = cold<PolicyRequest>('|');
      const never$ = cold<PolicyRequest>('-');
      const error$ = cold<PolicyRequest>('--#');
      expectObservable(empty$.pipe(allowTools(['read']))).toBe('|');
      expectObservable(never$.pipe(allowTools(['read']))).toBe('-');
      expectObservable(error$.pipe(allowTools(['read']))).toBe('--#');
      expectSubscriptions(empty$.subscriptions).toBe('(^!)');
      expectSubscriptions(never$.subscriptions).toBe('^');
      expectSubscriptions(error$.subscriptions).toBe('^-!');
    });
  });

  it('approves one listed tool', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = inputOf(permission('read'));
      const request$ = cold('-a|', { a });
      expectObservable(request$.pipe(allowTools(['read', 'ls']))).toBe('-A|', { A: to(a, allow()) });
      expectSubscriptions(request$.subscriptions).toBe('^-!');
    });
  });

  it('sends everything else to the fallback (default: defer to the host)', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const [a, b, c, d] = [
        inputOf(permission('read')),
        inputOf(permission('bash')),
        inputOf(makeRequest('question', { toolName: 'read' })),
        inputOf(makeRequest('permission', { toolName: undefined, method: 'confirm', options: [] })),
      ] as const;
      const request$ = cold('-ab(cd)|', { a, b, c, d });
      const expected = '     -AB(CD)|';
      expectObservable(request$.pipe(allowTools(['read']))).toBe(expected, {
        A: to(a, allow()),
        B: to(b, defer()),
        C: to(c, defer()),
        D: to(d, defer()),
      });
      expectSubscriptions(request$.subscriptions).toBe('^------!');
    });
  });

  it('answers listed tools at once while the fallback asks the host about concurrent requests', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const [a, b, c] = [inputOf(permission('bash')), inputOf(permission('read')), inputOf(makeRequest('choice'))] as const;
      const host = cold<DecisionInput>('---x|', { x: 0 });
      const request$ = cold('          -abc|', { a, b, c });
      const expected = '               --B-A--(C|)';
      const callback = (request: InteractionRequest) => (request.kind === 'choice' ? host : cold<DecisionInput>('---y|', { y: 'Deny' }));
      expectObservable(request$.pipe(allowTools(['read'], askHost(callback)))).toBe(expected, {
        A: to(a, deny()),
        B: to(b, allow()),
        C: to(c, answer('red')),
      });
      expectSubscriptions(request$.subscriptions).toBe('^---!');
      expectSubscriptions(host.subscriptions).toBe('----^--!');
    });
  });

  it('keeps the fallback fail-closed when the host errors', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const [a, b] = [inputOf(permission('bash')), inputOf(makeRequest('input'))] as const;
      const host = cold<DecisionInput>('-#', undefined, new Error('offline'));
      const request$ = cold('          -ab|', { a, b });
      expectObservable(
        request$.pipe(
          allowTools(
            ['read'],
            askHost(() => host),
          ),
        ),
      ).toBe('--A(B|)', {
        A: to(a, deny('policy error: offline')),
        B: to(b, cancel()),
      });
      expectSubscriptions(host.subscriptions).toBe(['-^!', '--^!']);
    });
  });

  it('emits nothing for a request withdrawn while the fallback host is slow', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const withdraw = new AbortController();
      const a = inputOf(permission('bash'), { signal: withdraw.signal });
      const host = cold<DecisionInput>('----y|', { y: true });
      const request$ = cold('          -a---|', { a });
      scheduler.schedule(() => withdraw.abort(), 3);
      expectObservable(
        request$.pipe(
          allowTools(
            ['read'],
            askHost(() => host),
          ),
        ),
      ).toBe('-----|');
      expectSubscriptions(request$.subscriptions).toBe('^----!');
      expectSubscriptions(host.subscriptions).toBe('-^-!');
    });
  });

  it('tears the fallback down on early unsubscribe', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const a = inputOf(permission('bash'));
      const host = cold<DecisionInput>('----y|', { y: true });
      const request$ = hot('           -a----', { a });
      expectObservable(
        request$.pipe(
          allowTools(
            ['read'],
            askHost(() => host),
          ),
        ),
        '^--!',
      ).toBe('---');
      expectSubscriptions(request$.subscriptions).toBe('^--!');
      expectSubscriptions(host.subscriptions).toBe('-^-!');
    });
  });

  it('accepts any iterable of names, and is named for debugging', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const a = inputOf(permission('ls'));
      expectObservable(cold('a|', { a }).pipe(allowTools(new Set(['ls']), denyAll()))).toBe('A|', { A: to(a, allow()) });
    });
    expect(allowTools(['read', 'ls']).name).toBe('allowTools(read, ls)');
  });
});
