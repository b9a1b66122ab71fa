import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isPidriverMcpJson, piMcpJson } from '../config/McpServers.js';
import type { PiConfig } from '../config/PiConfig.js';
import { PiConfigError, PiStartError } from '../errors.js';
import type { Dialect } from '../protocol/dialects.js';

/**
 * Writes `PiConfig.mcpServers` to `<agentDir>/mcp.json`, the only place pi 1.x reads MCP servers
 * from (besides a trusted project's `.pi/mcp.json`), before pi is spawned: the file pi reads when
 * its session starts (and again on `new_session` or a reload).
 *
 * - The file is pidriver's: it carries a `"pidriver"` key, and is replaced (atomically, mode 0600:
 *   `env` and `headers` often hold tokens) only when its content differs, so sessions that share
 *   an agent dir and the same servers never race. An `mcp.json` without that key is the user's,
 *   and is never touched: that is a `PiConfigError`.
 * - Without servers, a pidriver `mcp.json` left from an earlier session is removed when this pi
 *   would load MCP (pi 1.x with `noExtensions: false`), so it connects no server the config
 *   does not name. Under `noExtensions` (the default) pi never reads it, and it stays.
 * - With a launcher the agent dir is on the other side: nothing is done (`mcpServers` is refused
 *   there when the config is parsed).
 *
 * Call it after `config.toArgv()` accepted the servers for this dialect.
 *
 * @param config The config pi is spawned with.
 * @param options `agentDir`, the `PI_CODING_AGENT_DIR` of pi's environment; `dialect`, the detected one.
 * @throws {PiConfigError} the agent dir holds an `mcp.json` pidriver did not write.
 * @throws {PiStartError} the file could not be written.
 * @internal
 */
export async function writeMcpConfig(config: PiConfig, options: { readonly agentDir: string | undefined; readonly dialect: Dialect }): Promise<void> {
  const servers = config.mcpServers ?? {};
  const wanted = Object.keys(servers).length > 0;
  const { agentDir } = options;
  if (config.launcher !== undefined || agentDir === undefined) {
    if (wanted) throw new PiConfigError('PiConfig.mcpServers needs a private agentDir on this machine', { field: 'mcpServers' });
    return;
  }
  const loadsMcp = options.dialect === 'pi-1' && !config.noExtensions;
  if (!wanted && !loadsMcp) return;

  const path = join(agentDir, 'mcp.json');
  const existing = await readFile(path, 'utf8').catch((error: unknown) => {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
    throw new PiStartError(`Could not read ${path}: ${(error as Error).message}`, { cause: error });
  });
  const ours = existing !== undefined && isPidriverMcpJson(parseJson(existing));
  if (!wanted) {
    if (ours) await rm(path, { force: true });
    return;
  }
  if (existing !== undefined && !ours) {
    throw new PiConfigError(
      `PiConfig.mcpServers: ${path} exists and was not written by pidriver: move its servers into PiConfig.mcpServers and delete it, or use another agentDir`,
      { field: 'mcpServers' },
    );
  }
  const content = `${JSON.stringify(piMcpJson(servers), null, 2)}\n`;
  if (existing === content) return;
  const temporary = `${path}.${randomUUID()}.tmp`;
  try {
    await mkdir(agentDir, { recursive: true, mode: 0o700 });
    await writeFile(temporary, content, { mode: 0o600 });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new PiStartError(`Could not write the MCP servers to ${path}: ${(error as Error).message}`, { cause: error });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
