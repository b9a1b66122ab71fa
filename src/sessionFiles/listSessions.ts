import { sessionInfoOf } from './sessionInfoOf.js';
import type { SessionInfo } from './SessionInfo.js';
import { checkAbsolutePath } from './checkAbsolutePath.js';
import { sessionsRoot } from './sessionsRoot.js';
import { walkSessionFiles } from './walkSessionFiles.js';

/** Options of {@link listSessions}. */
export interface ListSessionsOptions {
  /**
   * pi's agent directory (`PiConfig.agentDir`, `PI_CODING_AGENT_DIR`): sessions are read from
   * `<agentDir>/sessions/`. Absolute. Not with `sessionDir`.
   */
  readonly agentDir?: string;
  /** pi's session directory (`PiConfig.sessionDir`, `--session-dir`). Absolute. Not with `agentDir`. */
  readonly sessionDir?: string;
  /** Only the sessions that ran in this directory (their header's `cwd`, both resolved). Absolute. */
  readonly cwd?: string;
  /** Stops listing: the promise rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
}

/** Files read at once (pi reads 10 at a time too). */
const CONCURRENT_READS = 10;

/**
 * Lists the sessions pi saved, newest first, from the files alone: no pi process is started, and
 * nothing is written.
 *
 * Searches `sessionDir`, or `<agentDir>/sessions`, or with neither `~/.pi/agent/sessions` (a
 * pi started by pidriver without either keeps its sessions there; environment variables and pi's
 * `settings.json` are not read), up to three directory levels down, for `*.jsonl` files that start
 * with a session header. Each file is read once as a stream (ten at a time), so large sessions
 * cost time, not memory. Links are followed only within that directory.
 *
 * Reports what pi's own session list reports (see {@link SessionInfo}); sorted by `updatedAt`,
 * newest first (then by path). Files that are not sessions, unreadable or malformed lines, and a
 * missing directory are skipped: the result is then shorter, possibly `[]`, never an error.
 *
 * ## Example
 * ```ts
 * const [latest] = await listSessions({ agentDir, cwd: process.cwd() });
 * if (latest) await client.start({ cwd: latest.cwd, resume: latest.id });
 * ```
 *
 * @param options Where to look (`agentDir` or `sessionDir`), which `cwd`, a `signal`.
 * @return The sessions, newest first.
 * @throws {PiConfigError} (as a rejection) when both `agentDir` and `sessionDir` are given, or a
 * path is relative, empty or holds a NUL byte; `field` names the option.
 */
export async function listSessions(options: ListSessionsOptions = {}): Promise<SessionInfo[]> {
  const { signal } = options;
  const root = sessionsRoot(options);
  const cwd = options.cwd === undefined ? undefined : checkAbsolutePath('cwd', options.cwd);
  signal?.throwIfAborted();
  const paths = await walkSessionFiles(root, signal);
  const infos = await mapConcurrently(paths, CONCURRENT_READS, async (path) => {
    try {
      return await sessionInfoOf(path, cwd, signal);
    } catch {
      signal?.throwIfAborted();
      return undefined; // unreadable (gone, no permission): not a session we can list
    }
  });
  return infos
    .filter((info): info is SessionInfo => info !== undefined)
    .sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime() || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * `items.map(map)` with at most `limit` calls in flight. Rejects with the first rejection, once
 * every call has settled (so no file is still open when it does).
 */
async function mapConcurrently<T, R>(items: readonly T[], limit: number, map: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await map(items[index]!);
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failure = settled.find((outcome) => outcome.status === 'rejected');
  if (failure) throw failure.reason;
  return results;
}
