/**
 * The runs of a session (RunTracker) over a real CommandChannel and a stand-in pi: the prompt
 * queue, the effects of reduceRun, and the fold prompt() makes of run$.
 */
import { EMPTY, lastValueFrom, toArray, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { EventNormalizer } from '../../src/protocol/EventNormalizer.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { CommandChannel } from '../../src/session/CommandChannel.js';
import { HostCalls } from '../../src/session/HostCalls.js';
import { RunTracker } from '../../src/session/RunTracker.js';
import { SessionEvents } from '../../src/session/SessionEvents.js';
import { initialSessionState, SessionStore } from '../../src/session/SessionStore.js';
import { WireDialect } from '../../src/session/WireDialect.js';

/** A tracker whose "pi" answers every command at once, through `answer`. */
function setup(answer: (command: { type: string; id: string }, tracker: RunTracker, channel: CommandChannel) => void) {
  const scheduler = new VirtualTimeScheduler();
  const events = new SessionEvents('s1', { maxEvents: 100, maxBytes: 1e6 });
  const seen: PiEvent[] = [];
  events.events$.subscribe((event) => seen.push(event));
  const store = new SessionStore(initialSessionState('s1', '/', 'idle'), () => events.seq);
  const sent: string[] = [];
  const late: { tracker?: RunTracker } = {};
  const channel: CommandChannel = new CommandChannel({
    write: (command) => {
      const written = command as unknown as { type: string; id: string };
      sent.push(written.type);
      late.tracker?.onWrite(written);
      answer(written, late.tracker as RunTracker, channel);
      return Promise.resolve();
    },
    timeoutMs: 1_000,
    scheduler,
  });
  const dialect = new WireDialect({ dialect: 'pi-0.73', version: undefined, scheduler, startTimeoutMs: 1_000, stderrTail: () => '' });
  const tracker = (late.tracker = new RunTracker({
    channel,
    events,
    store,
    normalizer: new EventNormalizer(),
    dialect,
    startFields: () => ({ cwd: '/' }),
    onPiState: () => undefined,
    abort: () => Promise.resolve(),
    closedError: () => undefined,
    hostCalls: new HostCalls({
      tools: [],
      nonce: 'n',
      session: undefined as never,
      isOmp: () => false,
      openTools: () => new Map(),
      request$: () => EMPTY,
      write: () => Promise.resolve(),
      onError: () => undefined,
    }),
  }));
  return { tracker, store, sent, seen };
}

const ok = (channel: CommandChannel, id: string, command: string, data?: unknown) =>
  channel.handleResponse({ type: 'response', id, command, success: true, ...(data === undefined ? {} : { data }) } as never);

describe('RunTracker', () => {
  it('a prompt pi handles without a run (pi 1.x "handled") settles at once; the next queued prompt goes out then', async () => {
    const { tracker, sent, store } = setup((command, _tracker, channel) => {
      if (command.type === 'prompt') ok(channel, command.id, 'prompt', { disposition: 'handled' });
    });
    const [first, second] = [tracker.prompt('/a', {}, undefined), tracker.prompt('/b', {}, undefined)];
    await expect(first).resolves.toMatchObject({ reason: 'completed', finalText: '' });
    await expect(second).resolves.toMatchObject({ reason: 'completed' });
    expect(sent).toEqual(['prompt', 'prompt']);
    expect(store.value).toMatchObject({ status: 'idle', queuedPrompts: 0 });
  });

  it('run$ emits the run’s events, then its result, and completes', async () => {
    const { tracker } = setup((command, current, channel) => {
      if (command.type === 'prompt') {
        current.feed({ kind: 'prompt_acked' }); // the FrameRouter does this as pi's response frame arrives
        ok(channel, command.id, 'prompt');
        current.onAgentStart({ type: 'agent_start' }, 20);
        current.feed({ kind: 'agent_end' });
      }
      if (command.type === 'get_state') ok(channel, command.id, 'get_state', { isStreaming: false, isCompacting: false });
    });
    const updates = await lastValueFrom(tracker.run$('hi', {}).pipe(toArray()));
    expect(updates.map((update) => (update.kind === 'event' ? update.event.type : 'result'))).toEqual(['agent_start', 'agent_end', 'result']);
  });

  it('a refused prompt rejects its result; the session stays idle', async () => {
    const { tracker, store } = setup((command, _tracker, channel) => {
      if (command.type === 'prompt')
        channel.handleResponse({ type: 'response', id: command.id, command: 'prompt', success: false, error: 'No API key' } as never);
    });
    await expect(tracker.prompt('hi', {}, undefined)).rejects.toThrow(/No API key/);
    expect(store.status).toBe('idle');
  });
});
