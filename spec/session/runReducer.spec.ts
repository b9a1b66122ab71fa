/**
 * The run-end rules of all three dialects, with no transport: inputs in, state and effects out.
 */
import { describe, expect, it } from 'vitest';
import { newRun, reduceRun, type RunContext, type RunEffect, type RunInput, type RunState } from '../../src/session/runReducer.js';

const pi073: RunContext = { dialect: 'pi-0.73', endsRunsItself: false };
const pi1: RunContext = { dialect: 'pi-1', endsRunsItself: true };
const omp182: RunContext = { dialect: 'omp', endsRunsItself: false };
const omp183: RunContext = { dialect: 'omp', endsRunsItself: true };
const idle = { isStreaming: false, isCompacting: false };

/** Feeds inputs in order; returns the final state and every effect, in order. */
function play(context: RunContext, inputs: readonly RunInput[], start: RunState = newRun(false)): { run: RunState; effects: RunEffect[] } {
  let run = start;
  const effects: RunEffect[] = [];
  for (const input of inputs) {
    const step = reduceRun(run, input, context);
    run = step.run;
    effects.push(...step.effects);
  }
  return { run, effects };
}

const kinds = (effects: readonly RunEffect[]) => effects.map((effect) => effect.kind);
const lastCheck = (run: RunState) => run.check?.id ?? -1;

describe('reduceRun', () => {
  describe('pi 0.73: over when a get_state asked after the last agent_end says idle', () => {
    it('a plain run', () => {
      let { run, effects } = play(pi073, [
        { kind: 'prompt_sent', id: 'p1' },
        { kind: 'prompt_acked' },
        { kind: 'agent_start' },
        { kind: 'prompt_accepted', data: undefined },
        { kind: 'agent_end' },
      ]);
      expect(kinds(effects)).toEqual(['announceStart', 'askState']);
      ({ run, effects } = play(pi073, [{ kind: 'state', id: lastCheck(run), state: idle }], run));
      expect(kinds(effects)).toEqual(['finish']);
    });

    it('not while pi retries after its agent_end (get_state says idle during the retry delay)', () => {
      let { run, effects } = play(pi073, [{ kind: 'prompt_acked' }, { kind: 'agent_start' }, { kind: 'agent_end' }, { kind: 'retry_start' }]);
      const check = lastCheck(run);
      ({ run, effects } = play(pi073, [{ kind: 'state', id: check, state: idle }], run));
      expect(kinds(effects)).toEqual([]);
      ({ run, effects } = play(pi073, [{ kind: 'agent_start' }, { kind: 'retry_end' }, { kind: 'agent_end' }], run));
      expect(kinds(effects)).toEqual(['askState']); // the retry's agent_start is the same run: not announced again
      ({ effects } = play(pi073, [{ kind: 'state', id: lastCheck(run), state: idle }], run));
      expect(kinds(effects)).toEqual(['finish']);
    });

    it('not while pi compacts, nor while get_state says streaming', () => {
      let { run } = play(pi073, [{ kind: 'prompt_acked' }, { kind: 'agent_start' }, { kind: 'agent_end' }, { kind: 'compaction_start' }]);
      let effects: RunEffect[];
      ({ run, effects } = play(pi073, [{ kind: 'state', id: lastCheck(run), state: idle }], run));
      expect(effects).toEqual([]);
      ({ run, effects } = play(pi073, [{ kind: 'compaction_end', auto: true }], run));
      expect(kinds(effects)).toEqual(['askState']);
      ({ run, effects } = play(pi073, [{ kind: 'state', id: lastCheck(run), state: { isStreaming: true } }], run));
      expect(effects).toEqual([]);
    });

    it('only the answer to the last check counts', () => {
      const { run } = play(pi073, [{ kind: 'prompt_acked' }, { kind: 'agent_start' }, { kind: 'agent_end' }, { kind: 'agent_start' }, { kind: 'agent_end' }]);
      expect(play(pi073, [{ kind: 'state', id: lastCheck(run) - 1, state: idle }], run).effects).toEqual([]);
      expect(kinds(play(pi073, [{ kind: 'state', id: lastCheck(run), state: idle }], run).effects)).toEqual(['finish']);
    });

    it('a prompt accepted without agent_start (an extension command) is checked, and over when idle', () => {
      const { run, effects } = play(pi073, [{ kind: 'prompt_accepted', data: undefined }]);
      expect(kinds(effects)).toEqual(['askState']);
      expect(kinds(play(pi073, [{ kind: 'state', id: lastCheck(run), state: idle }], run).effects)).toEqual(['finish']);
    });

    it('never before pi accepted the prompt', () => {
      const { run } = play(pi073, [{ kind: 'agent_start' }, { kind: 'agent_end' }]);
      expect(play(pi073, [{ kind: 'state', id: lastCheck(run), state: idle }], run).effects).toEqual([]);
    });
  });

  describe('pi 1.x: agent_settled and the prompt disposition', () => {
    it('no check after agent_end; over at agent_settled', () => {
      const { run, effects } = play(pi1, [{ kind: 'prompt_acked' }, { kind: 'agent_start' }, { kind: 'agent_end', willRetry: true }]);
      expect(kinds(effects)).toEqual(['announceStart']);
      expect(run.retryPending).toBe(true);
      expect(kinds(play(pi1, [{ kind: 'settled' }], run).effects)).toEqual(['finish']);
    });

    it('"handled" is over at once; "queued" waits', () => {
      expect(kinds(play(pi1, [{ kind: 'prompt_accepted', data: { disposition: 'handled' } }]).effects)).toEqual(['finish']);
      expect(play(pi1, [{ kind: 'prompt_accepted', data: { disposition: 'queued' } }]).effects).toEqual([]);
    });

    it('agent_settled before our run started does not end a run pi has not accepted', () => {
      expect(play(pi1, [{ kind: 'settled' }]).effects).toEqual([]);
    });
  });

  describe('omp', () => {
    it('prompt_result for our prompt ends the run with its outcome; another prompt’s is ignored', () => {
      const outcome = { reason: 'cancelled' as const, errorMessage: undefined };
      const { run } = play(omp183, [{ kind: 'prompt_sent', id: 'p1' }, { kind: 'prompt_acked' }, { kind: 'agent_start' }]);
      expect(play(omp183, [{ kind: 'prompt_result', id: 'p9', outcome }], run).effects).toEqual([]);
      expect(play(omp183, [{ kind: 'prompt_result', id: 'p1', outcome }], run).effects).toEqual([{ kind: 'finish', outcome }]);
    });

    it('agentInvoked: false is over at once; a non-terminal agent_end is not an end', () => {
      expect(kinds(play(omp182, [{ kind: 'prompt_accepted', data: { agentInvoked: false } }]).effects)).toEqual(['finish']);
      const { run, effects } = play(omp182, [{ kind: 'prompt_acked' }, { kind: 'agent_start' }, { kind: 'agent_end', isTerminal: false }]);
      expect(kinds(effects)).toEqual(['announceStart']);
      expect(run.piEnded).toBe(false);
    });

    it('18.2: a threshold compaction with a handoff (no agent_end) is over once omp is idle', () => {
      const { run, effects } = play(omp182, [
        { kind: 'prompt_acked' },
        { kind: 'agent_start' },
        { kind: 'compaction_start' },
        { kind: 'compaction_end', auto: true },
      ]);
      expect(kinds(effects)).toEqual(['announceStart', 'askState']);
      expect(kinds(play(omp182, [{ kind: 'state', id: lastCheck(run), state: idle }], run).effects)).toEqual(['finish']);
    });

    it('18.3: isSettled false keeps it open', () => {
      const { run } = play(omp182, [{ kind: 'prompt_acked' }, { kind: 'agent_start' }, { kind: 'agent_end' }]);
      expect(play(omp182, [{ kind: 'state', id: lastCheck(run), state: { ...idle, isSettled: false } }], run).effects).toEqual([]);
    });
  });

  it('a prompt cancelled before its run started aborts now and again at agent_start', () => {
    const { run, effects } = play(pi073, [{ kind: 'cancel' }]);
    expect(kinds(effects)).toEqual(['abort']);
    expect(run.abortOnStart).toBe(true);
    const started = play(pi073, [{ kind: 'agent_start' }], run);
    expect(kinds(started.effects)).toEqual(['announceStart', 'abort']);
    expect(started.run.abortOnStart).toBe(false);
  });
});
