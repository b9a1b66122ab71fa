import { homedir } from 'node:os';
import { join } from 'node:path';
import { PiConfigError } from '../errors.js';
import { checkAbsolutePath } from './checkAbsolutePath.js';

/**
 * The directory under which pi keeps its session files, as pi itself lays them out:
 * - `sessionDir` (pi's `--session-dir`): the files are in it, one flat directory for all cwds;
 * - `agentDir` (pi's `PI_CODING_AGENT_DIR`): `<agentDir>/sessions/<cwd-slug>/`, one directory per cwd;
 * - neither: `~/.pi/agent/sessions`, where a pi that pidriver starts without `agentDir` or
 *   `sessionDir` keeps them. pidriver gives pi a scrubbed environment, so a
 *   `PI_CODING_AGENT_DIR` or `PI_CODING_AGENT_SESSION_DIR` of this process is not read here
 *   either, nor a `sessionDir` in pi's `settings.json`: pass the directory explicitly.
 *
 * @param options `agentDir` or `sessionDir`, at most one, each an absolute path.
 * @return The root directory to search (it may not exist).
 * @throws {PiConfigError} for both, a relative path, or a NUL byte, naming the field.
 */
export function sessionsRoot(options: { readonly agentDir?: string | undefined; readonly sessionDir?: string | undefined }): string {
  const { agentDir, sessionDir } = options;
  if (agentDir !== undefined && sessionDir !== undefined) {
    const message = 'give agentDir or sessionDir, not both';
    throw new PiConfigError(message, {
      field: 'agentDir',
      issues: [
        { path: 'agentDir', message },
        { path: 'sessionDir', message },
      ],
    });
  }
  if (sessionDir !== undefined) return checkAbsolutePath('sessionDir', sessionDir);
  if (agentDir !== undefined) return join(checkAbsolutePath('agentDir', agentDir), 'sessions');
  return join(homedir(), '.pi', 'agent', 'sessions');
}
