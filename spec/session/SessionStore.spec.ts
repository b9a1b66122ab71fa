import { describe, expect, it } from 'vitest';
import { initialSessionState, SessionStore } from '../../src/session/SessionStore.js';
import type { SessionState } from '../../src/session/types.js';

const initial: SessionState = initialSessionState('s', '/', 'idle');

describe('SessionStore', () => {
  it('a new subscriber and a read see the current eventCount, with no emission to anyone else', () => {
    let seq = 0;
    const store = new SessionStore(initial, () => seq);
    const first: SessionState[] = [];
    store.state$.subscribe((state) => first.push(state));
    seq = 7;
    expect(store.value.eventCount).toBe(7);
    const second: SessionState[] = [];
    store.state$.subscribe((state) => second.push(state));
    expect(second.map((state) => state.eventCount)).toEqual([7]);
    expect(first.map((state) => state.eventCount)).toEqual([0]); // nothing extra for the first
  });

  it('emits on a change only, carrying the current eventCount; nothing after closed', () => {
    let seq = 0;
    const store = new SessionStore(initial, () => seq);
    const seen: SessionState[] = [];
    store.state$.subscribe((state) => seen.push(state));
    store.patch({ status: 'idle' });
    seq = 3;
    store.patch({ status: 'running' });
    store.patch({ status: 'closed' });
    store.patch({ status: 'idle' });
    expect(seen.map((state) => [state.status, state.eventCount])).toEqual([
      ['idle', 0],
      ['running', 3],
      ['closed', 3],
    ]);
  });
});
