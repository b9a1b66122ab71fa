import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { SessionEntrySchema, SessionHeaderSchema, type SessionEntry, type SessionHeader } from '../protocol/sessionEntries.js';
import { legacyEntryMigration } from './legacyEntryMigration.js';

/** What {@link readSessionFile} yields: the header first (with the file's mtime), then the entries. */
export type SessionFileItem = { readonly header: SessionHeader; readonly modified: Date } | { readonly entry: SessionEntry };

/** A line that is not JSON (or is blank). */
const MALFORMED = Symbol('malformed');

/**
 * Reads a pi session file line by line (a stream through `readline`: a file of any size is never
 * in memory at once), as pi reads one: blank and malformed lines are skipped; the first line that
 * parses must be a session header (after omp's `title` line, in omp's files), or the file is not a
 * session and nothing is yielded; after it,
 * every JSON object with a string `id` and `type` is an entry (others are skipped, as are repeated
 * headers), old formats migrated as pi migrates them (see {@link legacyEntryMigration}).
 *
 * Opens the file without blocking on a FIFO or device, and refuses anything but a regular file.
 *
 * @param path The file.
 * @param signal Stops reading: the iteration throws `signal.reason`.
 * @return The header, then each entry, in file order.
 * @throws The file system's error when the file cannot be opened or read; an `Error` when it
 * is not a regular file (a directory, a FIFO).
 */
export async function* readSessionFile(path: string, signal?: AbortSignal): AsyncGenerator<SessionFileItem, void, undefined> {
  signal?.throwIfAborted();
  const file = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const stats = await file.stat();
    if (!stats.isFile()) throw new Error(`not a regular file: ${path}`);
    const input = file.createReadStream({ autoClose: false, start: 0 });
    const lines = createInterface({ input, crlfDelay: Infinity, ...(signal ? { signal } : {}) });
    try {
      let migrate: ((raw: Record<string, unknown>) => void) | undefined;
      let headerSeen = false;
      for await (const line of lines) {
        signal?.throwIfAborted();
        const value = parseLine(line);
        if (value === MALFORMED) continue;
        if (!headerSeen) {
          // omp writes a fixed-size `title` line above the header (rewritten in place as the title changes).
          if (isOmpTitle(value)) continue;
          const header = SessionHeaderSchema.safeParse(value);
          if (!header.success) return;
          headerSeen = true;
          migrate = legacyEntryMigration(header.data.version);
          yield { header: header.data, modified: stats.mtime };
          continue;
        }
        if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
        const raw = value as Record<string, unknown>;
        migrate?.(raw);
        if (raw['type'] === 'session') continue;
        const entry = SessionEntrySchema.safeParse(raw);
        if (entry.success) yield { entry: entry.data };
      }
    } catch (error) {
      signal?.throwIfAborted();
      throw error;
    } finally {
      lines.close();
      input.destroy();
    }
    signal?.throwIfAborted();
  } finally {
    await file.close();
  }
}

function isOmpTitle(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { readonly type?: unknown }).type === 'title';
}

function parseLine(line: string): unknown {
  if (!line.trim()) return MALFORMED;
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return MALFORMED;
  }
}
