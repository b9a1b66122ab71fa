import { describe, expect, it } from 'vitest';
import { SessionStore } from '../../src/session/SessionStore.js';
import type { SessionState } from '../../src/session/types.js';
import { UsageTotals } from '../../src/usage/UsageTotals.js';

const initial: SessionState = {
  status: 'idle',
  sessionId: 's',
  piSessionId: undefined,
  model: undefined,
  cwd: '/',
  runs: 0,
  eventCount: 0,
  pendingRequests: 0,
  queuedPrompts: 0,
  usage: UsageTotals.ZERO,
  restarts: 0,
  exit: undefined,
};

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
