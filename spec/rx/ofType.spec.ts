/**
 * ofType: keeps the values of the given `type`s and narrows their type, on any stream of tagged
 * values (a session's events, a manager's events and notices). Marble tests, and type tests.
 */
import { EMPTY, map, type Observable } from 'rxjs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ManagerEvent } from '../../src/manager/notices.js';
import type { AgentEndEvent, PiEvent, ToolEndEvent, ToolStartEvent } from '../../src/protocol/events.js';
import { ofType } from '../../src/rx/ofType.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

type Action = { readonly type: 'add'; readonly n: number } | { readonly type: 'remove'; readonly id: string } | { readonly type: 'reset' };

describe('ofType', () => {
  it('keeps the values of the given types, in order, and passes completion and errors on', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const values: Record<string, Action> = { a: { type: 'add', n: 1 }, r: { type: 'remove', id: 'x' }, z: { type: 'reset' } };
      const source = cold<Action>('a-r-z-a-|', values);
      expectObservable(source.pipe(ofType('add', 'reset'))).toBe('a---z-a-|', values);
      expectSubscriptions(source.subscriptions).toBe('^-------!');
      const failing = cold<Action>('r-a-#', values);
      expectObservable(failing.pipe(ofType('add'))).toBe('--a-#', values);
    });
  });

  it('keeps nothing when given no type', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<Action>('a-r|', { a: { type: 'add', n: 1 }, r: { type: 'remove', id: 'x' } }).pipe(ofType())).toBe('---|');
    });
  });

  it('narrows a session’s events, and a manager’s events mixed with its notices', () => {
    const events$: Observable<PiEvent> = EMPTY;
    expectTypeOf(events$.pipe(ofType('agent_end'))).toEqualTypeOf<Observable<AgentEndEvent>>();
    expectTypeOf(events$.pipe(ofType('tool_start', 'tool_end'))).toEqualTypeOf<Observable<ToolStartEvent | ToolEndEvent>>();
    expectTypeOf(
      events$.pipe(
        ofType('agent_end'),
        map((end) => end.finalText),
      ),
    ).toEqualTypeOf<Observable<string>>();
    const managed$: Observable<ManagerEvent<PiEvent>> = EMPTY;
    expectTypeOf(
      managed$.pipe(
        ofType('session_removed'),
        map((notice) => notice.reason),
      ),
    ).toEqualTypeOf<Observable<'stopped' | 'reaped' | 'closed' | 'died'>>();
    expectTypeOf(managed$.pipe(ofType('agent_end'))).toEqualTypeOf<Observable<AgentEndEvent>>();
    // @ts-expect-error: not a type of the stream
    void events$.pipe(ofType('no_such_type'));
    expect(true).toBe(true);
  });
});
