import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';

/**
 * How many directory levels below the root are searched: pi's own layouts need one
 * (`sessions/<cwd-slug>/`) or none (a `--session-dir`); three, as `findSessionFile` searches.
 */
export const SESSION_DIR_DEPTH = 3;

/**
 * Finds the `.jsonl` files under a root directory, at most {@link SESSION_DIR_DEPTH} levels
 * down. Symbolic links, to files or directories, are followed only when their target is inside
 * the root (a link out of it is skipped), and a directory or file reached twice (a link loop, two
 * links to one place) is visited once. Unreadable directories and dangling links are skipped;
 * a missing root gives no files.
 *
 * @param root The directory to search.
 * @param signal Stops the search: the promise rejects with `signal.reason`.
 * @return The files' paths as found under `root` (a link's own path, not its target), sorted.
 */
export async function walkSessionFiles(root: string, signal?: AbortSignal): Promise<string[]> {
  signal?.throwIfAborted();
  const realRoot = await realpath(root).catch(() => undefined);
  if (realRoot === undefined) return [];
  const inside = (path: string): boolean => path === realRoot || path.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep);
  const seenDirs = new Set<string>();
  const seenFiles = new Set<string>();
  const found: string[] = [];

  const visit = async (dir: string, realDir: string, depth: number): Promise<void> => {
    signal?.throwIfAborted();
    if (seenDirs.has(realDir)) return;
    seenDirs.add(realDir);
    const dirents: Dirent[] = await readdir(dir, { withFileTypes: true }).catch(() => []);
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const dirent of dirents) {
      const path = join(dir, dirent.name);
      const target = dirent.isSymbolicLink() ? await linkTarget(path, inside) : { real: join(realDir, dirent.name), dirent };
      if (target === undefined) continue;
      if (target.dirent.isFile() && dirent.name.endsWith('.jsonl')) {
        if (!seenFiles.has(target.real)) found.push(path);
        seenFiles.add(target.real);
      } else if (target.dirent.isDirectory() && depth < SESSION_DIR_DEPTH) {
        await visit(path, target.real, depth + 1);
      }
    }
  };

  await visit(root, realRoot, 0);
  signal?.throwIfAborted();
  return found.sort();
}

/** What a link points to, if it resolves to a place inside the root. */
async function linkTarget(
  path: string,
  inside: (path: string) => boolean,
): Promise<{ readonly real: string; readonly dirent: { isFile(): boolean; isDirectory(): boolean } } | undefined> {
  const real = await realpath(path).catch(() => undefined);
  if (real === undefined || !inside(real)) return undefined;
  const stats = await stat(real).catch(() => undefined);
  return stats && { real, dirent: stats };
}
