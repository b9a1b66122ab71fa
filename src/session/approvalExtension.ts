import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PiConfig } from '../config/PiConfig.js';
import { PiConfigError } from '../errors.js';

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

/**
 * The config with approvals wired in: for pi, the approval extension (`-e`, which loads even
 * with `--no-extensions`) and `PIDRIVER_APPROVE`; for omp, its built-in
 * `--approval-mode always-ask` (omp asks with the same `Approve`/`Deny` select).
 *
 * `askTool` also registers the extension's `ask_user` tool (the model asks the host a question
 * through `ctx.ui.input`): off by default, since it changes the tools the model sees.
 */
export function withApprovals(config: PiConfig, approve: ApproveSetting, options: { askTool?: boolean } = {}): PiConfig {
  const tools = approve === 'all' || approve === 'none' ? approve : [...approve];
  const guards = !(tools === 'none' || (Array.isArray(tools) && tools.length === 0));
  if (config.dialect === 'omp' || (config.dialect === undefined && (config.binary === 'omp' || config.binary.endsWith('/omp')))) {
    if (!guards || config.extraArgs.includes('--approval-mode')) return config;
    return config.with({ extraArgs: [...config.extraArgs, '--approval-mode', 'always-ask'] });
  }
  if (!guards && !options.askTool) return config;
  const path = approvalExtensionPath(config);
  return config.with({
    extensions: config.extensions.includes(path) ? [...config.extensions] : [...config.extensions, path],
    extraEnv: {
      ...config.extraEnv,
      PIDRIVER_APPROVE: tools === 'all' ? 'all' : tools === 'none' ? 'none' : tools.join(','),
      ...(options.askTool ? { PIDRIVER_ASK_TOOL: '1' } : {}),
    },
  });
}
