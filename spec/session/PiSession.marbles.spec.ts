/**
 * Marble tests of a session's streams over a FakeTransport.
 *
 * A TestScheduler-scheduled cold Observable pushes pi's frames into the transport (`tap`), and
 * the session turns each into events synchronously, so `events$`, `state$` and `prompt$()` can
 * be asserted with `expectObservable`. This file uses the default FakeTransport, whose writes
 * arrive a microtask later (as a pipe's would), so the answers to the session's commands are
 * awaited outside `run()`. With `new FakeTransport({ scheduler })` they are scheduled in virtual
 * time too, and a whole session runs inside `run()`: see PiSession.virtualTime.spec.ts.
 *
 * The session gets its own VirtualTimeScheduler that is never flushed: its command timeouts
 * stay frozen instead of firing when `run()` flushes virtual time.
 *
 * Letters: frames and the events they become share a letter (`s` agent_start, `t` turn_start,
 * `u` user message, `d` text delta, `c` message_end → message_complete, `e` turn_end). `z` is pi's
 * agent_end frame, which emits nothing at once; the session's own `agent_end` (also `z`) follows
 * once pi is quiet. Statuses: `i` idle, `r` running, `c` closing, `x` closed.
 */
import { distinctUntilChanged, map, tap, VirtualTimeScheduler, type Observable } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { PiConfig } from '../../src/config/PiConfig.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiSession } from '../../src/session/PiSession.js';
import type { SessionState, SessionStatus } from '../../src/protocol/sessionValues.js';
import { FakeTransport } from '../../src/testing/FakeTransport.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

const config = PiConfig.parse({ requestTimeoutMs: 1_000, startTimeoutMs: 1_000 });

const FRAMES: Record<string, object> = {
  s: { type: 'agent_start' },
  t: { type: 'turn_start' },
  u: { type: 'message_start', message: { role: 'user', content: [{ type: 'text', text: 'hi' }] } },
  d: { type: 'message_update', assistantMessageEvent: { type: 'text_delta', contentIndex: 0, delta: 'Hel' } },
  D: { type: 'message_update', assistantMessageEvent: { type: 'text_delta', contentIndex: 0, delta: 'lo' } },
  c: { type: 'message_end', message: { role: 'assistant', content: [{ type: 'text', text: 'Hello' }], stopReason: 'stop' } },
  e: { type: 'turn_end' },
  z: { type: 'agent_end', messages: [] },
};

const EVENT_LETTERS: Partial<Record<PiEvent['type'], string>> = {
  agent_start: 's',
  turn_start: 't',
  user_message: 'u',
  message_delta: 'd',
  message_complete: 'c',
  turn_end: 'e',
  agent_end: 'z',
  error: '!',
};
const letter = (event: PiEvent): string => EVENT_LETTERS[event.type] ?? '?';

const STATUS_LETTERS: Record<SessionStatus, string> = { starting: 'S', idle: 'i', running: 'r', restarting: 'R', closing: 'c', closed: 'x' };
const statuses = (state$: Observable<SessionState>) =>
  state$.pipe(
    map((state) => STATUS_LETTERS[state.status]),
    distinctUntilChanged(),
  );

/** Lets queued microtasks (fake writes, their replies, the session's awaits) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

const sessions: PiSession[] = [];
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.close()));
});

/** What pi's `get_state` says while idle. */
const IDLE_STATE = {
  model: { id: 'fake-1', provider: 'fake' },
  thinkingLevel: 'off',
  isStreaming: false,
  isCompacting: false,
  sessionId: 'fake-pi-session',
  messageCount: 0,
  pendingMessageCount: 0,
};

/**
 * A started session over a FakeTransport that answers like pi: a prompt is acknowledged (its
 * frames come from the test) and `get_state` reports streaming from the prompt to pi's agent_end.
 */
async function startSession() {
  let streaming = false;
  /** How many commands had been written when the last agent_end came out. */
  let writtenAtLastEnd = -1;
  const transport = new FakeTransport({
    respond: (command, t) => {
      // Writes arrive a microtask late, so in virtual time a test may push a prompt's whole run
      // before pi "reads" the prompt: a prompt written before the last agent_end is over already.
      if (command.type === 'prompt' && t.sent.indexOf(command) >= writtenAtLastEnd) streaming = true;
      if (command.type === 'get_state') t.reply(command, { ...IDLE_STATE, isStreaming: streaming });
      else FakeTransport.defaultResponder(command, t);
    },
  });
  /** Writes one of pi's frames to stdout. */
  const emit = (frame: object) => {
    const type = (frame as { type?: unknown }).type;
    if (type === 'agent_start') streaming = true;
    if (type === 'agent_end') {
      streaming = false;
      writtenAtLastEnd = transport.sent.length;
    }
    transport.emitFrame(frame);
  };
  const session = new PiSession({ sessionId: 'm1', transport, config, cwd: '/work', scheduler: new VirtualTimeScheduler() });
  sessions.push(session);
  await session.start();
  return { transport, session, emit };
}

/** Pushes the frames of a cold marble to pi's stdout. */
function feedFrames(emit: (frame: object) => void, frames$: Observable<object>): void {
  frames$.pipe(tap(emit)).subscribe();
}

/** Plays a whole run outside virtual time. */
function playRun(emit: (frame: object) => void, text: string) {
  emit({ type: 'agent_start' });
  emit({ type: 'message_start', message: { role: 'user', content: [{ type: 'text', text: 'one' }] } });
  emit({ type: 'message_update', assistantMessageEvent: { type: 'text_delta', contentIndex: 0, delta: text } });
  emit({ type: 'message_end', message: { role: 'assistant', content: [{ type: 'text', text }], stopReason: 'stop' } });
  emit({ type: 'agent_end', messages: [] });
}

const sentTypes = (transport: FakeTransport) => transport.sent.map((command) => command.type);

describe('PiSession streams (marbles over a FakeTransport)', () => {
  it('events$ follows the frames as they arrive; the run ends once pi is quiet', async () => {
    const { session, transport, emit } = await startSession();
    const result = session.prompt('hi');
    await settle(); // the prompt is written and acknowledged

    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const frames = '  -s-t-u-d-D-c-e-z|';
      const events = '  -s-t-u-d-d-c-e   ';
      const status = '  r                ';
      const feedSubs = '^---------------!';
      const frames$ = cold(frames, FRAMES);
      feedFrames(emit, frames$);
      expectObservable(session.events$.pipe(map(letter))).toBe(events);
      expectObservable(statuses(session.state$)).toBe(status);
      expectSubscriptions(frames$.subscriptions).toBe(feedSubs);
    });

    // pi's agent_end is not the end: the session asked get_state, whose answer is a promise away.
    expect(session.state.status).toBe('running');
    expect(transport.sent.at(-1)).toMatchObject({ type: 'get_state' });
    await expect(result).resolves.toMatchObject({ finalText: 'Hello', reason: 'completed' });
    expect(session.state).toMatchObject({ status: 'idle', runs: 1 });
  });

  it('state$ goes idle → running on a run pi starts itself, then idle → closing → closed', async () => {
    const { session, emit } = await startSession();
    const seen: string[] = [];
    let completed = false;
    statuses(session.state$).subscribe({ next: (status) => seen.push(status), complete: () => (completed = true) });
    const ended: PiEvent[] = [];
    session.events$.subscribe({ next: (event) => event.type === 'agent_end' && ended.push(event), error: () => undefined });

    createTestScheduler().run(({ cold, expectObservable }) => {
      // An extension's sendMessage (or a parked steer) starts a run no prompt() asked for.
      const frames = '--s-u-d-c-z|';
      const status = 'i-r         ';
      const events = '--s-u-d-c   ';
      feedFrames(emit, cold(frames, FRAMES));
      expectObservable(statuses(session.state$)).toBe(status);
      expectObservable(session.events$.pipe(map(letter))).toBe(events);
    });

    await settle();
    expect(ended).toEqual([expect.objectContaining({ type: 'agent_end', reason: 'completed', finalText: 'Hello' })]);
    await session.close();
    expect(seen).toEqual(['i', 'r', 'i', 'c', 'x']);
    expect(completed).toBe(true);
  });

  it('a late subscriber gets the current run replayed, then live events, and nothing of the previous run', async () => {
    const { session, emit } = await startSession();
    const first = session.prompt('one');
    await settle();
    playRun(emit, 'first');
    await expect(first).resolves.toMatchObject({ finalText: 'first' });

    const second = session.prompt('two');
    await settle();
    createTestScheduler().run(({ cold, expectObservable }) => {
      const events$ = session.events$.pipe(map(letter));
      const recent$ = session.recentEvents$.pipe(map(letter));
      // Between runs events$ replays nothing (the last run is over); recentEvents$ still has it …
      const frames = '     --------s-u-----d-c-z|';
      const early = '      --------s-u-----d-c   ';
      const earlyRecent = ' (sudcz)-s-u-----d-c   ';
      // … and the next agent_start starts a new window for both.
      const late = '       -----------^          ';
      const lateEvents = ' -----------(su)-d-c      ';
      const later = '      -------------------^  ';
      const laterEvents = '-------------------(sudc)';
      feedFrames(emit, cold(frames, FRAMES));
      expectObservable(events$).toBe(early);
      expectObservable(recent$).toBe(earlyRecent);
      expectObservable(events$, late).toBe(lateEvents);
      expectObservable(events$, later).toBe(laterEvents);
    });
    await expect(second).resolves.toMatchObject({ finalText: 'Hello' });

    // The same, checked by seq: recentEvents$ now gets exactly the second run, events$ nothing.
    const fresh: PiEvent[] = [];
    session.events$.subscribe((event) => fresh.push(event)).unsubscribe();
    expect(fresh).toEqual([]);
    const replayed: PiEvent[] = [];
    session.recentEvents$.subscribe((event) => replayed.push(event)).unsubscribe();
    expect(replayed.map(letter).join('')).toBe('sudcz');
    expect(replayed.map((event) => event.seq)).toEqual([6, 7, 8, 9, 10]);
  });

  it('prompt$() sends on subscribe, emits that run’s events, and completes at the run’s end', async () => {
    const { session, transport, emit } = await startSession();
    const values: string[] = [];
    let completed = false;

    createTestScheduler().run(({ cold, expectObservable }) => {
      const run$ = session.prompt$('hi').pipe(tap({ next: (event) => values.push(letter(event)), complete: () => (completed = true) }), map(letter));
      const promptSent$ = (probe: string) => cold(probe).pipe(map(() => sentTypes(transport).includes('prompt')));
      const frames = '   --s-u-d-c-z|';
      const runSub = '   -^          ';
      const runEvents = '--s-u-d-c    ';
      const probe = '    x-y         ';
      const sent = '     f-t         '; // cold: nothing is sent before the subscription
      feedFrames(emit, cold(frames, FRAMES));
      expectObservable(run$, runSub).toBe(runEvents);
      expectObservable(promptSent$(probe)).toBe(sent, { f: false, t: true });
    });

    expect(sentTypes(transport)).toEqual(['get_state', 'prompt', 'get_state']); // the prompt, then the run-end check
    expect(transport.sent[1]).toMatchObject({ type: 'prompt', message: 'hi' });
    expect(completed).toBe(false); // the run ends on a promise (the get_state answer)
    await settle();
    expect(completed).toBe(true);
    expect(values).toEqual(['s', 'u', 'd', 'c', 'z']);
  });

  it('unsubscribing from prompt$() before the run ends sends abort; the session goes on', async () => {
    const { session, transport, emit } = await startSession();

    createTestScheduler().run(({ cold, expectObservable }) => {
      const abortSent$ = (probe: string) => cold(probe).pipe(map(() => sentTypes(transport).includes('abort')));
      const frames = '   --s-u-d-D-d|';
      const runSub = '   ^----!      ';
      const runEvents = '--s-u        ';
      const events = '   --s-u-d-d-d ';
      const probe = '    ----a-b     ';
      const aborted = '  ----f-t     ';
      feedFrames(emit, cold(frames, FRAMES));
      expectObservable(session.prompt$('hi').pipe(map(letter)), runSub).toBe(runEvents);
      expectObservable(session.events$.pipe(map(letter))).toBe(events);
      expectObservable(abortSent$(probe)).toBe(aborted, { f: false, t: true });
    });

    expect(sentTypes(transport)).toEqual(['get_state', 'prompt', 'abort']);
    await settle();
    // pi ends the aborted run; the session reports it, prompt$ is long gone.
    const ends: PiEvent[] = [];
    session.events$.subscribe({ next: (event) => event.type === 'agent_end' && ends.push(event), error: () => undefined });
    emit({ type: 'message_end', message: { role: 'assistant', content: [{ type: 'text', text: 'Hel' }], stopReason: 'aborted' } });
    emit({ type: 'agent_end', messages: [] });
    await settle();
    expect(ends).toEqual([expect.objectContaining({ reason: 'cancelled', finalText: 'Hel' })]);
    expect(session.state.status).toBe('idle');
  });

  it('a prompt$() subscribed during a run waits for it; unsubscribing while it waits sends nothing', async () => {
    const { session, transport, emit } = await startSession();
    const first = session.prompt('first');
    await settle();

    createTestScheduler().run(({ cold, expectObservable }) => {
      const queued$ = session.state$.pipe(
        map((state) => state.queuedPrompts),
        distinctUntilChanged(),
      );
      const promptsSent$ = (probe: string) => cold(probe).pipe(map(() => transport.sent.filter((command) => command.type === 'prompt').length));
      const frames = '-s-u-d-c|  ';
      const runSub = '--^---!    ';
      const queued = '0-1---0    ';
      const status = 'r          ';
      const probe = ' ---a-----b ';
      const sent = '  ---1-----1 ';
      feedFrames(emit, cold(frames, FRAMES));
      expectObservable(session.prompt$('second').pipe(map(letter)), runSub).toBe('');
      expectObservable(queued$).toBe(queued, { 0: 0, 1: 1 });
      expectObservable(statuses(session.state$)).toBe(status);
      expectObservable(promptsSent$(probe)).toBe(sent, { 1: 1 });
    });

    emit({ type: 'agent_end', messages: [] });
    await expect(first).resolves.toMatchObject({ finalText: 'Hello' });
    await settle();
    expect(sentTypes(transport).filter((type) => type === 'prompt' || type === 'abort')).toEqual(['prompt']);
    expect(session.state).toMatchObject({ status: 'idle', queuedPrompts: 0 });
  });
});
