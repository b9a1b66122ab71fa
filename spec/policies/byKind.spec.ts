import type { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { askHost } from '../../src/policies/askHost.js';
import { autoApprove } from '../../src/policies/autoApprove.js';
import { byKind } from '../../src/policies/byKind.js';
import { allow, answer, cancel, defer, deny } from '../../src/policies/decisions.js';
import { denyAll } from '../../src/policies/denyAll.js';
import type { DecisionInput, PolicyRequest } from '../../src/policies/types.js';
import { answerFor as to, inputOf, makeRequest, permission } from '../helpers/requests.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

describe('byKind', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  it('mirrors an empty, a never-ending and an erroring source', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const empty$ = cold<PolicyRequest>('|');
      const never$ = cold<PolicyRequest>('-');
      const error$ = cold<PolicyRequest>('--#');
      const policy = byKind({ permission: denyAll() });
      expectObservable(empty$.pipe(policy)).toBe('|');
      expectObservable(never$.pipe(policy)).toBe('-');
      expectObservable(error$.pipe(policy)).toBe('--#');
      expectSubscriptions(empty$.subscriptions).toBe('(^!)');
      expectSubscriptions(never$.subscriptions).toBe('^');
      expectSubscriptions(error$.subscriptions).toBe('^-!');
    });
  });

  it('routes one request to the policy of its kind', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = inputOf(permission());
      const request$ = cold('-a|', { a });
      expectObservable(request$.pipe(byKind({ permission: autoApprove() }))).toBe('-A|', { A: to(a, allow()) });
      expectSubscriptions(request$.subscriptions).toBe('^-!');
    });
  });

  it('routes every kind, and the kinds without a policy to the fallback (default: defer)', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const [p, q, c, i, e] = [
        inputOf(permission()),
        inputOf(makeRequest('question')),
        inputOf(makeRequest('choice')),
        inputOf(makeRequest('input')),
        inputOf(makeRequest('editor')),
      ] as const;
      const request$ = cold('-pqcie|', { p, q, c, i, e });
      const expected = '     -PQCIE|';
      const policy = byKind({
        permission: denyAll('no'),
        question: askHost(() => [answer('42')]),
        choice: askHost(() => [1]),
      });
      expectObservable(request$.pipe(policy)).toBe(expected, {
        P: to(p, deny('no')),
        Q: to(q, answer('42')),
        C: to(c, answer('green')),
        I: to(i, defer()),
        E: to(e, defer()),
      });
      expectSubscriptions(request$.subscriptions).toBe('^-----!');
    });
  });

  it('runs the policies of different kinds concurrently; each sees only its kind', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const [p1, q, p2] = [inputOf(permission('bash')), inputOf(makeRequest('question')), inputOf(permission('edit'))] as const;
      const permissionHost = cold<DecisionInput>('---y|', { y: true });
      const questionHost = cold<DecisionInput>(' -s|', { s: 'blue' });
      const seen: string[] = [];
      const request$ = cold('                    -qp-r|', { q, p: p1, r: p2 });
      const expected = '                         --Q--P--(R|)';
      const policy = byKind(
        {
          permission: askHost((request) => (seen.push(request.kind), permissionHost)),
          question: askHost((request) => (seen.push(request.kind), questionHost)),
        },
        denyAll(),
      );
      expectObservable(request$.pipe(policy)).toBe(expected, {
        Q: to(q, answer('blue')),
        P: to(p1, allow()),
        R: to(p2, allow()),
      });
      expectSubscriptions(request$.subscriptions).toBe('^----!');
      expectSubscriptions(permissionHost.subscriptions).toBe(['--^--!', '-----^--!']);
      expectSubscriptions(questionHost.subscriptions).toBe('-^!');
      scheduler.flush();
      expect(seen).toEqual(['question', 'permission', 'permission']);
    });
  });

  it('keeps a host error inside the routed policy (fail closed)', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const [q, p] = [inputOf(makeRequest('question')), inputOf(permission())] as const;
      const failing = cold<DecisionInput>('-#');
      const request$ = cold('             -qp---|', { q, p });
      expectObservable(request$.pipe(byKind({ question: askHost(() => failing) }, autoApprove()))).toBe('--(PQ)|', {
        Q: to(q, cancel()),
        P: to(p, allow()),
      });
      expectSubscriptions(failing.subscriptions).toBe('-^!');
    });
  });

  it('emits nothing for a withdrawn request, and tears every route down on unsubscribe', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const withdraw = new AbortController();
      const q = inputOf(makeRequest('question'), { signal: withdraw.signal });
      const e = inputOf(makeRequest('editor'));
      const questionHost = cold<DecisionInput>('----s|', { s: 'x' });
      const editorHost = cold<DecisionInput>('  ------s|', { s: 'y' });
      const request$ = hot('                    -qe-----', { q, e });
      const unsub = '                          ^------!';
      scheduler.schedule(() => withdraw.abort(), 3);
      const policy = byKind(
        { question: askHost(() => questionHost) },
        askHost(() => editorHost),
      );
      expectObservable(request$.pipe(policy), unsub).toBe('--------');
      expectSubscriptions(request$.subscriptions).toBe(unsub);
      expectSubscriptions(questionHost.subscriptions).toBe('-^-!');
      expectSubscriptions(editorHost.subscriptions).toBe('--^----!');
    });
  });

  it('is named for debugging', () => {
    expect(byKind({ question: askHost(), permission: denyAll() }).name).toBe('byKind(permission, question)');
  });
});
