import type { PromptImage } from '../protocol/sessionValues.js';

// The session's plain values live in the protocol layer, shared with the wire and the browser.
export type { PromptImage, RunResult, SessionState, SessionStatus } from '../protocol/sessionValues.js';

export interface PromptOptions {
  readonly images?: readonly PromptImage[];
  /**
   * Cancels the prompt, as `fetch` does: when the signal aborts, the promise rejects with
   * `signal.reason` at once, a queued prompt is dropped and a started run is aborted. An
   * already-aborted signal rejects at once and sends nothing.
   */
  readonly signal?: AbortSignal;
}
