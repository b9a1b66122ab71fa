import type { PiConfig } from '../config/PiConfig.js';
import { PiConfigError, PiDriverError, PiUnsupportedError } from '../errors.js';
import { describeDialect, unsupportedCommandHint } from '../protocol/dialects.js';
import type { SessionChangedEvent } from '../protocol/events.js';
import { SessionEntriesDataSchema, SessionTreeDataSchema, type SessionEntriesData, type SessionTreeData } from '../protocol/sessionEntries.js';
import { sessionTree } from '../protocol/sessionTree.js';
import { SessionStateDataSchema, type PiStateData } from '../protocol/frames.js';
import { readSessionEntries } from '../sessionFiles/readSessionEntries.js';
import { readSessionFile } from '../sessionFiles/readSessionFile.js';
import type { CommandChannel } from './CommandChannel.js';
import { sessionFileOf } from './findSessionFile.js';
import type { SessionEvents } from './SessionEvents.js';
import type { SessionStore } from './SessionStore.js';
import type { WireDialect } from './WireDialect.js';

/** What changes the conversation of a session, and the command each dialect has for it. */
type Change = SessionChangedEvent['reason'];

/** Options of {@link SessionBranches}. @internal */
export interface SessionBranchesOptions {
  readonly config: PiConfig;
  readonly channel: CommandChannel;
  readonly dialect: WireDialect;
  readonly events: SessionEvents;
  readonly store: SessionStore;
  /** pi's `get_state` answer: the session learns its new pi session id and file. */
  readonly applyState: (state: PiStateData) => void;
  /** pi's session file, as pi last said. */
  readonly sessionFile: () => string | undefined;
  /** Runs a change with queued prompts held back (`RunTracker.hold`). */
  readonly hold: <T>(change: () => Promise<T>) => Promise<T>;
  /** The error once the session is closing or closed; `undefined` while open. */
  readonly closedError: () => Error | undefined;
}

/** What `fork()` resolves with. */
export interface ForkResult {
  /** The text of the user message the fork was made before (to edit and send again). */
  readonly text: string;
}

/**
 * A session's conversations: the typed `new_session` / `fork` (omp `branch`) / `clone` /
 * `switch_session` commands, each followed by a `get_state` and a `session_changed` event so that
 * `piSessionId`, `state$` and the replay window are current when it resolves; and the session's
 * entries and tree (`get_entries` / `get_tree`, read from pi's session file on a pi without them).
 *
 * @internal
 */
export class SessionBranches {
  readonly #options: SessionBranchesOptions;
  /** A change in flight: pi must not get two at once (it gives odd results when they race). */
  #changing: Promise<unknown> = Promise.resolve();

  constructor(options: SessionBranchesOptions) {
    this.#options = options;
  }

  newSession(parentSession: string | undefined): Promise<void> {
    if (parentSession !== undefined && (typeof parentSession !== 'string' || parentSession.includes('\0'))) {
      return Promise.reject(new PiConfigError('newSession: parentSession must be a string (a session file path)', { field: 'parentSession' }));
    }
    return this.#change('new', 'new_session', parentSession === undefined ? {} : { parentSession }).then(() => undefined);
  }

  fork(entryId: string): Promise<ForkResult> {
    if (typeof entryId !== 'string' || entryId.trim() === '')
      return Promise.reject(new PiConfigError('fork: entryId must be a non-empty string', { field: 'entryId' }));
    const command = this.#options.dialect.capabilities.dialect === 'omp' ? 'branch' : 'fork';
    return this.#change('fork', command, { entryId }).then((data) => ({ text: textOf(data) }));
  }

  clone(): Promise<void> {
    return this.#change('clone', 'clone', {}).then(() => undefined);
  }

  async switchSession(pathOrId: string): Promise<void> {
    if (typeof pathOrId !== 'string' || pathOrId.trim() === '' || pathOrId.includes('\0')) {
      throw new PiConfigError('switchSession: give a session file path or a pi session id', { field: 'sessionPath' });
    }
    const { config } = this.#options;
    const sessionPath = await sessionFileOf(config, pathOrId, 'sessionPath');
    // pi 0.73 "switches" to any path, a missing file or one that is no session included: check it here.
    if (config.launcher === undefined) await assertSessionFile(sessionPath);
    await this.#change('switch', 'switch_session', { sessionPath });
  }

  /** The session's entries: `get_entries`, or pi's session file on a pi without it. */
  async getEntries(): Promise<SessionEntriesData> {
    if (this.#serves('get_entries')) return SessionEntriesDataSchema.parse(await this.#options.channel.request({ type: 'get_entries' }));
    const file = await this.#fileEntries('getEntries');
    return { entries: file.entries, leafId: file.leafId };
  }

  /** The session's tree: `get_tree`, or built from pi's session file on a pi without it. */
  async getTree(): Promise<SessionTreeData> {
    if (this.#serves('get_tree')) return SessionTreeDataSchema.parse(await this.#options.channel.request({ type: 'get_tree' }));
    const file = await this.#fileEntries('getTree');
    return { tree: sessionTree(file.entries), leafId: file.leafId };
  }

  #serves(command: string): boolean {
    return unsupportedCommandHint(this.#options.dialect.capabilities, command) === undefined;
  }

  /** The entries in pi's session file, for a pi that can't list them (pi 0.73, omp before 18.3.1). */
  async #fileEntries(operation: string): Promise<{ readonly entries: SessionEntriesData['entries']; readonly leafId: string | null }> {
    const { config, dialect, sessionFile } = this.#options;
    const file = sessionFile();
    if (config.launcher !== undefined || file === undefined) {
      const where = config.launcher !== undefined ? 'its session file is on the launcher’s side' : 'this session has no file (an in-memory session)';
      throw new PiUnsupportedError(operation, describeDialect(dialect.capabilities), `it has no get_entries/get_tree, and ${where}`);
    }
    try {
      return await readSessionEntries(file);
    } catch (error) {
      // pi writes the file with its first answer: until then the session has no entries.
      if (error instanceof PiDriverError && error.code === 'PI_SESSION_FILE_UNREADABLE' && isMissing(error.cause)) return { entries: [], leafId: null };
      throw error;
    }
  }

  /**
   * One change of the conversation, after the one before it: the command (refused while a run is
   * going: pi would mix the two), then `get_state`, then `session_changed` at the head of a fresh
   * replay window.
   */
  #change(reason: Change, command: string, fields: Record<string, unknown>): Promise<unknown> {
    const run = this.#changing.catch(() => undefined).then(() => this.#options.hold(() => this.#changeNow(reason, command, fields)));
    this.#changing = run;
    return run;
  }

  async #changeNow(reason: Change, command: string, fields: Record<string, unknown>): Promise<unknown> {
    const { channel, dialect, events, store, applyState } = this.#options;
    const hint = unsupportedCommandHint(dialect.capabilities, command);
    if (hint !== undefined) throw new PiUnsupportedError(`${methodOf(reason)}()`, describeDialect(dialect.capabilities), hint || undefined);
    const closed = this.#options.closedError();
    if (closed) throw closed;
    const { status, queuedPrompts } = store.value;
    if (status !== 'idle' || queuedPrompts > 0) {
      const why =
        status === 'restarting'
          ? 'while pi restarts: wait until state$ says idle'
          : `while ${status === 'idle' ? 'a prompt is queued' : 'a run is going'}: wait for it to end (or abort() it) first`;
      throw new PiDriverError(`${methodOf(reason)}() ${why}`, { code: 'PI_BUSY' });
    }
    const data = await channel.request({ type: command, ...fields });
    if (isCancelled(data)) {
      throw new PiDriverError(`${methodOf(reason)}() was cancelled by a pi extension`, { code: 'PI_CANCELLED' });
    }
    const state = SessionStateDataSchema.parse(await channel.request({ type: 'get_state' }));
    applyState(state);
    // The conversation before is not this one's: a late subscriber's replay starts here.
    events.startWindow();
    const sessionFile = state.sessionFile ?? undefined;
    events.emit(
      {
        type: 'session_changed',
        reason,
        ...(state.sessionId ? { piSessionId: state.sessionId } : {}),
        ...(sessionFile === undefined ? {} : { sessionFile }),
        raw: undefined,
      },
      128,
    );
    events.endWindow();
    return data;
  }
}

function methodOf(reason: Change): string {
  return { new: 'newSession', fork: 'fork', clone: 'clone', switch: 'switchSession' }[reason];
}

function isCancelled(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as { readonly cancelled?: unknown }).cancelled === true;
}

function textOf(data: unknown): string {
  const text = typeof data === 'object' && data !== null ? (data as { readonly text?: unknown }).text : undefined;
  return typeof text === 'string' ? text : '';
}

/** A local path that is a pi session file (its header is read, nothing more). */
async function assertSessionFile(path: string): Promise<void> {
  let header = false;
  try {
    for await (const item of readSessionFile(path)) {
      header = 'header' in item;
      break;
    }
  } catch (error) {
    throw new PiConfigError(`switchSession: cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`, {
      field: 'sessionPath',
      cause: error,
    });
  }
  if (!header) throw new PiConfigError(`switchSession: not a pi session file: ${path}`, { field: 'sessionPath' });
}

function isMissing(cause: unknown): boolean {
  return typeof cause === 'object' && cause !== null && (cause as { readonly code?: unknown }).code === 'ENOENT';
}
