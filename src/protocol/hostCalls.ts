/**
 * How pidriver's pi extension and the host talk about host tools and structured output (see
 * `src/extension/approval.ts`, which restates these strings: it imports nothing at runtime).
 *
 * - A call of a host tool (or of a run's result tool) is an `input` dialog titled
 *   `pidriver:host_call <nonce>` whose placeholder is a {@link HostCallRequest} (JSON). The host
 *   answers each with a {@link HostCallAnswer} (JSON, the dialog's value): progress
 *   (`kind: 'update'`, after which the extension asks `op: 'next'`), then the result.
 * - A prompt that offers a result tool starts with `<pidriver-run nonce="<nonce>">{json}</pidriver-run>\n`.
 *
 * The nonce is random per pi process: another extension's dialog, or a prompt typed by a user,
 * can't pass for one of these.
 */
import * as z from 'zod';

/** The title of a host-call dialog, before the nonce. */
export const HOST_CALL_TITLE = 'pidriver:host_call';

/** The JSON in a host-call dialog's placeholder. */
export const HostCallRequestSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('call'), toolCallId: z.string(), name: z.string(), args: z.unknown() }),
  z.object({ op: z.literal('next'), toolCallId: z.string() }),
]);
export type HostCallRequest = z.infer<typeof HostCallRequestSchema>;

/** Content of a tool result, as pi and omp carry it. */
export type ToolResultContent = { readonly type: 'text'; readonly text: string } | { readonly type: 'image'; readonly data: string; readonly mimeType: string };

/** The host's answer to one host-call dialog. */
export type HostCallAnswer =
  | { readonly kind: 'update'; readonly content: readonly ToolResultContent[]; readonly details?: unknown }
  | {
      readonly kind: 'result';
      readonly content: readonly ToolResultContent[];
      readonly details?: unknown;
      readonly isError?: boolean;
      /** Ends the agent's loop after this tool batch (pi ≥ 0.73: a valid structured-output result). */
      readonly terminate?: boolean;
    };

/** A failed call: the model sees `message` as the tool's error. */
export function toolErrorAnswer(message: string): HostCallAnswer {
  return { kind: 'result', content: [{ type: 'text', text: message }], isError: true };
}

/** The title of this pi's host-call dialogs. */
export function hostCallTitle(nonce: string): string {
  return `${HOST_CALL_TITLE} ${nonce}`;
}

/** A tool as the extension registers it: its JSON Schema as parameters. */
export interface ToolSpec {
  readonly name: string;
  readonly label?: string;
  readonly description: string;
  readonly parameters: Readonly<Record<string, unknown>>;
}

/** What a prompt's run marker carries. */
export interface RunMarker {
  /** The result tool offered for this prompt. */
  readonly output?: ToolSpec;
}

/** `message` with the run marker in front, for pidriver's extension in the pi with this nonce. */
export function withRunMarker(nonce: string, run: RunMarker, message: string): string {
  return `<pidriver-run nonce="${nonce}">${JSON.stringify(run)}</pidriver-run>\n${message}`;
}
