import { type SchedulerLike, type Subscription } from 'rxjs';
import { longTimer } from '../rx/longTimer.js';
import { PiCommandError, PiTimeoutError } from '../errors.js';
import type { ResponseFrame } from '../protocol/frames.js';
import type { PiCommand } from '../protocol/commands.js';

interface PendingCommand {
  readonly id: string;
  readonly type: string;
  readonly resolve: (data: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timeout: Subscription | undefined;
}

export interface CommandChannelOptions {
  /** Writes one command line. */
  readonly write: (command: PiCommand) => Promise<void>;
  /** Default response timeout; `null` waits forever. */
  readonly timeoutMs: number | null;
  readonly scheduler: SchedulerLike;
  /** Prefix of generated ids (unique per session). */
  readonly idPrefix?: string;
}

/**
 * Correlates commands with their responses by `id`.
 *
 * pi answers out of order (it runs commands concurrently, G2), and pi 0.73 drops the `id` from
 * some failures (unknown command, G6): an id-less failure whose `command` names a pending
 * command's type fails the *oldest* such command. Every command has a timeout (an RxJS timer,
 * so tests run it in virtual time); when the process dies, {@link rejectAll} fails the rest.
 */
export class CommandChannel {
  readonly #options: CommandChannelOptions;
  readonly #pending = new Map<string, PendingCommand>();
  #nextId = 1;
  #closedError: Error | undefined;

  constructor(options: CommandChannelOptions) {
    this.#options = options;
  }

  /** Commands waiting for a response. */
  get size(): number {
    return this.#pending.size;
  }

  /**
   * Sends `command` with a fresh id and resolves with the response's `data`.
   *
   * @throws {PiCommandError} on `success: false`; {@link PiTimeoutError} when no response
   *   arrives in time; the transport's error when the write fails or the process died.
   */
  request(command: { readonly type: string; readonly [field: string]: unknown }, options: { timeoutMs?: number | null } = {}): Promise<unknown> {
    if (this.#closedError) return Promise.reject(this.#closedError);
    const id = `${this.#options.idPrefix ?? 'c'}${this.#nextId++}`;
    const timeoutMs = options.timeoutMs === undefined ? this.#options.timeoutMs : options.timeoutMs;
    return new Promise<unknown>((resolve, reject) => {
      const timeout =
        timeoutMs === null
          ? undefined
          : longTimer(timeoutMs, this.#options.scheduler).subscribe(() => {
              if (this.#pending.delete(id)) reject(new PiTimeoutError(`pi command "${command.type}"`, timeoutMs, `no response to id ${id}`));
            });
      this.#pending.set(id, { id, type: command.type, resolve, reject, timeout });
      this.#options.write({ ...command, id }).catch((error: unknown) => {
        if (this.#settle(id)) reject(error instanceof Error ? error : new Error(String(error)));
      });
    });
  }

  /**
   * Routes a response to its command. Returns false when it matches none (an unknown or
   * duplicate id, or an id-less failure of no pending type); the caller reports it.
   */
  handleResponse(frame: ResponseFrame): boolean {
    let pending = frame.id != null ? this.#pending.get(frame.id) : undefined;
    if (!pending && frame.id == null && !frame.success && frame.command) {
      pending = this.#oldestOfType(frame.command);
    }
    if (!pending) return false;
    this.#settle(pending.id);
    if (frame.success) pending.resolve(frame.data);
    else pending.reject(new PiCommandError(frame.command ?? pending.type, frame.error ?? 'unknown error', frame.data));
    return true;
  }

  /** Fails one pending command (e.g. its response could not be read). */
  failCommand(id: string, error: Error): boolean {
    const pending = this.#pending.get(id);
    if (!pending) return false;
    this.#settle(id);
    pending.reject(error);
    return true;
  }

  /** Fails every pending command, and every later one, with `error`. */
  rejectAll(error: Error): void {
    this.#closedError ??= error;
    for (const pending of [...this.#pending.values()]) {
      this.#settle(pending.id);
      pending.reject(error);
    }
  }

  #oldestOfType(type: string): PendingCommand | undefined {
    for (const pending of this.#pending.values()) if (pending.type === type) return pending;
    return undefined;
  }

  #settle(id: string): boolean {
    const pending = this.#pending.get(id);
    if (!pending) return false;
    pending.timeout?.unsubscribe();
    this.#pending.delete(id);
    return true;
  }
}
