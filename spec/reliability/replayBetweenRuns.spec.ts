/**
 * What a subscriber that arrives *between* runs gets from `events$` (FakeTransport, no pi).
 *
 * The README promises "a late subscriber first gets the current run replayed from its
 * agent_start". Once a run has ended there is no current run, but the replay window still holds
 * the finished one, so the common pattern
 *
 *   await session.prompt('a');
 *   const done = firstValueFrom(session.events$.pipe(ofType('agent_end')));
 *   void session.prompt('b');
 *   await done; // resolves at once, with run a's agent_end
 *
 * waits for the wrong run. Found while writing the security specs (they use `prompt$` instead).
 * Reported to the lead: the fix is in PiSession's run-end logic (#finishRun / ReplayHub), which
 * this helper does not own.
 */
import { filter, firstValueFrom, take, timeout } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiClient } from '../../src/session/PiClient.js';
import { FakeTransport, type SentCommand } from '../../src/testing/FakeTransport.js';

/** Answers every prompt with a tiny run whose reply text is the prompt. */
function echoRun(command: SentCommand, transport: FakeTransport): void {
  if (command.type !== 'prompt') return FakeTransport.defaultResponder(command, transport);
  transport.reply(command);
  const message = (text: string) => ({ role: 'assistant', content: [{ type: 'text', text }], stopReason: 'stop' });
  const text = String(command['message']);
  transport.emitFrame({ type: 'agent_start' });
  transport.emitFrame({ type: 'message_update', assistantMessageEvent: { type: 'text_delta', contentIndex: 0, delta: text } });
  transport.emitFrame({ type: 'message_end', message: message(text) });
  transport.emitFrame({ type: 'agent_end', messages: [message(text)] });
}

async function startSession() {
  const transport = new FakeTransport({ respond: echoRun });
  return new PiClient({ transportFactory: () => transport, approve: 'none' }).start({ cwd: process.cwd() });
}

describe('events$ for a subscriber that arrives between runs', () => {
  it('during a run, a late subscriber gets that run replayed from its agent_start (documented)', async () => {
    const session = await startSession();
    const firstDelta = firstValueFrom(
      session.events$.pipe(
        filter((event) => event.type === 'message_delta'),
        timeout(5_000),
      ),
    );
    const run = session.prompt('one');
    await firstDelta;
    // Subscribed inside the run (before its agent_end was handled): the run from its start.
    const late = await firstValueFrom(session.events$.pipe(take(1), timeout(5_000)));
    expect(late.type).toBe('agent_start');
    await run;
    await session.close();
  });

  it('recentEvents$ still hands a subscriber the finished run (for resuming and UIs)', async () => {
    const session = await startSession();
    await session.prompt('one');
    const replayed = await firstValueFrom(
      session.recentEvents$.pipe(
        filter((event): event is Extract<PiEvent, { type: 'agent_end' }> => event.type === 'agent_end'),
        timeout(5_000),
      ),
    );
    expect(replayed.finalText).toBe('one');
    expect(replayed.raw).toMatchObject({ type: 'agent_end' }); // pi's own frame
    await session.close();
  });

  it('after a run ended, a new subscriber is not handed the finished run (waits for the next one)', async () => {
    const session = await startSession();
    await session.prompt('one');
    const nextEnd = firstValueFrom(
      session.events$.pipe(
        filter((event): event is Extract<PiEvent, { type: 'agent_end' }> => event.type === 'agent_end'),
        timeout(5_000),
      ),
    );
    void session.prompt('two');
    try {
      expect((await nextEnd).finalText).toBe('two');
    } finally {
      await session.close();
    }
  });
});
