/**
 * The one schema of a `UsageTotals` value, in the process and on the wire: a zod codec between
 * its JSON form (`toJSON()`, what crosses a network) and the instance.
 */
import * as z from 'zod';
import { UsageTotals } from '../usage/UsageTotals.js';

/** `UsageTotals.toJSON()`: the form a `UsageTotals` crosses a network in (`totalTokens` is derived, so optional). */
export const UsageTotalsJSONSchema = z.object({
  inputTokens: z.number(),
  outputTokens: z.number(),
  cacheReadTokens: z.number(),
  cacheWriteTokens: z.number(),
  costUsd: z.number(),
  totalTokens: z.number().optional(),
});

/**
 * A `UsageTotals`: decodes an instance as it is and its JSON form into an instance
 * (`PiEventSchema.parse()` of an event that crossed a network revives its usage), and encodes an
 * instance to its JSON form (`z.encode(PiEventSchema, event)`).
 */
export const UsageTotalsSchema = z.codec(z.union([z.instanceof(UsageTotals), UsageTotalsJSONSchema]), z.instanceof(UsageTotals), {
  decode: (value) => {
    if (value instanceof UsageTotals) return value;
    const { totalTokens: _derived, ...fields } = value;
    return UsageTotals.fromJSON(fields);
  },
  encode: (usage) => usage.toJSON(),
});
