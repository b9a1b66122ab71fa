/**
 * The plain values a session hands out (`SessionState`, `RunResult`) and takes (`PromptImage`).
 * They live with the events because they cross the same boundaries: a local `PiSession` and a
 * `pidriver/browser` `RemoteSession` (through `src/wire/`) give the same shapes.
 */
import type { ExitDetails } from '../errors.js';
import type { UsageTotals } from '../usage/UsageTotals.js';
import type { AgentEndReason } from './events.js';

/** Lifecycle of a session. */
export type SessionStatus = 'starting' | 'idle' | 'running' | 'restarting' | 'closing' | 'closed';

/** A snapshot of a session, as `state$` emits it. */
export interface SessionState {
  readonly status: SessionStatus;
  readonly sessionId: string;
  /** pi's own session id (from `get_state`). */
  readonly piSessionId: string | undefined;
  /** `provider/id` of the current model. */
  readonly model: string | undefined;
  readonly cwd: string;
  /** Runs finished so far. */
  readonly runs: number;
  /**
   * Events emitted so far (the last `seq`), as of this snapshot. `session.state` and a new
   * `state$` subscriber always see the current count; `state$` does not emit for it alone.
   */
  readonly eventCount: number;
  /** Interaction requests waiting for an answer. */
  readonly pendingRequests: number;
  /** Prompts waiting for the current run to end. */
  readonly queuedPrompts: number;
  readonly usage: UsageTotals;
  /** Times pi died on its own and was restarted (`restart`). */
  readonly restarts: number;
  /** Set once the process is gone (the transport's `ExitInfo`). */
  readonly exit: ExitDetails | undefined;
}

/** What `prompt()` resolves with when its run ends. */
export interface RunResult<O = unknown> {
  /** Text of the run's last assistant message. */
  readonly finalText: string;
  readonly reason: AgentEndReason;
  /** The provider's error text when `reason` is `error`; what was wrong for a `limit` or invalid structured output. */
  readonly errorMessage?: string;
  /** What ended the run, when pidriver did: `structured_output_invalid` (the model's last result did not fit the schema), `structured_output_missing` (it never called the result tool). */
  readonly errorCode?: string;
  /** The limit that ended the run (`reason: 'limit'`): `maxTurns`, `maxTokens`, `maxCostUsd`, `stallTimeoutMs` or `toolStallTimeoutMs` (a `LimitName`). */
  readonly limit?: string;
  /** The structured output of `prompt(text, { output })`, parsed by its schema; set when the model submitted a valid result. */
  readonly output?: O;
  /** Tokens and cost of this run. */
  readonly usage: UsageTotals;
}

/** An image attached to a prompt (base64, no data-URL prefix). */
export interface PromptImage {
  readonly type: 'image';
  readonly data: string;
  readonly mimeType: string;
}
