/**
 * The options and the observable state of a transcript replay ({@link ReplayTransport}).
 */
import type { SchedulerLike } from 'rxjs';
import type { ExitInfo } from '../../transport/PiTransport.js';
import type { SentCommand } from '../FakeTransport.js';

/** How fast records are released. */
export type ReplayTiming = 'asap' | 'recorded';

/** Context given to {@link ReplayTranscriptOptions.unmatched}, as of the moment the answer is released. */
export interface UnmatchedContext {
  /**
   * The `get_state` data to answer from: the last one released, else the transcript's first,
   * else {@link ReplayTranscriptOptions.state}, else a minimal idle state (with the model of the
   * `spawn` note's `--provider`/`--model` flags, if any).
   */
  readonly state: Readonly<Record<string, unknown>>;
  /**
   * Whether the recorded pi was in a run at this point of the recording: from a successful
   * `prompt` response that starts a run (pi sets `isStreaming` before it writes that response)
   * or an `agent_start`, until the next `agent_end`.
   */
  readonly streaming: boolean;
}

/** Options of {@link replayTranscript}. */
export interface ReplayTranscriptOptions {
  /**
   * `'asap'` (default): each record is released one macrotask after the previous one, as fast as
   * the session consumes them, in recorded order. `'recorded'`: wait out the recorded `t` gaps on
   * {@link scheduler} (a `TestScheduler` makes them virtual).
   */
  readonly timing?: ReplayTiming;
  /** Scheduler for releases. Default: `setImmediate` for `'asap'`, `asyncScheduler` for `'recorded'`. */
  readonly scheduler?: SchedulerLike;
  /** `get_state` data for synthesized answers when the transcript recorded none. */
  readonly state?: Readonly<Record<string, unknown>>;
  /**
   * Recorded time a synthesized answer takes: lines recorded less than this after the line that
   * triggered the command are released first (pi writes `auto_retry_start` in the same tick as
   * `agent_end`). Default 1 ms.
   */
  readonly replyLatencyMs?: number;
  /**
   * Answers a command no recorded `in` line matches; returns the frames to write. It is called
   * when the answer is due (see {@link replyLatencyMs}). The default answers `get_state` from
   * {@link UnmatchedContext.state} with `isStreaming` set to {@link UnmatchedContext.streaming}
   * (so `false` whenever the recorded pi was idle, e.g. after each `agent_end`) and
   * `isCompacting: false`, ignores `extension_ui_response` (pi never answers those), and fails
   * anything else with `success: false` and an error saying the transcript has no answer for it.
   */
  readonly unmatched?: (command: SentCommand, context: UnmatchedContext) => readonly object[];
  /** The pid to report. Default 424242. */
  readonly pid?: number;
  /** Name used in error messages. Default: the path, or `transcript`. */
  readonly name?: string;
}

/**
 * Where the replay waits next:
 * - `in`: for the session to send a command matching recorded `in` line `index`;
 * - `eof`: for `close()` (a `close stdin` note);
 * - `end`: nothing left: the process exited (`exit`), or the transcript ends without an exit.
 */
export type ReplayGate =
  | { readonly kind: 'in'; readonly index: number; readonly line: string; readonly command: SentCommand }
  | { readonly kind: 'eof'; readonly index: number }
  | { readonly kind: 'end'; readonly exit: ExitInfo | undefined };

/** Something the session did that the transcript did not (the log of {@link ReplayTransport.deviations}). */
export type ReplayDeviation =
  /** A sent command had no recorded match; `answered` says whether frames were written for it. */
  | { readonly kind: 'unmatched'; readonly type: string; readonly id: string | undefined; readonly answered: boolean }
  /** A sent command matched a later `in` of the same burst (recorded back to back) than the next one. */
  | { readonly kind: 'reordered'; readonly type: string; readonly index: number }
  /** A recorded `in` line was not played: `unsendable` (a session can't write it), `skip()`, or `close` (closed before it). */
  | { readonly kind: 'skipped'; readonly index: number; readonly line: string; readonly reason: 'unsendable' | 'skip' | 'close' }
  /** A recorded response to a skipped command was dropped. */
  | { readonly kind: 'dropped'; readonly index: number; readonly id: string }
  /** `close()` came before the transcript's `close stdin`: this many out/err/exit records were not played. */
  | { readonly kind: 'closed-early'; readonly dropped: number };
