/**
 * `hostTool()`: a tool the agent calls and the host runs, in its own process.
 */
import type { ObservableInput } from 'rxjs';
import * as z from 'zod';
import { PiConfigError } from '../errors.js';
import type { PiSession } from '../session/PiSession.js';

/** A part of a tool result: text, or an image (base64, no data-URL prefix). */
export type HostToolContent = { readonly type: 'text'; readonly text: string } | { readonly type: 'image'; readonly data: string; readonly mimeType: string };

/**
 * What a host tool's `execute` gives back: a string (the text the model sees), or the content
 * with `details` (shown to the host on `tool_end`, not to the model) and `isError` (the model
 * sees a failed call).
 */
export type HostToolResult =
  | string
  | {
      readonly content: string | readonly HostToolContent[];
      readonly details?: unknown;
      readonly isError?: boolean;
    };

/** What `execute` gets besides the arguments. */
export interface HostToolContext<S = PiSession> {
  /** Aborts when the run is aborted, the call is cancelled or the session closes. */
  readonly signal: AbortSignal;
  /** The session whose agent called the tool. */
  readonly session: S;
  /** pi's id of this call (the `toolCallId` of its `tool_start` / `tool_end` events). */
  readonly toolCallId: string;
}

/**
 * What `execute` returns: a result, a promise of one, or any `ObservableInput` of them (an
 * Observable, an async iterable…): each value before the last is progress (a `tool_update`
 * event), the last is the result.
 */
export type HostToolOutput = HostToolResult | ObservableInput<HostToolResult>;

/** The definition {@link hostTool} takes. */
export interface HostToolDefinition<S extends z.ZodType, Session = PiSession> {
  /** The name the model calls it by: letters, digits, `_` and `-`, at most 64 characters. */
  readonly name: string;
  /** What the tool does, for the model. */
  readonly description: string;
  /** A short human-readable name (pi's UI label); default the name. */
  readonly label?: string;
  /** The arguments: their JSON Schema is what the model sees, and each call is validated with it before `execute`. */
  readonly parameters: S;
  /** Runs one call, in the host process, with the parsed arguments. */
  execute(args: z.output<S>, context: HostToolContext<Session>): HostToolOutput;
}

/** A tool the host runs: made by {@link hostTool}, passed to `client.start({ tools })`. */
export interface HostTool<A = unknown, Session = PiSession> {
  readonly name: string;
  readonly description: string;
  readonly label: string;
  /** The zod schema of the arguments. */
  readonly parameters: z.ZodType<A>;
  /** The JSON Schema the model sees (`z.toJSONSchema` of `parameters`, as an input schema). */
  readonly jsonSchema: Readonly<Record<string, unknown>>;
  execute(args: A, context: HostToolContext<Session>): HostToolOutput;
}

/** A host tool of any arguments (each one validates its own), as `client.start({ tools })` takes them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the arguments of each tool are checked by its own schema
export type AnyHostTool = HostTool<any, PiSession>;

const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Defines a tool the agent can call and the host runs: in the host process, with the parsed
 * arguments and an `AbortSignal`. The model sees its description and the JSON Schema of
 * `parameters`; a call whose arguments don't match never reaches `execute` (the model gets a tool
 * error naming the field), and a throw or rejection becomes a tool error, never a crashed session.
 *
 * ```ts
 * const lookup = hostTool({
 *   name: 'lookup_stock',
 *   description: 'Looks up how many units of a SKU are in stock.',
 *   parameters: z.object({ sku: z.string() }),
 *   execute: async ({ sku }, { signal }) => `${await stock(sku, { signal })} units of ${sku}`,
 * });
 * await client.start({ cwd, tools: [lookup] });
 * ```
 *
 * @param definition The name, description, zod parameters and `execute`.
 * @return The tool, for `client.start({ tools })`.
 * @throws {PiConfigError} a name the providers refuse, an empty description, or parameters that
 *   are not an object schema.
 */
export function hostTool<S extends z.ZodType, Session = PiSession>(definition: HostToolDefinition<S, Session>): HostTool<z.output<S>, Session> {
  const { name, description, parameters } = definition;
  if (typeof name !== 'string' || !TOOL_NAME.test(name)) {
    throw new PiConfigError(`hostTool: name must be 1-64 letters, digits, "_" or "-" (got ${JSON.stringify(name)})`, { field: 'tools.name' });
  }
  if (typeof description !== 'string' || description.trim() === '') {
    throw new PiConfigError(`hostTool ${name}: description must be a non-empty string`, { field: `tools.${name}.description` });
  }
  if (typeof definition.execute !== 'function') throw new PiConfigError(`hostTool ${name}: execute must be a function`, { field: `tools.${name}.execute` });
  return {
    name,
    description,
    label: definition.label ?? name,
    parameters: parameters as z.ZodType<z.output<S>>,
    jsonSchema: objectJsonSchema(parameters, `tools.${name}.parameters`),
    execute: (args, context) => definition.execute(args, context),
  };
}

/**
 * The JSON Schema of a zod object schema, as tool parameters: the input side, without `$schema`.
 *
 * @throws {PiConfigError} naming `field` when it is not an object schema.
 * @internal
 */
export function objectJsonSchema(schema: z.ZodType, field: string): Readonly<Record<string, unknown>> {
  if (!(schema instanceof z.ZodType)) throw new PiConfigError(`${field} must be a zod schema`, { field });
  let json: Record<string, unknown>;
  try {
    json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  } catch (error) {
    throw new PiConfigError(`${field} has no JSON Schema: ${error instanceof Error ? error.message : String(error)}`, { field, cause: error });
  }
  if (json['type'] !== 'object') throw new PiConfigError(`${field} must be an object schema (z.object(…)); the model passes named arguments`, { field });
  const { $schema: _schema, ...rest } = json;
  return Object.freeze(rest);
}

/**
 * Why arguments don't fit a schema, for the model: each issue with the path of its field.
 *
 * @internal
 */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(arguments)'}: ${issue.message}`).join('; ');
}
