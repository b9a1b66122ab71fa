import { PiDriverError } from '../errors.js';
import type { SessionEntry, SessionHeader } from '../protocol/sessionEntries.js';
import { checkAbsolutePath } from './checkAbsolutePath.js';
import { readSessionFile } from './readSessionFile.js';

/** A session file's content: its header, and what pi 1.x's `get_entries` would answer for it. */
export interface SessionFileEntries {
  /** The header line: the session's id, cwd, start time, the file it was forked from. */
  readonly header: SessionHeader;
  /** Every entry, in file order (the header excluded). */
  readonly entries: SessionEntry[];
  /** The session's position: the id of the entry appended last; `null` when there is none. */
  readonly leafId: string | null;
}

/**
 * Reads a pi session file's entries, as pi loads the file when a session resumes: what
 * `get_entries` answers on pi 1.x (`{ entries, leafId }`), here for pi 0.73 too, which lacks that
 * command, and for sessions no pi is running. Pass the `entries` to `sessionTree` (in
 * `pidriver/protocol`) for what `get_tree` answers.
 *
 * `entries` are in file order, without the header. `leafId` is the last entry's id (pi's rule
 * when it loads a file: its position is the entry appended last, whatever its type), `null` for a
 * file with a header only. The file is read as a stream, line by line; blank and malformed lines
 * (not JSON, no string `id`) are skipped, as pi skips them; files of older formats are migrated
 * as pi migrates them.
 *
 * ## Example
 * ```ts
 * const { header, entries, leafId } = await readSessionEntries(info.path);
 * const tree = sessionTree(entries);
 * ```
 *
 * @param path The session file, an absolute path.
 * @param options `signal` stops reading: the promise rejects with `signal.reason`.
 * @return The header, the entries in file order, the leaf.
 * @throws {PiConfigError} (as a rejection) when `path` is not absolute or holds a NUL byte.
 * @throws {PiDriverError} with `code` `'PI_SESSION_FILE_UNREADABLE'` (the file system's error as
 * `cause`) when the file cannot be read or is not a regular file, or `'PI_SESSION_FILE_INVALID'`
 * when it does not start with a session header (an empty file, another JSONL file).
 */
export async function readSessionEntries(path: string, options: { readonly signal?: AbortSignal } = {}): Promise<SessionFileEntries> {
  const file = checkAbsolutePath('path', path);
  const { signal } = options;
  let header: SessionHeader | undefined;
  const entries: SessionEntry[] = [];
  try {
    for await (const item of readSessionFile(file, signal)) {
      if ('header' in item) header = item.header;
      else entries.push(item.entry);
    }
  } catch (error) {
    signal?.throwIfAborted();
    throw new PiDriverError(`cannot read the session file ${file}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
      code: 'PI_SESSION_FILE_UNREADABLE',
    });
  }
  if (header === undefined) {
    throw new PiDriverError(`not a pi session file (its first line is no session header): ${file}`, { code: 'PI_SESSION_FILE_INVALID' });
  }
  return { header, entries, leafId: entries.at(-1)?.id ?? null };
}
