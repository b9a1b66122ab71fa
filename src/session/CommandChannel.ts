import { firstValueFrom, Observable, type SchedulerLike, type Subscription } from 'rxjs';
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
 * pi answers out of order (it runs commands concurrently), and pi 0.73 drops the `id` from
 * some failures (an unknown command, for one): an id-less failure whose `command` names a pending
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
   * Sends `command` with a fresh id and resolves with the response's `data`: the first value of
   * {@link request$}.
   *
   * @throws {PiCommandError} on `success: false`; {@link PiTimeoutError} when no response
   *   arrives in time; the transport's error when the write fails or the process died.
   */
  request(command: { readonly type: string; readonly [field: string]: unknown }, options: { timeoutMs?: number | null } = {}): Promise<unknown> {
    return firstValueFrom(this.request$(command, options));
  }

  /**
   * A command, cold: subscribing writes it with a fresh id; the response's `data` is emitted and
   * the stream completes (errors as {@link request} rejects). Unsubscribing before the answer
   * forgets it: the answer is then swallowed, not reported as unmatched.
   */
  request$(command: { readonly type: string; readonly [field: string]: unknown }, options: { timeoutMs?: number | null } = {}): Observable<unknown> {
    return new Observable<unknown>((subscriber) => {
      if (this.#closedError) {
        subscriber.error(this.#closedError);
        return undefined;
      }
      const id = `${this.#options.idPrefix ?? 'c'}${this.#nextId++}`;
      const timeoutMs = options.timeoutMs === undefined ? this.#options.timeoutMs : options.timeoutMs;
      const pending: PendingCommand = {
        id,
        type: command.type,
        resolve: (data) => {
          subscriber.next(data);
          subscriber.complete();
        },
        reject: (error) => subscriber.error(error),
        timeout:
          timeoutMs === null
            ? undefined
            : longTimer(timeoutMs, this.#options.scheduler).subscribe(() => {
                if (this.#settle(id)) subscriber.error(new PiTimeoutError(`pi command "${command.type}"`, timeoutMs, `no response to id ${id}`));
              }),
      };
      this.#pending.set(id, pending);
      this.#options.write({ ...command, id }).catch((error: unknown) => {
        if (this.#settle(id)) subscriber.error(error instanceof Error ? error : new Error(String(error)));
      });
      return () => {
        // Abandoned before the answer: keep the id so the answer is recognised, and drop it then.
        const open = this.#pending.get(id);
        if (open === pending) this.#pending.set(id, { ...pending, resolve: noop, reject: noop });
      };
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
    this.failPending(error);
  }

  /** Fails every pending command with `error` (their process died); later ones go to the next process. */
  failPending(error: Error): void {
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

function noop(): void {
  // an abandoned command's answer
}
