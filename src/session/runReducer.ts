import type { Dialect } from '../config/PiConfig.js';
import type { RunResult } from './types.js';

/**
 * Where a run ends, for all three dialects, in one place: a pure reducer from what pi said (frames
 * and command answers) to the run's next state and what the session must do about it.
 *
 * A *run* is ours from the `prompt` (or an `agent_start` we did not cause) to the `agent_end`
 * pidriver emits. pi may run several times inside it (a retry after pi 0.73's `agent_end`, an
 * auto-compaction), and the dialects say "over" differently:
 *
 * - **pi 0.73** (and omp 18.2) has no "settled" frame: after an `agent_end` the run is over once a
 *   `get_state` asked after it says pi is neither streaming nor compacting, and no retry or
 *   compaction was announced (`auto_retry_start` comes in the same tick as `agent_end`, so before
 *   that answer). A prompt accepted without an `agent_start` may be an extension command that is
 *   done already: ask too.
 * - **pi 1.x** (≥ 0.80.4) sends `agent_settled`; its prompt answer says `disposition`
 *   (`handled`: no run follows).
 * - **omp 18.3** sends `prompt_result` for our prompt and `session_settled`; `agentInvoked: false`
 *   means no run follows. omp 18.2's threshold compaction with a handoff never sends that run's
 *   `agent_end`: once omp is idle after it, the run is over.
 *
 * @internal
 */
export interface RunState {
  /** The id of the `prompt` that started it (omp's `prompt_result` and late refusals carry it). */
  readonly promptId: string | undefined;
  /** pi accepted the prompt (or the run is one pi started on its own). */
  readonly acked: boolean;
  /** pi's first `agent_start` of this run came (pidriver's `agent_start` was emitted). */
  readonly started: boolean;
  /** pi's last `agent_end` came, and no `agent_start` after it. */
  readonly piEnded: boolean;
  /** pi announced a retry (`auto_retry_start`, or `willRetry`) that has not ended. */
  readonly retryPending: boolean;
  /** pi announced a compaction that has not ended. */
  readonly compactionPending: boolean;
  /** The state check in flight: only the answer to the last one asked counts. */
  readonly check: { readonly id: number; readonly withoutAgentEnd: boolean } | undefined;
  /** How many checks were asked (their ids). */
  readonly checks: number;
  /** Cancelled before pi started it: abort as soon as it starts (pi ignores an abort before that). */
  readonly abortOnStart: boolean;
}

/** What pi said that matters to the end of a run. @internal */
export type RunInput =
  | { readonly kind: 'prompt_sent'; readonly id: string | undefined }
  /** pi's `response` to our prompt, success (seen as the frame arrives: what follows may be in the same chunk). */
  | { readonly kind: 'prompt_acked' }
  /** The prompt command resolved with pi's `data`. */
  | { readonly kind: 'prompt_accepted'; readonly data: unknown }
  | { readonly kind: 'agent_start' }
  /** pi's `agent_end` (`frame` absent: one that was too long to read, or that omp could not send). */
  | { readonly kind: 'agent_end'; readonly isTerminal?: boolean | null | undefined; readonly willRetry?: boolean | null | undefined }
  | { readonly kind: 'settled' }
  | { readonly kind: 'prompt_result'; readonly id: string | undefined; readonly outcome: RunOutcome }
  | { readonly kind: 'retry_start' }
  | { readonly kind: 'retry_end' }
  | { readonly kind: 'compaction_start' }
  /** `handoff`: omp 18.2's threshold compaction, which replaces the session and sends no `agent_end`. */
  | { readonly kind: 'compaction_end'; readonly auto: boolean }
  /** The answer to state check `id`. */
  | { readonly kind: 'state'; readonly id: number; readonly state: PiBusyState }
  /** The host cancelled the run's prompt. */
  | { readonly kind: 'cancel' };

/** The fields of pi's `get_state` answer the run-end rule reads. @internal */
export interface PiBusyState {
  readonly isStreaming?: boolean | null | undefined;
  readonly isCompacting?: boolean | null | undefined;
  /** omp 18.3: `false` while queued input or background work remains. */
  readonly isSettled?: unknown;
}

/** How a run ended when the last assistant message doesn't tell (omp's `prompt_result`). @internal */
export interface RunOutcome {
  readonly reason: RunResult['reason'];
  readonly errorMessage: string | undefined;
}

/** What the session must do. @internal */
export type RunEffect =
  /** Send `get_state` and feed its answer back as `{ kind: 'state', id }`. */
  | { readonly kind: 'askState'; readonly id: number }
  /** The run is over. */
  | { readonly kind: 'finish'; readonly outcome?: RunOutcome | undefined }
  /** pi started the run: emit pidriver's `agent_start` (a new replay window). */
  | { readonly kind: 'announceStart' }
  /** Abort pi's run (it was cancelled before it started). */
  | { readonly kind: 'abort' };

/** What the reducer knows of the pi it talks to. @internal */
export interface RunContext {
  readonly dialect: Dialect;
  /** This pi says itself when a run is settled (`agent_settled`, `prompt_result`): no state checks after `agent_end`. */
  readonly endsRunsItself: boolean;
}

/** The result of one step. @internal */
export interface RunStep {
  readonly run: RunState;
  readonly effects: readonly RunEffect[];
}

/** A new run: for our prompt (`acked: false`), or one pi started on its own (`acked: true`). @internal */
export function newRun(acked: boolean): RunState {
  return {
    promptId: undefined,
    acked,
    started: false,
    piEnded: false,
    retryPending: false,
    compactionPending: false,
    check: undefined,
    checks: 0,
    abortOnStart: false,
  };
}

const NONE: readonly RunEffect[] = [];

/**
 * One step of a run: `input` in, the next state and the effects out. Pure: no I/O, no clock.
 *
 * @param run The run so far.
 * @param input What pi said.
 * @param context Which pi it is.
 * @return The next state and what to do.
 * @internal
 */
export function reduceRun(run: RunState, input: RunInput, context: RunContext): RunStep {
  switch (input.kind) {
    case 'prompt_sent':
      return same({ ...run, promptId: input.id });
    case 'prompt_acked':
      return same(run.acked ? run : { ...run, acked: true });
    case 'prompt_accepted':
      return onPromptAccepted({ ...run, acked: true }, input.data, context);
    case 'agent_start': {
      if (run.started) return same({ ...run, piEnded: false }); // a retry or continuation inside the same run
      const started: RunState = { ...run, started: true, piEnded: false, abortOnStart: false };
      return { run: started, effects: run.abortOnStart ? [{ kind: 'announceStart' }, { kind: 'abort' }] : [{ kind: 'announceStart' }] };
    }
    case 'agent_end': {
      // omp: a non-terminal agent_end is followed by more of the same run; pi 1.x: willRetry
      // announces the retry that follows (auto_retry_start settles it again).
      if (input.isTerminal === false) return same(run);
      const ended: RunState = { ...run, piEnded: true, retryPending: run.retryPending || input.willRetry === true };
      return context.endsRunsItself ? same(ended) : askState(ended, false);
    }
    case 'settled':
      return run.acked && (run.piEnded || !run.started) ? finish(run) : same(run);
    case 'prompt_result':
      if (input.id !== undefined && run.promptId !== undefined && input.id !== run.promptId) return same(run);
      return finish(run, input.outcome);
    case 'retry_start':
      return same({ ...run, retryPending: true });
    case 'retry_end': {
      const next: RunState = { ...run, retryPending: false };
      return next.piEnded ? askState(next, false) : same(next);
    }
    case 'compaction_start':
      return same({ ...run, compactionPending: true });
    case 'compaction_end': {
      const next: RunState = { ...run, compactionPending: false };
      // omp 18.2's threshold compaction with a handoff never sends that run's agent_end.
      const handoff = input.auto && context.dialect === 'omp' && next.started;
      return next.piEnded || handoff ? askState(next, handoff) : same(next);
    }
    case 'state':
      return onState(run, input.id, input.state);
    case 'cancel':
      // pi ignores an abort that arrives before its run has started: repeat it at agent_start.
      return { run: run.started ? run : { ...run, abortOnStart: true }, effects: [{ kind: 'abort' }] };
  }
}

/** The prompt was accepted. What happens next depends on what pi said and which pi it is. */
function onPromptAccepted(run: RunState, data: unknown, context: RunContext): RunStep {
  if (run.started) return same(run);
  const fields = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
  // pi 1.x "handled" (an extension command) and omp's `agentInvoked: false` mean no run follows.
  if (fields['disposition'] === 'handled' || fields['agentInvoked'] === false) return finish(run);
  // pi 1.x said "started" (agent_start follows) or "queued" (it runs later). omp answers a prompt
  // before it even ran its preflight: the run, a refusal (a second response with the same id) or a
  // prompt_result follows. pi 0.73 answers after preflight, so a prompt without agent_start may be
  // an extension command that is already done: ask.
  if (typeof fields['disposition'] === 'string' || context.dialect === 'omp') return same(run);
  return askState(run, false);
}

/** A state check answered: over if pi is idle and nothing is announced (see {@link RunState}). */
function onState(run: RunState, id: number, state: PiBusyState): RunStep {
  const check = run.check;
  if (check === undefined || check.id !== id) return same(run); // an older check: a newer one is asked
  const answered: RunState = { ...run, check: undefined };
  if (answered.retryPending || answered.compactionPending) return same(answered);
  if (state.isStreaming === true || state.isCompacting === true) return same(answered);
  if (state.isSettled === false) return same(answered); // omp 18.3: session_settled will come
  if (answered.started && !answered.piEnded && !check.withoutAgentEnd) return same(answered);
  if (!answered.acked) return same(answered);
  return finish(answered);
}

function askState(run: RunState, withoutAgentEnd: boolean): RunStep {
  const id = run.checks + 1;
  return { run: { ...run, checks: id, check: { id, withoutAgentEnd } }, effects: [{ kind: 'askState', id }] };
}

function finish(run: RunState, outcome?: RunOutcome): RunStep {
  return { run, effects: [outcome === undefined ? { kind: 'finish' } : { kind: 'finish', outcome }] };
}

function same(run: RunState): RunStep {
  return { run, effects: NONE };
}
