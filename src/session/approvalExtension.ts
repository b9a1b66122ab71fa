import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PiConfig } from '../config/PiConfig.js';
import { PiConfigError } from '../errors.js';
import type { ToolSpec } from '../protocol/hostCalls.js';
import { OUTPUT_TOOL_NAME } from '../tools/outputTool.js';

/** Which tool calls pidriver's approval extension asks the host about. */
export type ApproveSetting = 'all' | 'none' | readonly string[];

/** By default: the tools that can write or execute. */
export const DEFAULT_APPROVE: readonly string[] = Object.freeze(['bash', 'edit', 'write']);

/**
 * The absolute path of the pi extension that asks the host before each guarded tool call (pi
 * has no built-in approvals): `config.approvalExtensionPath` when set, else the file shipped
 * with pidriver. In the published package that is `dist/extension/approval.js` next to the
 * bundle; from a source checkout it is `src/extension/approval.ts` (pi loads TypeScript
 * extensions itself).
 *
 * @param config Its `approvalExtensionPath`, if any (with a `launcher` it names a file on the
 *   other side and is not checked here).
 * @throws {PiConfigError} (`field: 'approvalExtensionPath'`) when the file is not there, e.g.
 *   after a bundler moved pidriver's code away from it.
 */
export function approvalExtensionPath(config?: PiConfig): string {
  const configured = config?.approvalExtensionPath;
  if (configured !== undefined) {
    if (config?.launcher !== undefined || existsSync(configured)) return configured;
    throw new PiConfigError(`PiConfig.approvalExtensionPath: pidriver's approval extension is not at ${configured}`, {
      field: 'approvalExtensionPath',
    });
  }
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, 'extension', 'approval.js'), // dist/index.js, dist/chunk-*.js
    join(here, '..', 'extension', 'approval.js'),
    join(here, '..', 'extension', 'approval.ts'), // src/session/*.ts
  ];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) {
    throw new PiConfigError(
      `pidriver's approval extension is missing (looked for ${candidates.join(', ')}). If a bundler moved pidriver's code, ` +
        "copy pidriver's dist/extension/approval.js and set PiConfig.approvalExtensionPath to it, or pass approve: 'none'",
      { field: 'approvalExtensionPath' },
    );
  }
  return found;
}

/** What pidriver's extension is given besides the approval setting. @internal */
export interface ExtensionOptions {
  /** Register the `ask_user` tool. */
  readonly askTool?: boolean;
  /** Host tools, as the model sees them. */
  readonly tools?: readonly ToolSpec[];
  /** The token of this pi's host calls and run markers. */
  readonly nonce?: string;
}

/** Tool names a host tool can't take: pi's built-ins and pidriver's own. */
const RESERVED_TOOL_NAMES: ReadonlySet<string> = new Set(['read', 'bash', 'edit', 'write', 'grep', 'find', 'ls', 'ask_user', OUTPUT_TOOL_NAME]);
/** Over this, the tool list would not fit in one environment variable (Linux: 128 KiB per string). */
const MAX_TOOLS_JSON_BYTES = 100 * 1024;

/**
 * The config with pidriver's extension wired in: for pi, the extension (`-e`, which loads even
 * with `--no-extensions`) with `PIDRIVER_APPROVE`, the host tools and the nonce of its host calls;
 * for omp, its built-in `--approval-mode always-ask` (omp asks with the same `Approve`/`Deny`
 * select; its host tools are set over RPC).
 *
 * `askTool` also registers the extension's `ask_user` tool (the model asks the host a question
 * through `ctx.ui.input`): off by default, since it changes the tools the model sees.
 *
 * @throws {PiConfigError} (`field: 'tools'`) two host tools with one name, a name of a built-in
 *   tool, or schemas too large to pass.
 */
export function withApprovals(config: PiConfig, approve: ApproveSetting, options: ExtensionOptions = {}): PiConfig {
  const tools = approve === 'all' || approve === 'none' ? approve : [...approve];
  const guards = !(tools === 'none' || (Array.isArray(tools) && tools.length === 0));
  const hostTools = options.tools ?? [];
  checkToolNames(hostTools);
  if (config.dialect === 'omp' || (config.dialect === undefined && (config.binary === 'omp' || config.binary.endsWith('/omp')))) {
    if (!guards || config.extraArgs.includes('--approval-mode')) return config;
    return config.with({ extraArgs: [...config.extraArgs, '--approval-mode', 'always-ask'] });
  }
  const needed = guards || options.askTool === true || hostTools.length > 0;
  if (!needed && options.nonce === undefined) return config;
  const toolsJson = JSON.stringify(hostTools);
  if (Buffer.byteLength(toolsJson) > MAX_TOOLS_JSON_BYTES) {
    throw new PiConfigError(`tools: the host tools' schemas take ${Buffer.byteLength(toolsJson)} bytes of JSON, over ${MAX_TOOLS_JSON_BYTES}`, {
      field: 'tools',
    });
  }
  let path: string;
  try {
    path = approvalExtensionPath(config);
  } catch (error) {
    // Nothing needs it but structured output: without the file (a bundled app), the session runs
    // without it, and a prompt with `output` says why it can't (see `hasExtension`).
    if (needed) throw error;
    return config;
  }
  // With an allowlist (`--tools`), pi activates only the tools named in it: add pidriver's.
  const allowlist = config.tools && [
    ...new Set([...config.tools, ...hostTools.map((tool) => tool.name), OUTPUT_TOOL_NAME, ...(options.askTool ? ['ask_user'] : [])]),
  ];
  return config.with({
    extensions: config.extensions.includes(path) ? [...config.extensions] : [...config.extensions, path],
    ...(allowlist ? { tools: allowlist } : {}),
    extraEnv: {
      ...config.extraEnv,
      PIDRIVER_APPROVE: tools === 'all' ? 'all' : tools === 'none' ? 'none' : tools.join(','),
      ...(options.askTool ? { PIDRIVER_ASK_TOOL: '1' } : {}),
      ...(options.nonce !== undefined ? { PIDRIVER_NONCE: options.nonce } : {}),
      ...(hostTools.length > 0 ? { PIDRIVER_HOST_TOOLS: toolsJson } : {}),
    },
  });
}

/** Whether pidriver's extension is in this config with this nonce (structured output on pi needs it). @internal */
export function hasExtension(config: PiConfig, nonce: string): boolean {
  return config.extraEnv['PIDRIVER_NONCE'] === nonce;
}

function checkToolNames(tools: readonly ToolSpec[]): void {
  const seen = new Set<string>();
  for (const { name } of tools) {
    if (RESERVED_TOOL_NAMES.has(name))
      throw new PiConfigError(`tools: "${name}" is the name of a built-in tool; give the host tool another name`, { field: 'tools' });
    if (seen.has(name)) throw new PiConfigError(`tools: two host tools are named "${name}"`, { field: 'tools' });
    seen.add(name);
  }
}
