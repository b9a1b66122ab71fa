/**
 * One saved pi session, as {@link listSessions} reports it (what pi's own session list shows).
 */
export interface SessionInfo {
  /** The session id (a UUID v7 for pi 0.73 and 1.x): what `PiClient.start({ resume })` takes. */
  readonly id: string;
  /** The session file (`<timestamp>_<id>.jsonl`), as found under the searched directory. */
  readonly path: string;
  /** The working directory the session ran in (its header's `cwd`; `''` in very old files). */
  readonly cwd: string;
  /** When the session began: its header's `timestamp` (the file's mtime if that is unreadable). */
  readonly createdAt: Date;
  /**
   * When it was last used, as pi sorts its list: the latest user or assistant message, else
   * `createdAt`. Not the file's mtime, which a rename or a label also moves.
   */
  readonly updatedAt: Date;
  /** The text of the first user message; absent when there is none with text. */
  readonly firstMessage?: string;
  /** How many `message` entries the file holds: user, assistant and tool results, on every branch. */
  readonly messageCount: number;
  /** The session's name (`set_session_name`, pi's `/name`), if it has one. */
  readonly name?: string;
  /** The session file this one was forked or cloned from (`fork`, `clone`, `--fork`). */
  readonly parentSession?: string;
}
