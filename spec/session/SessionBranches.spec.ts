/**
 * The conversation commands per dialect, over a FakeTransport: what goes on the wire (omp's
 * `branch` for `fork`), what a dialect lacks (`clone` on omp), `get_entries` / `get_tree` where pi
 * serves them, and the `get_state` + `session_changed` after each change.
 */
import { describe, expect, it } from 'vitest';
import { PiConfig } from '../../src/config/PiConfig.js';
import { PiUnsupportedError, TransportClosedError } from '../../src/errors.js';
import type { Dialect } from '../../src/protocol/dialects.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiSession } from '../../src/session/PiSession.js';
import { FakeTransport, type SentCommand } from '../../src/testing/FakeTransport.js';

let generation = 0;

function respond(command: SentCommand, pi: FakeTransport): void {
  switch (command.type) {
    case 'get_state':
      pi.reply(command, {
        isStreaming: false,
        isCompacting: false,
        sessionId: `pi-${generation}`,
        sessionFile: `/s/${generation}.jsonl`,
        messageCount: 0,
        pendingMessageCount: 0,
      });
      return;
    case 'prompt':
      pi.reply(command);
      pi.emitFrame({ type: 'agent_start' });
      pi.emitFrame({ type: 'message_end', message: { role: 'assistant', content: [{ type: 'text', text: 'ok' }], stopReason: 'stop' } });
      pi.emitFrame({ type: 'agent_end', messages: [] });
      return;
    case 'fork':
    case 'branch':
      generation++;
      pi.reply(command, { text: 'the message', cancelled: false });
      return;
    case 'new_session':
      pi.reply(command, { cancelled: command['parentSession'] === 'cancel-me' });
      if (command['parentSession'] !== 'cancel-me') generation++;
      return;
    case 'get_entries':
      pi.reply(command, {
        entries: [{ type: 'message', id: 'e1', parentId: null, timestamp: '2026-12-08T00:00:00Z', message: { role: 'user', content: 'hi', timestamp: 1 } }],
        leafId: 'e1',
      });
      return;
    case 'get_subagents':
      pi.reply(command, { subagents: [] });
      return;
    case 'get_tree':
      pi.reply(command, { tree: [{ entry: { type: 'message', id: 'e1', parentId: null, timestamp: '' }, children: [] }], leafId: 'e1' });
      return;
    default:
      FakeTransport.defaultResponder(command, pi);
  }
}

async function session(dialect: Dialect, version?: string) {
  generation = 0;
  const transport = new FakeTransport({ respond });
  if (dialect === 'omp') transport.emitFrame({ type: 'ready' });
  const started = new PiSession({ sessionId: 's', transport, config: PiConfig.parse({}), cwd: '/w', dialect, ...(version ? { version } : {}), nonce: false });
  await started.start();
  const events: PiEvent[] = [];
  started.events$.subscribe({ next: (event) => events.push(event), error: () => undefined });
  return { session: started, transport, events };
}

describe('conversation commands per dialect', () => {
  it('omp: fork() sends branch, clone() is unsupported, getEntries() needs omp 18.3.1', async () => {
    const { session: omp, transport, events } = await session('omp', '18.2.3');
    await expect(omp.fork('e1')).resolves.toEqual({ text: 'the message' });
    expect(transport.sent.map((command) => command.type).slice(-2)).toEqual(['branch', 'get_state']);
    expect(omp.piSessionId).toBe('pi-1');
    expect(events.at(-1)).toMatchObject({ type: 'session_changed', reason: 'fork', piSessionId: 'pi-1', sessionFile: '/s/1.jsonl' });
    await expect(omp.clone()).rejects.toBeInstanceOf(PiUnsupportedError);
    // 18.2.3 has no get_entries: the file it names is read; none is written yet, so no entries.
    await expect(omp.getEntries()).resolves.toEqual({ entries: [], leafId: null });
    expect(transport.sent.some((command) => command.type === 'get_entries')).toBe(false);
    await omp.close();
  });

  it('getSubagents(): get_subagents on omp, PiUnsupportedError on pi', async () => {
    const { session: omp, transport } = await session('omp', '18.2.3');
    await expect(omp.getSubagents()).resolves.toEqual([]);
    expect(transport.sent.at(-1)?.type).toBe('get_subagents');
    await omp.close();
    const { session: pi } = await session('pi-0.73');
    await expect(pi.getSubagents()).rejects.toBeInstanceOf(PiUnsupportedError);
    await pi.close();
  });

  it('pi 1.x: getEntries() and getTree() ask pi', async () => {
    const { session: pi1, transport } = await session('pi-1', '1.5.2');
    await expect(pi1.getEntries()).resolves.toMatchObject({ entries: [{ id: 'e1', type: 'message' }], leafId: 'e1' });
    await expect(pi1.getTree()).resolves.toMatchObject({ tree: [{ entry: { id: 'e1' }, children: [] }], leafId: 'e1' });
    expect(transport.sent.map((command) => command.type)).toEqual(['get_state', 'get_entries', 'get_tree']);
    await pi1.close();
  });

  it('a change an extension cancels is PI_CANCELLED and emits nothing', async () => {
    const { session: pi, events } = await session('pi-0.73');
    await expect(pi.newSession({ parentSession: 'cancel-me' })).rejects.toMatchObject({ code: 'PI_CANCELLED' });
    expect(events.filter((event) => event.type === 'session_changed')).toEqual([]);
    await expect(pi.newSession({ parentSession: 5 as never })).rejects.toMatchObject({ field: 'parentSession' });
    await expect(pi.newSession()).resolves.toBeUndefined();
    expect(pi.piSessionId).toBe('pi-1');
    await pi.close();
  });

  it('a prompt sent while a change is in flight waits for it; after close() a change is a TransportClosedError', async () => {
    const { session: pi, transport } = await session('pi-0.73');
    const forked = pi.fork('e1');
    let prompted: Promise<unknown> | undefined;
    transport.sent$.subscribe((command) => {
      if (command.type === 'fork') prompted = pi.prompt('after the fork');
    });
    await forked;
    await prompted;
    expect(transport.sent.map((command) => command.type).slice(1, 4)).toEqual(['fork', 'get_state', 'prompt']);
    await pi.close();
    await expect(pi.clone()).rejects.toBeInstanceOf(TransportClosedError);
  });

  it('an in-memory session on pi 0.73 has no entries to read: PiUnsupportedError', async () => {
    const transport = new FakeTransport();
    const pi = new PiSession({ sessionId: 's', transport, config: PiConfig.parse({}), cwd: '/w', dialect: 'pi-0.73', nonce: false });
    await pi.start();
    await expect(pi.getTree()).rejects.toBeInstanceOf(PiUnsupportedError);
    await pi.close();
  });
});
