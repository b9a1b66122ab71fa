/**
 * The request bodies of the wire contract (what a client posts to the bridge). Strict: we
 * control both ends, so an unknown field is a bug.
 */
import * as z from 'zod';

export const PromptImageSchema = z.strictObject({
  type: z.literal('image'),
  /** Base64, no data-URL prefix. */
  data: z.string(),
  mimeType: z.string(),
});

/**
 * `POST …/prompt`. With `Accept: text/event-stream` the answer is an SSE stream of that run's
 * events (`session.prompt$`: the client going away aborts the run); otherwise the JSON
 * `RunResult` once the run ends (`session.prompt`), and `cancelOnDisconnect: true` cancels the
 * prompt if the client goes away first.
 */
export const PromptBodySchema = z.strictObject({
  text: z.string().min(1),
  images: z.array(PromptImageSchema).optional(),
  cancelOnDisconnect: z.boolean().optional(),
});
export type PromptBody = z.infer<typeof PromptBodySchema>;

/** `POST …/abort`: an empty body or `{}`. */
export const AbortBodySchema = z.strictObject({});

/** A `Decision` object, as `session.respond()` takes it. */
export const DecisionWireSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('allow') }),
  z.strictObject({ kind: z.literal('allowAlways') }),
  z
    .strictObject({ kind: z.literal('deny'), message: z.string().optional() })
    // Absent, not `message: undefined` (exactOptionalPropertyTypes): a `DenyDecision`.
    .transform((deny) => (deny.message === undefined ? { kind: 'deny' as const } : { kind: 'deny' as const, message: deny.message })),
  z.strictObject({ kind: z.literal('answer'), value: z.string() }),
  z.strictObject({ kind: z.literal('cancel') }),
  z.strictObject({ kind: z.literal('defer') }),
]);

/**
 * `POST …/respond`: `session.respond(requestId, value)`. `value` as `respond()` takes it (a
 * decision, `true`/`false`, a string, an option index); `null` or absent → cancel.
 */
export const RespondBodySchema = z.strictObject({
  requestId: z.string().min(1),
  value: z.union([DecisionWireSchema, z.boolean(), z.string(), z.number(), z.null()]).optional(),
});
export type RespondBody = z.infer<typeof RespondBodySchema>;
