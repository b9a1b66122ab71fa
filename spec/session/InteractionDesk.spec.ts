/**
 * Where a request waits, without a session: the policy decides first, a deferred request goes to
 * the host, the first answer wins, a dying policy fails closed and is restarted.
 */
import { asyncScheduler, map, merge, mergeMap, NEVER, of, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { askHost } from '../../src/policies/askHost.js';
import { allow, deny } from '../../src/policies/decisions.js';
import type { Policy, PolicyAnswer } from '../../src/policies/types.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { InteractionDesk, type RequestFields } from '../../src/session/InteractionDesk.js';
import { SessionEvents } from '../../src/session/SessionEvents.js';

const fields = (requestId: string): RequestFields => ({
  type: 'interaction_request',
  requestId,
  kind: 'permission',
  method: 'confirm',
  prompt: { title: 'Allow tool: bash', message: 'x' },
  options: [],
  toolName: 'bash',
});

function desk(policy: Policy, defaultPolicy = false) {
  const written: object[] = [];
  const published: PiEvent[] = [];
  const events = new SessionEvents('s1', { maxEvents: 100, maxBytes: 1e6 });
  events.runListeners = new Set([{ next: (event: PiEvent) => published.push(event) }]);
  const counts: number[] = [];
  const session = { sessionId: 's1', pending: [], respond: () => Promise.resolve(), abort: () => Promise.resolve() };
  const subject = new InteractionDesk({
    sessionId: 's1',
    policy,
    defaultPolicy,
    scheduler: asyncScheduler,
    session,
    events,
    write: (command) => (written.push(command), Promise.resolve()),
    othersWatching: () => false,
    onPendingCount: (count) => counts.push(count),
  });
  subject.start();
  return { desk: subject, written, published, counts };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('InteractionDesk', () => {
  it('a decided request is answered, then recorded (handledBy policy), never pending', async () => {
    const {
      desk: d,
      written,
      published,
      counts,
    } = desk((request$) => request$.pipe(map(({ request }) => ({ requestId: request.requestId, decision: deny('no') }))));
    d.open(fields('r1'), {}, 10);
    await settle();
    expect(written).toEqual([{ type: 'extension_ui_response', id: 'r1', confirmed: false }]);
    expect(published).toMatchObject([{ type: 'interaction_request', requestId: 'r1', handledBy: 'policy', seq: 1 }]);
    expect(counts).toEqual([]);
    await expect(d.respond('r1', true)).resolves.toBeUndefined(); // late: ignored
  });

  it('a deferred request goes to the host; the first answer wins (the host’s here), the policy’s later one is ignored', async () => {
    let later!: (requestId: string) => void;
    const deferThenAllow: Policy = (request$) =>
      request$.pipe(
        mergeMap(({ request }) =>
          merge(
            of({ requestId: request.requestId, decision: { kind: 'defer' as const } }),
            new Promise<PolicyAnswer>((resolve) => (later = (id) => resolve({ requestId: id, decision: deny('too late') }))),
          ),
        ),
      );
    const { desk: d, written, counts, published } = desk(deferThenAllow);
    d.open(fields('r1'), {}, 10);
    await settle();
    expect(d.pending.map((request) => request.requestId)).toEqual(['r1']);
    expect(published).toMatchObject([{ type: 'interaction_request', handledBy: 'host', seq: 1 }]);
    expect(d.pending[0]?.seq).toBe(1);
    await d.respond('r1', true);
    later('r1');
    await settle();
    expect(written).toEqual([{ type: 'extension_ui_response', id: 'r1', confirmed: true }]);
    expect(counts).toEqual([1, 0]);
  });

  it('after a defer, a later policy answer wins if the host has not answered (a timeout)', async () => {
    let later!: (requestId: string) => void;
    const deferThenDeny: Policy = (request$) =>
      request$.pipe(
        mergeMap(({ request }) =>
          merge(
            of({ requestId: request.requestId, decision: { kind: 'defer' as const } }),
            new Promise<PolicyAnswer>((resolve) => (later = (id) => resolve({ requestId: id, decision: deny('timed out') }))),
          ),
        ),
      );
    const { desk: d, written } = desk(deferThenDeny);
    d.open(fields('r1'), {}, 10);
    await settle();
    later('r1');
    await settle();
    expect(written).toEqual([{ type: 'extension_ui_response', id: 'r1', confirmed: false }]);
    expect(d.pending).toEqual([]);
  });

  it('a policy that errors: what it held is denied, and a fresh one decides the next request', async () => {
    let calls = 0;
    const flaky: Policy = (request$) =>
      request$.pipe(mergeMap(({ request }) => (++calls === 1 ? throwError(() => new Error('boom')) : of({ requestId: request.requestId, decision: allow() }))));
    const { desk: d, written, published } = desk(flaky);
    d.open(fields('r1'), {}, 10);
    d.open(fields('r2'), {}, 10);
    await settle();
    expect(written).toEqual([
      { type: 'extension_ui_response', id: 'r1', confirmed: false },
      { type: 'extension_ui_response', id: 'r2', confirmed: true },
    ]);
    expect(published.filter((event) => event.type === 'error')).toMatchObject([{ code: 'policy_error' }]);
  });

  it('close() withdraws what is open (the host callback’s signal aborts) and completes pending$', async () => {
    let signal: AbortSignal | undefined;
    const { desk: d, written } = desk(askHost((_request, context) => ((signal = context.signal), NEVER)));
    const seen: string[] = [];
    d.pending$.subscribe({ complete: () => seen.push('complete') });
    d.open(fields('r1'), {}, 10);
    await settle();
    expect(signal?.aborted).toBe(false);
    d.close();
    expect(signal?.aborted).toBe(true);
    expect(seen).toEqual(['complete']);
    expect(written).toEqual([]);
  });
});
