import type { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { askHost } from '../../src/policies/askHost.js';
import { autoApprove } from '../../src/policies/autoApprove.js';
import { allow, cancel, defer, deny } from '../../src/policies/decisions.js';
import { denyTools } from '../../src/policies/denyTools.js';
import type { DecisionInput, PolicyRequest } from '../../src/policies/types.js';
import type { InteractionRequest } from '../../src/protocol/events.js';
import { answerFor as to, inputOf, makeRequest, permission } from '../helpers/requests.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

describe('denyTools', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  it('mirrors an empty, a never-ending and an erroring source', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const empty$ = cold<PolicyRequest>('|');
      const never$ = cold<PolicyRequest>('-');
      const error$ = cold<PolicyRequest>('--#');
      expectObservable(empty$.pipe(denyTools(['rm']))).toBe('|');
      expectObservable(never$.pipe(denyTools(['rm']))).toBe('-');
      expectObservable(error$.pipe(denyTools(['rm']))).toBe('--#');
      expectSubscriptions(empty$.subscriptions).toBe('(^!)');
      expectSubscriptions(never$.subscriptions).toBe('^');
      expectSubscriptions(error$.subscriptions).toBe('^-!');
    });
  });

  it('denies one listed tool, naming it', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = inputOf(permission('write'));
      const request$ = cold('-a|', { a });
      expectObservable(request$.pipe(denyTools(['write', 'edit']))).toBe('-A|', { A: to(a, deny('tool write is not allowed')) });
      expectSubscriptions(request$.subscriptions).toBe('^-!');
    });
  });

  it('sends everything else to the fallback (default: defer to the host)', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const [a, b, c, d] = [
        inputOf(permission('rm')),
        inputOf(permission('read')),
        inputOf(makeRequest('question', { toolName: 'rm' })),
        inputOf(makeRequest('permission', { toolName: undefined, method: 'confirm', options: [] })),
      ] as const;
      const request$ = cold('-a(bcd)|', { a, b, c, d });
      const expected = '     -A(BCD)|';
      expectObservable(request$.pipe(denyTools(['rm']))).toBe(expected, {
        A: to(a, deny('tool rm is not allowed')),
        B: to(b, defer()),
        C: to(c, defer()),
        D: to(d, defer()),
      });
      expectSubscriptions(request$.subscriptions).toBe('^------!');
    });
  });

  it('takes a predicate; one that throws denies (fail closed)', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const [a, b, c] = [inputOf(permission('mcp_fetch')), inputOf(permission('read')), inputOf(permission('weird'))] as const;
      const request$ = cold('-abc|', { a, b, c });
      const isRisky = (name: string): boolean => {
        if (name === 'weird') throw new Error('unknown tool');
        return name.startsWith('mcp_');
      };
      expectObservable(request$.pipe(denyTools(isRisky, autoApprove()))).toBe('-ABC|', {
        A: to(a, deny('tool mcp_fetch is not allowed')),
        B: to(b, allow()),
        C: to(c, deny('policy error: unknown tool')),
      });
      expectSubscriptions(request$.subscriptions).toBe('^---!');
    });
  });

  it('calls the predicate once per request', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const calls: string[] = [];
      const a = inputOf(permission('bash'));
      const predicate = (name: string): boolean => (calls.push(name), calls.length > 1);
      expectObservable(cold('a|', { a }).pipe(denyTools(predicate, autoApprove()))).toBe('A|', { A: to(a, allow()) });
      scheduler.flush();
      expect(calls).toEqual(['bash']);
    });
  });

  it('denies at once while the fallback asks the host about concurrent requests; host errors fail closed', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const [a, b, c] = [inputOf(permission('bash')), inputOf(permission('rm')), inputOf(makeRequest('choice'))] as const;
      const slow = cold<DecisionInput>('--y|', { y: true });
      const failing = cold<DecisionInput>('-#');
      const request$ = cold('          -abc|', { a, b, c });
      const expected = '               --BA(C|)';
      const callback = (request: InteractionRequest) => (request.kind === 'choice' ? failing : slow);
      expectObservable(request$.pipe(denyTools(['rm'], askHost(callback)))).toBe(expected, {
        A: to(a, allow()),
        B: to(b, deny('tool rm is not allowed')),
        C: to(c, cancel()),
      });
      expectSubscriptions(slow.subscriptions).toBe('-^-!');
      expectSubscriptions(failing.subscriptions).toBe('---^!');
    });
  });

  it('emits nothing for a request withdrawn while the fallback host is slow, and tears down on unsubscribe', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const withdraw = new AbortController();
      const a = inputOf(permission('bash'), { signal: withdraw.signal });
      const b = inputOf(permission('edit'));
      const host = cold<DecisionInput>('---y|', { y: true });
      const request$ = hot('           -a---b---', { a, b });
      const unsub = '                   ^-------!';
      scheduler.schedule(() => withdraw.abort(), 2);
      expectObservable(
        request$.pipe(
          denyTools(
            ['rm'],
            askHost(() => host),
          ),
        ),
        unsub,
      ).toBe('--------');
      expectSubscriptions(request$.subscriptions).toBe(unsub);
      expectSubscriptions(host.subscriptions).toBe(['-^!', '-----^--!']);
    });
  });

  it('is named for debugging', () => {
    expect(denyTools(['rm', 'dd']).name).toBe('denyTools(rm, dd)');
    expect(
      denyTools(function isRisky() {
        return true;
      }).name,
    ).toBe('denyTools(isRisky)');
  });
});
