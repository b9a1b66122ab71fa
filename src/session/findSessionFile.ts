import { readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { PiConfig } from '../config/PiConfig.js';

/**
 * Finds pi's session file for a session id. pi names session files
 * `<timestamp>_<sessionId>.jsonl` under `<sessionDir or agentDir/sessions>/<cwd-slug>/`.
 * Resuming by path avoids G15: `--session <id>` of another project's session makes pi ask
 * a y/N question on stdin.
 */
export async function findSessionFile(config: PiConfig, sessionId: string): Promise<string | undefined> {
  const root = config.sessionDir ?? join(config.agentDir ?? join(homedir(), '.pi', 'agent'), 'sessions');
  return search(root, sessionId, 3);
}

async function search(dir: string, sessionId: string, depth: number): Promise<string | undefined> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.isFile() && entry.name.endsWith('.jsonl') && entry.name.includes(sessionId)) return join(dir, entry.name);
  }
  if (depth === 0) return undefined;
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const found = await search(join(dir, entry.name), sessionId, depth - 1);
    if (found) return found;
  }
  return undefined;
}
