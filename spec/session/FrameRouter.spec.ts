/**
 * Where each line from pi goes (FrameRouter), with stand-ins for the parts it routes to.
 */
import { describe, expect, it, vi } from 'vitest';
import { PiConfig } from '../../src/config/PiConfig.js';
import { EventNormalizer } from '../../src/protocol/EventNormalizer.js';
import type { PiEvent } from '../../src/protocol/events.js';
import type { CommandChannel } from '../../src/session/CommandChannel.js';
import type { HostCalls } from '../../src/session/HostCalls.js';
import { FrameRouter } from '../../src/session/FrameRouter.js';
import type { InteractionDesk } from '../../src/session/InteractionDesk.js';
import type { RunTracker } from '../../src/session/RunTracker.js';
import { SessionEvents } from '../../src/session/SessionEvents.js';
import { WireDialect } from '../../src/session/WireDialect.js';
import { OversizeLine } from '../../src/transport/LineSplitter.js';
import { VirtualTimeScheduler } from 'rxjs';

function setup() {
  const events = new SessionEvents('s1', { maxEvents: 100, maxBytes: 1e6 });
  const seen: PiEvent[] = [];
  events.events$.subscribe((event) => seen.push(event));
  const runs = {
    feed: vi.fn(),
    onAgentStart: vi.fn(),
    onPromptResult: vi.fn(),
    noteEndFrame: vi.fn(),
    addUsage: vi.fn(),
    isCurrentPrompt: vi.fn(() => false),
    onLatePromptFailure: vi.fn(() => false),
  };
  const channel = { handleResponse: vi.fn(() => true), failCommand: vi.fn(() => true) };
  const desk = { open: vi.fn(), withdraw: vi.fn() };
  const dialect = new WireDialect({
    dialect: 'pi-0.73',
    version: undefined,
    scheduler: new VirtualTimeScheduler(),
    startTimeoutMs: 1_000,
    stderrTail: () => '',
  });
  const write = vi.fn(() => Promise.resolve());
  const router = new FrameRouter({
    config: PiConfig.parse({}),
    approve: 'all',
    events,
    channel: channel as unknown as CommandChannel,
    runs: runs as unknown as RunTracker,
    desk: desk as unknown as InteractionDesk,
    dialect,
    normalizer: new EventNormalizer(),
    hostCalls: { isHostCall: () => false, onToolEnd: vi.fn() } as unknown as HostCalls,
    write,
    onUsage: vi.fn(),
  });
  const line = (frame: object) => router.onLine(JSON.stringify(frame));
  return { router, line, runs, channel, desk, dialect, write, seen };
}

describe('FrameRouter', () => {
  it('run frames go to the run tracker; agent_end also becomes content and the end frame', () => {
    const { line, runs } = setup();
    line({ type: 'agent_start' });
    line({ type: 'auto_retry_start', attempt: 1, maxAttempts: 3, delayMs: 1, errorMessage: 'x' });
    line({ type: 'agent_end', messages: [], willRetry: true });
    line({ type: 'auto_compaction_end' });
    expect(runs.onAgentStart).toHaveBeenCalledTimes(1);
    expect(runs.feed.mock.calls.map((call: unknown[]) => call[0])).toEqual([
      { kind: 'retry_start' },
      { kind: 'agent_end', isTerminal: undefined, willRetry: true },
      { kind: 'compaction_end', auto: true },
    ]);
    expect(runs.noteEndFrame).toHaveBeenCalledTimes(1);
  });

  it('pi 1.x agent_settled teaches the dialect and settles the run', () => {
    const { line, runs, dialect } = setup();
    line({ type: 'agent_settled' });
    expect(dialect.capabilities.dialect).toBe('pi-1');
    expect(dialect.endsRunsItself).toBe(true);
    expect(runs.feed).toHaveBeenCalledWith({ kind: 'settled' });
  });

  it('responses go to the channel; an unmatched one becomes an error event', () => {
    const { line, channel, seen } = setup();
    channel.handleResponse.mockReturnValueOnce(false);
    line({ id: 'x9', type: 'response', command: 'get_state', success: true });
    expect(seen).toMatchObject([{ type: 'error', code: 'unmatched_response' }]);
  });

  it('dialogs go to the desk; notices become ui_notice events; omp cancels withdraw', () => {
    const { line, desk, seen } = setup();
    line({ type: 'extension_ui_request', id: 'r1', method: 'confirm', title: 'Allow tool: bash', message: 'Command: ls' });
    line({ type: 'extension_ui_request', id: 'n1', method: 'notify', message: 'hello' });
    line({ type: 'extension_ui_request', id: 'c1', method: 'cancel', targetId: 'r1' });
    expect(desk.open).toHaveBeenCalledTimes(1);
    expect(desk.withdraw).toHaveBeenCalledWith('r1');
    expect(seen.filter((event) => event.type === 'ui_notice').map((event) => (event as { method: string }).method)).toEqual(['notify', 'cancel']);
  });

  it('an oversize line is an error event, and what its head says still counts', () => {
    const { router, runs, channel, write, seen } = setup();
    router.onLine(new OversizeLine(9e6, '{"type":"agent_end","messages":[{"role":"user"'));
    router.onLine(new OversizeLine(9e6, '{"id":"c7","type":"response","command":"get_messages"'));
    router.onLine(new OversizeLine(9e6, '{"type":"extension_ui_request","id":"r2","method":"confirm","title":"'));
    expect(seen.map((event) => event.type === 'error' && event.code)).toEqual(['line_too_long', 'line_too_long', 'line_too_long']);
    expect(runs.feed).toHaveBeenCalledWith({ kind: 'agent_end' });
    expect(channel.failCommand).toHaveBeenCalledWith('c7', expect.any(Error));
    expect(write).toHaveBeenCalledWith({ type: 'extension_ui_response', id: 'r2', cancelled: true });
  });

  it('a line that is not JSON, and a frame type it does not know, become error / unknown events', () => {
    const { router, line, seen } = setup();
    router.onLine('not json');
    line({ type: 'brand_new' });
    expect(seen.map((event) => event.type)).toEqual(['error', 'unknown']);
  });
});
