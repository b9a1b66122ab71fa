/**
 * Outbound commands (stdin). Strict schemas: we control what we send, so a typo is a bug.
 */
import * as z from 'zod';

const withId = { id: z.string().optional() };
export const ImageContentInputSchema = z.strictObject({
  type: z.literal('image'),
  data: z.string(),
  mimeType: z.string(),
});

export const PromptCommandSchema = z.strictObject({
  ...withId,
  type: z.literal('prompt'),
  message: z.string(),
  images: z.array(ImageContentInputSchema).optional(),
  streamingBehavior: z.enum(['steer', 'followUp']).optional(),
});
export const SteerCommandSchema = z.strictObject({
  ...withId,
  type: z.literal('steer'),
  message: z.string(),
  images: z.array(ImageContentInputSchema).optional(),
});
export const FollowUpCommandSchema = z.strictObject({
  ...withId,
  type: z.literal('follow_up'),
  message: z.string(),
  images: z.array(ImageContentInputSchema).optional(),
});
export const ExtensionUiResponseSchema = z.strictObject({
  type: z.literal('extension_ui_response'),
  id: z.string(),
  value: z.string().optional(),
  confirmed: z.boolean().optional(),
  cancelled: z.literal(true).optional(),
  timedOut: z.literal(true).optional(),
});

export type PromptCommand = z.infer<typeof PromptCommandSchema>;
export type SteerCommand = z.infer<typeof SteerCommandSchema>;
export type FollowUpCommand = z.infer<typeof FollowUpCommandSchema>;
export type ExtensionUiResponse = z.infer<typeof ExtensionUiResponseSchema>;
export type ImageContentInput = z.infer<typeof ImageContentInputSchema>;

/** Any command object: `type` plus its fields. `id` is assigned by the session. */
export interface PiCommand {
  readonly type: string;
  readonly id?: string;
  readonly [field: string]: unknown;
}
