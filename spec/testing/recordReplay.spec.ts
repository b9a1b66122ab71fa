/**
 * recordTranscript → replayTranscript round trip without a process: a FakeTransport playing a
 * pi 1.x is recorded, and the replay drives a new session exactly the same way (the `spawn`
 * note carries the dialect, so the replayed session ends runs on `agent_settled` too).
 */
import { describe, expect, it } from 'vitest';
import { PiClient } from '../../src/session/PiClient.js';
import { FakeTransport } from '../../src/testing/FakeTransport.js';
import { recordTranscript, type TranscriptRecord } from '../../src/testing/recordTranscript.js';
import { replayTranscript } from '../../src/testing/replayTranscript/replayTranscript.js';

const assistant = { role: 'assistant', content: [{ type: 'text', text: 'Hi there.' }], stopReason: 'stop', usage: { input: 3, output: 2, totalTokens: 5 } };

function pi1(): FakeTransport {
  return new FakeTransport({
    respond: (command, fake) => {
      if (command.type !== 'prompt') return FakeTransport.defaultResponder(command, fake);
      fake.reply(command, { disposition: 'started' });
      fake.emitFrame({ type: 'agent_start' });
      fake.emitFrame({ type: 'message_update', usage: {}, assistantMessageEvent: { type: 'text_delta', contentIndex: 0, delta: 'Hi ' } });
      fake.emitFrame({ type: 'message_update', usage: {}, assistantMessageEvent: { type: 'text_delta', contentIndex: 0, delta: 'there.' } });
      fake.emitFrame({ type: 'message_end', message: assistant });
      fake.emitFrame({ type: 'agent_end', messages: [], willRetry: false });
      fake.emitFrame({ type: 'agent_settled', aborted: false });
    },
  });
}

describe('recordTranscript → replayTranscript', () => {
  it('replays a recorded pi 1.x session with no deviation', async () => {
    const records: TranscriptRecord[] = [];
    const recording = recordTranscript((record) => records.push(record), { transportFactory: () => pi1(), clock: () => records.length });
    const live = await new PiClient({ config: { dialect: 'pi-1', apiKey: 'sk-very-secret' }, transportFactory: recording.transportFactory }).start({
      cwd: process.cwd(),
      approve: 'none',
    });
    expect(await live.prompt('hello')).toMatchObject({ finalText: 'Hi there.', reason: 'completed' });
    expect(await live.prompt('again')).toMatchObject({ finalText: 'Hi there.', reason: 'completed' });
    await live.close();
    await recording.close();

    expect(records[0]).toMatchObject({ dir: 'note', dialect: 'pi-1' });
    expect(JSON.stringify(records)).not.toContain('sk-very-secret');
    const sent = records.filter((record) => record.dir === 'in').map((record) => (JSON.parse(record.line) as { type: string }).type);
    // The version is unknown, so the first run also asks get_state; once agent_settled was seen, it alone ends runs.
    expect(sent).toEqual(['get_state', 'prompt', 'get_state', 'prompt']);

    const replay = replayTranscript(records.map((record) => JSON.stringify(record)));
    expect(replay.dialect).toEqual({ dialect: 'pi-1' });
    const session = await new PiClient({ transportFactory: replay.transportFactory }).start({ cwd: process.cwd() });
    expect(session.capabilities.dialect).toBe('pi-1');
    expect(await session.prompt('hello')).toMatchObject({ finalText: 'Hi there.', reason: 'completed' });
    expect(await session.prompt('again')).toMatchObject({ finalText: 'Hi there.', reason: 'completed' });
    await session.close();
    expect(replay.deviations).toEqual([]);
    expect(replay.sent.map((command) => command.type)).toEqual(sent);
  });
});
