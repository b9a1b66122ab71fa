import { readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';
import type { PiConfig } from '../config/PiConfig.js';
import { PiConfigError } from '../errors.js';

/** A session file and the session id in its name. */
interface Candidate {
  readonly path: string;
  readonly id: string;
}

/**
 * Finds pi's session file for a session id (or a unique prefix of one, as pi's own
 * `--session <id>` accepts). pi names session files `<timestamp>_<sessionId>.jsonl` under
 * `<sessionDir or agentDir/sessions>/<cwd-slug>/`. Resuming by path avoids a prompt: `--session <id>`
 * of another project's session makes pi ask a y/N question on stdin.
 *
 * The directories are the ones pi itself would use: `sessionDir`, else
 * `PI_CODING_AGENT_SESSION_DIR` from `extraEnv`, else `<agentDir>/sessions` (with `agentDir`
 * falling back to `PI_CODING_AGENT_DIR` from `extraEnv`, then `~/.pi/agent`). With several files
 * of the same session, the newest wins (the timestamps sort as text).
 *
 * @throws {PiConfigError} when the prefix matches more than one session.
 */
export async function findSessionFile(config: PiConfig, sessionId: string, field = 'resume'): Promise<string | undefined> {
  const candidates: Candidate[] = [];
  await collect(sessionRoot(config), sessionId, 3, candidates);
  const exact = candidates.filter((candidate) => candidate.id === sessionId);
  const matches = exact.length > 0 ? exact : candidates;
  const ids = new Set(matches.map((candidate) => candidate.id));
  if (ids.size > 1) {
    // Only the count: the other sessions' ids are not the caller's to see.
    throw new PiConfigError(`${field}: "${sessionId}" matches ${ids.size} pi sessions; give more of the id`, { field });
  }
  return matches
    .map((candidate) => candidate.path)
    .sort((a, b) => basename(a).localeCompare(basename(b)))
    .at(-1);
}

/**
 * The file of a session given as a file path (it ends in `.jsonl` or has a `/`) or as a pi session
 * id (or a unique prefix of one, looked up with {@link findSessionFile}): what `resume` and
 * `switchSession` take. A relative path is resolved against this process's cwd, except with a
 * launcher, where the path is pi's side's and goes as it is.
 *
 * @param field The option that gave it, for errors (`resume`, `sessionPath`).
 * @throws {PiConfigError} naming `field` when no session file has that id, or the prefix is ambiguous.
 * @internal
 */
export async function sessionFileOf(config: PiConfig, ref: string, field: string): Promise<string> {
  if (ref.endsWith('.jsonl') || ref.includes('/')) return isAbsolute(ref) || config.launcher !== undefined ? ref : resolve(ref);
  const file = await findSessionFile(config, ref, field);
  if (!file) throw new PiConfigError(`${field}: no pi session file found for id "${ref}"`, { field });
  return file;
}

function sessionRoot(config: PiConfig): string {
  const env = config.extraEnv;
  const sessionDir = config.sessionDir ?? env['PI_CODING_AGENT_SESSION_DIR'];
  if (sessionDir) return sessionDir;
  const agentDir = config.agentDir ?? env['PI_CODING_AGENT_DIR'] ?? join(homedir(), '.pi', 'agent');
  return join(agentDir, 'sessions');
}

/** The session id in a session file name: what follows the timestamp's `_`. */
function idOf(fileName: string): string | undefined {
  if (!fileName.endsWith('.jsonl')) return undefined;
  const stem = fileName.slice(0, -'.jsonl'.length);
  const underscore = stem.indexOf('_');
  return underscore >= 0 ? stem.slice(underscore + 1) : stem;
}

async function collect(dir: string, sessionId: string, depth: number, into: Candidate[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const id = entry.isFile() ? idOf(entry.name) : undefined;
    if (id?.startsWith(sessionId)) into.push({ path: join(dir, entry.name), id });
  }
  if (depth === 0) return;
  for (const entry of entries) {
    if (entry.isDirectory()) await collect(join(dir, entry.name), sessionId, depth - 1, into);
  }
}
