/**
 * A whole session in TestScheduler virtual time, asserted with marbles: start, a prompt that pi
 * 0.73 retries after its agent_end, a prompt whose tool approval the host answers from pending$,
 * an abort, and close. Nothing here is awaited: the FakeTransport runs on the TestScheduler
 * (`scheduler` option), the session's commands are cold Observables, and `prompt$()` and the
 * run-end rule settle synchronously, so every step happens at its virtual frame.
 *
 * Statuses: `s` starting, `i` idle, `r` running, `c` closing, `x` closed. Run ends: `c`
 * completed, `x` cancelled.
 */
import { distinctUntilChanged, filter, map, mergeMap } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { describe, it } from 'vitest';
import { PiConfig } from '../../src/config/PiConfig.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiSession } from '../../src/session/PiSession.js';
import { FakeTransport, type SentCommand } from '../../src/testing/FakeTransport.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

const config = PiConfig.parse({ requestTimeoutMs: 1_000, startTimeoutMs: 1_000 });
const STATUS = { starting: 's', idle: 'i', running: 'r', restarting: 'R', closing: 'c', closed: 'x' } as const;

const assistant = (text: string, stopReason = 'stop') => ({ role: 'assistant', content: text ? [{ type: 'text', text }] : [], stopReason });

/**
 * A pi 0.73 on the TestScheduler. `flaky`: fails, announces a retry after its agent_end, and
 * succeeds 5 frames later. `tool`: asks to approve a bash call; runs once answered. `long`: runs
 * until aborted. get_state: idle.
 */
function pi073(scheduler: TestScheduler) {
  const later = (delay: number, work: () => void) => scheduler.schedule(work, delay);
  return (command: SentCommand, pi: FakeTransport): void => {
    switch (command.type) {
      case 'prompt': {
        pi.reply(command);
        pi.emitFrame({ type: 'agent_start' });
        const message = command['message'];
        if (message === 'flaky') {
          later(3, () => {
            pi.emitFrame({ type: 'message_end', message: assistant('', 'error') });
            pi.emitFrame({ type: 'agent_end', messages: [] });
            pi.emitFrame({ type: 'auto_retry_start', attempt: 1, maxAttempts: 3, delayMs: 5, errorMessage: '500' });
          });
          later(8, () => {
            pi.emitFrame({ type: 'agent_start' });
            pi.emitFrame({ type: 'message_end', message: assistant('second time lucky') });
            pi.emitFrame({ type: 'auto_retry_end', success: true, attempt: 1 });
            pi.emitFrame({ type: 'agent_end', messages: [] });
          });
        } else if (message === 'tool') {
          later(1, () => pi.emitFrame({ type: 'extension_ui_request', id: 'r1', method: 'confirm', title: 'Allow tool: bash', message: 'Command: ls' }));
        }
        return;
      }
      case 'extension_ui_response':
        pi.emitFrame({ type: 'message_end', message: assistant(command['confirmed'] === true ? 'ran ls' : 'blocked') });
        pi.emitFrame({ type: 'agent_end', messages: [] });
        return;
      case 'abort':
        pi.reply(command);
        pi.emitFrame({ type: 'message_end', message: assistant('', 'aborted') });
        pi.emitFrame({ type: 'agent_end', messages: [] });
        return;
      default:
        FakeTransport.defaultResponder(command, pi);
    }
  };
}

describe('a whole session in virtual time', () => {
  it('start, a retried run, an approval answered by the host, an abort, close', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const transport = new FakeTransport({ scheduler, respond: pi073(scheduler) });
      const session = new PiSession({ sessionId: 's1', transport, config, cwd: '/work', scheduler });

      // The host: answers every permission from pending$ (it is subscribed, so the default policy defers to it).
      session.pending$.subscribe((pending) => {
        for (const request of pending) void session.respond(request.requestId, true);
      });

      const runEnds$ = session.events$.pipe(
        filter((event): event is Extract<PiEvent, { type: 'agent_end' }> => event.type === 'agent_end'),
        map((event) => (event.reason === 'completed' ? 'c' : event.reason === 'cancelled' ? 'x' : '?')),
      );
      const statuses$ = session.state$.pipe(
        map((state) => STATUS[state.status]),
        distinctUntilChanged(),
      );
      const texts$ = session.events$.pipe(
        filter((event): event is Extract<PiEvent, { type: 'message_complete' }> => event.type === 'message_complete' && event.text !== ''),
        map((event) => event.text),
      );

      cold('a').subscribe(() => void session.start());
      cold('5ms a 14ms b 9ms c', { a: 'flaky', b: 'tool', c: 'long' })
        .pipe(mergeMap((text) => session.prompt$(text)))
        .subscribe();
      cold('33ms a').subscribe(() => void session.abort());
      cold('40ms a').subscribe(() => void session.close());

      // Frame 0: started. 5: the flaky run starts; 8: pi's agent_end, then its retry announced
      // (get_state says idle: the run stays open); 13: the retry's agent_end, and the run ends.
      // 20-21: the tool run, approved by the host at 21. 30: a run, aborted at 33. 40: closed.
      expectObservable(statuses$).toBe('(si)-r 7ms i 6ms ri 8ms r 2ms i 6ms (cx|)');
      expectObservable(runEnds$).toBe('13ms c 7ms c 11ms x 6ms |');
      expectObservable(texts$).toBe('13ms a 7ms b 18ms |', { a: 'second time lucky', b: 'ran ls' });
    });
  });
});
