/**
 * MCP servers (`PiConfig.mcpServers`): the `Record<name, server>` shape that Claude's Agent SDK,
 * Copilot and ACP clients take, validated, and the `mcp.json` pi 1.x (≥ 0.99) reads it from.
 */
import { z } from 'zod';

/** pi's rule for server names: its tools are named `mcp__<server>__<tool>` from them. */
const SERVER_NAME = /^[A-Za-z0-9_-]+$/;
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be an HTTP header name');
const headerValue = z.string().refine((value) => !/[\r\n]/.test(value), 'must not contain a line break');

/**
 * A server pi starts as a child process and talks to over its stdin and stdout. `type` may be
 * left out, as in Claude's and Copilot's configs.
 */
export const McpStdioServerSchema = z.strictObject({
  type: z.literal('stdio').optional(),
  /** One executable (not a shell command line): an absolute path or a name on pi's `PATH`. */
  command: z
    .string({ error: (issue) => (issue.input === undefined ? "a stdio server needs a command (an HTTP server needs type: 'http' and a url)" : undefined) })
    .min(1, 'must not be empty'),
  args: z.array(z.string()).optional(),
  /** Added to pi's own (scrubbed) environment for this server; values are taken literally. */
  env: z.record(envName, z.string()).optional(),
  /** Working directory of the server; a relative one is resolved against the session's cwd. */
  cwd: z.string().min(1, 'must not be empty').optional(),
});

/**
 * A remote server: `'http'` is MCP's streamable HTTP transport, `'sse'` the legacy one (accepted
 * for the shape's sake; pi 1.x has no SSE transport and refuses it).
 */
export const McpHttpServerSchema = z.strictObject({
  type: z.enum(['http', 'sse']),
  url: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }),
  /** Sent with every request (e.g. `Authorization`); values are taken literally. */
  headers: z.record(headerName, headerValue).optional(),
});

/** One MCP server: stdio (`command`) or HTTP (`type: 'http'`, `url`). */
export const McpServerSchema = z.discriminatedUnion('type', [McpStdioServerSchema, McpHttpServerSchema]);

/**
 * MCP servers by name. Names are letters, digits, `_` and `-`, and two names that differ only
 * in `-` and `_` are the same server to pi (its tools' names replace `-` by `_`).
 */
export const McpServersSchema = z
  .record(z.string().regex(SERVER_NAME, 'must be letters, digits, _ and - (an MCP server name)'), McpServerSchema)
  .superRefine((servers, context) => {
    const seen = new Map<string, string>();
    for (const name of Object.keys(servers)) {
      const key = name.replace(/-/g, '_');
      const other = seen.get(key);
      if (other !== undefined) {
        context.addIssue({ code: 'custom', path: [name], message: `is the same server as '${other}' to pi (names differing only in - and _ collide)` });
      }
      seen.set(key, name);
    }
  });

export type McpStdioServer = z.output<typeof McpStdioServerSchema>;
export type McpHttpServer = z.output<typeof McpHttpServerSchema>;
export type McpServer = z.output<typeof McpServerSchema>;
export type McpServers = Readonly<Record<string, McpServer>>;

/**
 * The top-level key that marks an `mcp.json` as pidriver's: pidriver replaces a file that has it
 * and never touches one that does not (see {@link piMcpJson}).
 */
export const PIDRIVER_MCP_JSON_MARKER = 'pidriver';

/** Whether a parsed `mcp.json` is one {@link piMcpJson} wrote. */
export function isPidriverMcpJson(json: unknown): boolean {
  return typeof json === 'object' && json !== null && !Array.isArray(json) && Object.hasOwn(json, PIDRIVER_MCP_JSON_MARKER);
}

/**
 * The `mcp.json` pi 1.x reads from its agent dir for these servers. Every server gets pi's
 * `direct` exposure (the model sees its tools as `mcp__<server>__<tool>`, as with Claude's SDK;
 * pi's default would hide them behind its `codemode` tool, which `--no-extensions` leaves out),
 * and every `env` and `headers` value is escaped so that pi takes it literally (pi expands
 * `$NAME` / `${NAME}` and runs a value that starts with `!` as a shell command).
 *
 * ```ts
 * piMcpJson({ stock: { command: '/usr/bin/node', args: ['server.mjs'] } });
 * // { pidriver: '…', mcpServers: { stock: { command: '/usr/bin/node', args: ['server.mjs'], exposure: 'direct' } } }
 * ```
 *
 * @param servers Validated servers, none of them `type: 'sse'` (pi has no SSE transport).
 * @returns The JSON value to write to `<agentDir>/mcp.json`.
 */
export function piMcpJson(servers: McpServers): Record<string, unknown> {
  const mcpServers: Record<string, unknown> = {};
  for (const [name, server] of Object.entries(servers)) {
    if ('url' in server) {
      const { url, headers } = server;
      mcpServers[name] = { type: 'http', url, ...(headers ? { headers: literalValues(headers) } : {}), exposure: 'direct' };
    } else {
      const { command, args, env, cwd } = server;
      mcpServers[name] = {
        command,
        ...(args ? { args } : {}),
        ...(env ? { env: literalValues(env) } : {}),
        ...(cwd !== undefined ? { cwd } : {}),
        exposure: 'direct',
      };
    }
  }
  return { [PIDRIVER_MCP_JSON_MARKER]: 'written from PiConfig.mcpServers; pidriver rewrites it when a session starts', mcpServers };
}

/** Escapes each value for pi's config-value syntax: `$$` is a literal `$`, and `$!` a literal `!`. */
function literalValues(values: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, value.replace(/\$/g, '$$$$').replace(/^!/, '$$!')]));
}
