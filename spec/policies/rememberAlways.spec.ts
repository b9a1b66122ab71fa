import type { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { askHost } from '../../src/policies/askHost.js';
import { allow, allowAlways, answer, cancel, defer, deny } from '../../src/policies/decisions.js';
import { rememberAlways } from '../../src/policies/rememberAlways.js';
import type { DecisionInput, PolicyRequest } from '../../src/policies/types.js';
import type { InteractionRequest } from '../../src/protocol/events.js';
import { answerFor as to, inputOf, makeRequest, permission } from '../helpers/requests.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

describe('rememberAlways', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  it('mirrors an empty, a never-ending and an erroring source', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const empty$ = cold<PolicyRequest>('|');
      const never$ = cold<PolicyRequest>('-');
      const error$ = cold<PolicyRequest>('--#');
      expectObservable(empty$.pipe(rememberAlways())).toBe('|');
      expectObservable(never$.pipe(rememberAlways())).toBe('-');
      expectObservable(error$.pipe(rememberAlways())).toBe('--#');
      expectSubscriptions(empty$.subscriptions).toBe('(^!)');
      expectSubscriptions(never$.subscriptions).toBe('^');
      expectSubscriptions(error$.subscriptions).toBe('^-!');
    });
  });

  it('passes one request to inner (default: defer)', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = inputOf(permission());
      const request$ = cold('-a|', { a });
      expectObservable(request$.pipe(rememberAlways())).toBe('-A|', { A: to(a, defer()) });
      expectSubscriptions(request$.subscriptions).toBe('^-!');
    });
  });

  it('after allowAlways for a tool, allows that tool without asking inner; other tools and kinds still ask', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const [a, b, c, d, e] = [
        inputOf(permission('bash')),
        inputOf(permission('edit')),
        inputOf(permission('bash')),
        inputOf(makeRequest('question', { toolName: 'bash' })),
        inputOf(permission('bash')),
      ] as const;
      const asked: string[] = [];
      const replies: Record<string, DecisionInput> = {
        [a.request.requestId]: 'Approve always',
        [b.request.requestId]: true,
        [d.request.requestId]: 'sure',
      };
      const host = (request: InteractionRequest) => (asked.push(request.requestId), cold<DecisionInput>('-r|', { r: replies[request.requestId] }));
      const request$ = cold('-ab--c-d-e|', { a, b, c, d, e });
      const expected = '     --AB-C--DE|';
      expectObservable(request$.pipe(rememberAlways(askHost(host)))).toBe(expected, {
        A: to(a, allowAlways()),
        B: to(b, allow()),
        C: to(c, allow()),
        D: to(d, answer('sure')),
        E: to(e, allow()),
      });
      expectSubscriptions(request$.subscriptions).toBe('^---------!');
      scheduler.flush();
      expect(asked).toEqual([a.request.requestId, b.request.requestId, d.request.requestId]);
    });
  });

  it('keeps the memory per subscription (per session)', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const [a, b] = [inputOf(permission('bash')), inputOf(permission('bash'))] as const;
      const policy = rememberAlways(askHost(() => [allowAlways()]));
      expectObservable(cold('ab|', { a, b }).pipe(policy)).toBe('AB|', { A: to(a, allowAlways()), B: to(b, allow()) });
      // A second subscription (another session) starts with no memory.
      expectObservable(cold('a|', { a: b }).pipe(policy)).toBe('A|', { A: to(b, allowAlways()) });
    });
  });

  it('does not remember a denied or failed tool, nor a permission without a tool name', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const [a, b, c, d] = [
        inputOf(permission('rm')),
        inputOf(permission('rm')),
        inputOf(makeRequest('permission', { toolName: undefined })),
        inputOf(makeRequest('permission', { toolName: undefined })),
      ] as const;
      const replies = new Map<InteractionRequest, DecisionInput>([
        [a.request, false],
        [b.request, 'Approve always'],
        [c.request, 'Approve always'],
        [d.request, 'Deny'],
      ]);
      const policy = rememberAlways(askHost((request) => [replies.get(request)]));
      expectObservable(cold('abcd|', { a, b, c, d }).pipe(policy)).toBe('ABCD|', {
        A: to(a, deny()),
        B: to(b, allowAlways()),
        C: to(c, allowAlways()),
        D: to(d, deny()),
      });
    });
  });

  it('keeps host errors inside, fails closed, and does not remember', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const [a, q] = [inputOf(permission('bash')), inputOf(makeRequest('question'))] as const;
      const host = cold<DecisionInput>('-#');
      expectObservable(cold('aq|', { a, q }).pipe(rememberAlways(askHost(() => host)))).toBe('-A(Q|)', {
        A: to(a, deny('policy error: error')),
        Q: to(q, cancel()),
      });
      expectSubscriptions(host.subscriptions).toBe(['^!', '-^!']);
    });
  });

  it('emits nothing for a withdrawn request, and tears inner down on unsubscribe', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const withdraw = new AbortController();
      const a = inputOf(permission('bash'), { signal: withdraw.signal });
      const b = inputOf(permission('edit'));
      const host = cold<DecisionInput>('---y|', { y: allowAlways() });
      const request$ = hot('           -a-b-----', { a, b });
      const unsub = '                   ^----!';
      scheduler.schedule(() => withdraw.abort(), 2);
      expectObservable(request$.pipe(rememberAlways(askHost(() => host))), unsub).toBe('------');
      expectSubscriptions(request$.subscriptions).toBe(unsub);
      expectSubscriptions(host.subscriptions).toBe(['-^!', '---^-!']);
    });
  });

  it('is named for debugging', () => {
    expect(rememberAlways().name).toBe('rememberAlways(askHost)');
  });
});
