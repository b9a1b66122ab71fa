import type * as z from 'zod';
import type { RunLimits } from '../limits/RunLimits.js';
import type { PromptImage } from '../protocol/sessionValues.js';

// The session's plain values live in the protocol layer, shared with the wire and the browser.
export type { PromptImage, RunResult, SessionState, SessionStatus } from '../protocol/sessionValues.js';

export interface PromptOptions<S extends z.ZodType = z.ZodType<unknown>> {
  readonly images?: readonly PromptImage[];
  /**
   * Cancels the prompt, as `fetch` does: when the signal aborts, the promise rejects with
   * `signal.reason` at once, a queued prompt is dropped and a started run is aborted. An
   * already-aborted signal rejects at once and sends nothing.
   */
  readonly signal?: AbortSignal;
  /**
   * Structured output: a zod object schema. The model is offered a result tool (`submit_result`)
   * with this schema as its parameters for this run; a valid call ends the run with
   * `result.output` set (parsed by the schema), an invalid one goes back to the model as a tool
   * error naming what is wrong. A run that ends without a valid result asks again, up to
   * `outputAttempts` failed tries; then it ends with `reason: 'error'` and `errorCode`
   * `structured_output_invalid` or `structured_output_missing`.
   */
  readonly output?: S;
  /** Failed tries (invalid results, runs ended without one) before a structured-output run gives up. Default 3. */
  readonly outputAttempts?: number;
  /**
   * Limits of this run, over the session's (`client.start({ limits })`) field by field: past one,
   * pidriver aborts the run and it ends with `reason: 'limit'` and `limit` naming it.
   */
  readonly limits?: RunLimits;
}
