/**
 * Structured output: the result tool offered for one prompt's run (`prompt(text, { output })`).
 */
import type * as z from 'zod';
import { PiConfigError } from '../errors.js';
import type { ToolSpec } from '../protocol/hostCalls.js';
import { objectJsonSchema } from './hostTool.js';

/** The name of the result tool the model calls with its structured result. */
export const OUTPUT_TOOL_NAME = 'submit_result';

/** How many failed tries (an invalid call, or a run ended without a call) end the run, by default. */
export const DEFAULT_OUTPUT_ATTEMPTS = 3;

/** A prompt's structured output: the schema, the tool the model sees, how many tries it gets. @internal */
export interface OutputRequest {
  readonly schema: z.ZodType;
  readonly spec: ToolSpec;
  readonly maxAttempts: number;
}

/**
 * The result tool for a schema.
 *
 * @throws {PiConfigError} (`field: 'output'`) when the schema is not an object schema, or
 *   `outputAttempts` is not a positive integer.
 * @internal
 */
export function outputRequest(schema: z.ZodType, maxAttempts = DEFAULT_OUTPUT_ATTEMPTS): OutputRequest {
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new PiConfigError(`outputAttempts must be a positive integer (got ${String(maxAttempts)})`, { field: 'outputAttempts' });
  }
  return {
    schema,
    maxAttempts,
    spec: {
      name: OUTPUT_TOOL_NAME,
      label: 'Submit result',
      description:
        'Submits the final result of this task. Call it exactly once, when you are done, with the result as its arguments; the task ends with this call.',
      parameters: objectJsonSchema(schema, 'output'),
    },
  };
}

/** What pidriver says to the model when a run ended without a valid result. @internal */
export function askAgainText(lastError: string | undefined): string {
  const why = lastError === undefined ? 'You did not submit the result.' : `Your last ${OUTPUT_TOOL_NAME} call was invalid: ${lastError}.`;
  return `${why} Call the ${OUTPUT_TOOL_NAME} tool now, with the final result as its arguments.`;
}
