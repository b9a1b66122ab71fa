/**
 * Small pi session files for the sessionFiles specs, shaped like the ones pi 0.73.1 writes
 * (see listSessions.e2e.spec.ts for real ones): a header line, then one entry per line.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Temporary directories made by {@link makeTempDir}; {@link removeTempDirs} removes them. */
const made: string[] = [];

/** A fresh temporary directory (its real path: the run's TMPDIR is already one). */
export async function makeTempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pidriver-sessionfiles-'));
  made.push(dir);
  return dir;
}

/** Removes every directory {@link makeTempDir} made (for `afterEach`). */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** Writes a JSONL file (creating its directory): objects are stringified, strings written as they are. */
export async function writeJsonl(path: string, lines: readonly unknown[], eol = '\n'): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join(eol) + eol);
  return path;
}

/** A version 3 session header. */
export function header(id: string, cwd: string, timestamp: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'session', version: 3, id, timestamp, cwd, ...extra };
}

/** A `message` entry; `at` is the message's own timestamp (ms), as pi writes it. */
export function message(
  id: string,
  parentId: string | null,
  role: 'user' | 'assistant' | 'toolResult' | 'custom',
  text: string,
  at: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    type: 'message',
    id,
    parentId,
    timestamp: new Date(at).toISOString(),
    message: { role, content: [{ type: 'text', text }], timestamp: at, ...extra },
  };
}

/** Any other entry. */
export function entry(type: string, id: string, parentId: string | null, at: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type, id, parentId, timestamp: new Date(at).toISOString(), ...extra };
}

/** A pi-style file name: `<ISO timestamp with - for : and .>_<id>.jsonl`. */
export function fileName(timestamp: string, id: string): string {
  return `${timestamp.replace(/[:.]/g, '-')}_${id}.jsonl`;
}

/** pi's directory name for a cwd under `<agentDir>/sessions/`. */
export function cwdSlug(cwd: string): string {
  return `--${cwd.replace(/^[/\\]/, '').replace(/[/\\:]/g, '-')}--`;
}
